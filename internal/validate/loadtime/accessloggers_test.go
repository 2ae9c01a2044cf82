package loadtime_test

import "testing"

func TestAccessLoggerRules(t *testing.T) { runRules(t, casesAccessLoggerRules()) }

func casesAccessLoggerRules() []ruleCase {
	logger := func(typ, body string) string {
		return hcm("access_log: [{name: l, typed_config: {'@type': type.googleapis.com/" + typ + ", " + body + "}}]\n")
	}
	const al = hcmPath + ".access_log[0].typed_config"
	stats := func(body string) string {
		return logger("envoy.extensions.access_loggers.stats.v3.Config", "stat_prefix: s, "+body)
	}
	const st = al + "<Config>"
	fluentd := func(body string) string {
		return logger("envoy.extensions.access_loggers.fluentd.v3.FluentdAccessLogConfig", "tag: t, stat_prefix: f, "+body)
	}
	const fl = al + "<FluentdAccessLogConfig>"
	otel := func(body string) string {
		return logger("envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig", body)
	}
	const ot = al + "<OpenTelemetryAccessLogConfig>"
	const grpc = "grpc_service: {envoy_grpc: {cluster_name: app}}"
	return []ruleCase{
		{"stats logger", stats("histograms: [{stat: {name: h, tags: [{name: code, value_format: '%RESPONSE_CODE%'}]}, unit: Milliseconds, value_format: '%DURATION%'}], " +
			"counters: [{stat: {name: c}, value_fixed: 1}, {stat: {name: b}, value_format: '%BYTES_SENT%'}], " +
			"gauges: [{stat: {name: g}, value_fixed: 1, add_subtract: {add_log_type: DownstreamStart, sub_log_type: DownstreamEnd}}, {stat: {name: s}, value_format: '%BYTES_SENT%', set: {log_type: DownstreamEnd}}]"), "", ""},
		{"stats logger value with text", stats("histograms: [{stat: {name: h}, value_format: 'ms=%DURATION%'}]"),
			st + ".histograms[0].value_format", "Stats logger `value_format` string must contain exactly one substitution"},
		{"stats logger unknown unit", stats("histograms: [{stat: {name: h}, unit: 9, value_format: '%DURATION%'}]"),
			st + ".histograms[0].unit", "Unknown histogram unit value in stats logger: 9"},
		{"stats logger counter with two values", stats("counters: [{stat: {name: c}, value_fixed: 1, value_format: '%BYTES_SENT%'}]"),
			st + ".counters[0].value_fixed", "Stats logger cannot have both `value_format` and `value_fixed` configured."},
		{"stats logger counter without value", stats("counters: [{stat: {name: c}}]"),
			st + ".counters[0]", "Stats logger counter must have either `value_format` or `value_fixed`."},
		{"stats logger gauge with two operations", stats("gauges: [{stat: {name: g}, value_fixed: 1, set: {log_type: DownstreamEnd}, add_subtract: {add_log_type: DownstreamStart, sub_log_type: DownstreamEnd}}]"),
			st + ".gauges[0].set", "Stats logger gauge cannot have both SET and PAIRED_ADD/PAIRED_SUBTRACT operations."},
		{"stats logger gauge without operation", stats("gauges: [{stat: {name: g}, value_fixed: 1}]"),
			st + ".gauges[0]", "Stats logger gauge must have at least one operation configured."},
		{"stats logger gauge add without type", stats("gauges: [{stat: {name: g}, value_fixed: 1, add_subtract: {add_log_type: DownstreamStart}}]"),
			st + ".gauges[0].add_subtract", "Stats logger gauge add/subtract operation must have a valid log type."},
		{"stats logger gauge add and subtract alike", stats("gauges: [{stat: {name: g}, value_fixed: 1, add_subtract: {add_log_type: DownstreamEnd, sub_log_type: DownstreamEnd}}]"),
			st + ".gauges[0].add_subtract", "in gauge operations."},
		{"stats logger gauge set without type", stats("gauges: [{stat: {name: g}, value_fixed: 1, set: {}}]"),
			st + ".gauges[0].set.log_type", "Stats logger gauge set operation must have a valid log type."},
		{"stats logger gauge with two values", stats("gauges: [{stat: {name: g}, value_fixed: 1, value_format: '%BYTES_SENT%', set: {log_type: DownstreamEnd}}]"),
			st + ".gauges[0].value_fixed", "Stats logger cannot have both `value_format` and `value_fixed` configured."},
		{"stats logger gauge without value", stats("gauges: [{stat: {name: g}, set: {log_type: DownstreamEnd}}]"),
			st + ".gauges[0]", "Stats logger gauge must have either `value_format` or `value_fixed`."},
		{"fluentd", fluentd("cluster: app, record: {status: '%RESPONSE_CODE%'}, retry_options: {backoff_options: {base_interval: 1s, max_interval: 1s}}"), "", ""},
		{"fluentd default back-off ceiling", fluentd("cluster: app, record: {a: b}, retry_options: {backoff_options: {base_interval: 2s}}"), "", ""},
		{"fluentd unknown cluster", fluentd("cluster: fluentd, record: {a: b}"), fl + ".cluster", "cluster 'fluentd' was not found"},
		{"fluentd back-off", fluentd("cluster: app, record: {a: b}, retry_options: {backoff_options: {base_interval: 1s, max_interval: 0.5s}}"),
			fl + ".retry_options.backoff_options.max_interval", "max_backoff_interval must be greater or equal to base_backoff_interval"},
		{"fluentd record format", fluentd("cluster: app, record: {path: '%REQ%'}"), fl + ".record[\"path\"]", "REQ requires parameters"},
		{"opentelemetry logger", otel(grpc + ", body: {string_value: '%REQ(:PATH)%'}, attributes: {values: [{key: a, value: {kvlist_value: {values: [{key: b, value: {array_value: {values: [{string_value: '%RESPONSE_CODE%'}]}}}]}}}]}"), "", ""},
		{"opentelemetry logger without transport", otel("log_name: l"), ot, "OpenTelemetry access logger requires one of: grpc_service, http_service, or common_config.grpc_service"},
		{"opentelemetry logger with two transports", otel(grpc + ", common_config: {log_name: l, transport_api_version: V3, " + grpc + "}"), ot, "OpenTelemetry access logger can only have one transport configured."},
		{"opentelemetry logger number in body", otel(grpc + ", body: {int_value: 1}"), ot + ".body", "Only string values, nested key value lists and array values are supported"},
		{"opentelemetry logger number in list", otel(grpc + ", attributes: {values: [{key: a, value: {array_value: {values: [{bool_value: true}]}}}]}"),
			ot + ".attributes.values[0].value.array_value.values[0]", "Only string values, nested key value lists and array values are supported"},
		{"opentelemetry logger attribute format", otel(grpc + ", attributes: {values: [{key: a, value: {string_value: '%PROTOCOL:1%'}}]}"),
			ot + ".attributes.values[0].value", "PROTOCOL does not take any parameters or length"},
		{"process rate limit filter", hcm("access_log: [{name: l, filter: {extension_filter: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.filters.process_ratelimit.v3.ProcessRateLimitFilter, dynamic_config: {resource_name: r, config_source: {path_config_source: {path: /etc/r.yaml}}}}}}, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog}}]\n"), "", ""},
		{"process rate limit filter without config", hcm("access_log: [{name: l, filter: {extension_filter: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.filters.process_ratelimit.v3.ProcessRateLimitFilter}}}, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog}}]\n"),
			hcmPath + ".access_log[0].filter.extension_filter.typed_config<ProcessRateLimitFilter>.dynamic_config", "`dynamic_config` is required."},
	}
}

func init() { registerCases(casesAccessLoggerRules) }
