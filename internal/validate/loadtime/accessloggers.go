//go:build !appnet_lean

package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/process_ratelimit/v3"
	fluentdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/fluentd/v3"
	otelv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/open_telemetry/v3"
	statsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stats/v3"
	otlpcommon "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Access logger extensions: the checks their factories make when Envoy builds a listener's access logs at load
// (source/extensions/access_loggers).

func init() {
	register("envoy.extensions.access_loggers.stats.v3.Config", statsAccessLog)
	register("envoy.extensions.access_loggers.fluentd.v3.FluentdAccessLogConfig", fluentdAccessLog)
	register("envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig", openTelemetryAccessLog)
	register("envoy.extensions.access_loggers.filters.process_ratelimit.v3.ProcessRateLimitFilter", processRateLimitFilter)
}

// processRateLimitFilter: the access log filter takes its token bucket from dynamic_config.
// Envoy: source/extensions/access_loggers/filters/process_ratelimit/filter.cc:36 [access-logs-243f86a1]
// (ProcessRateLimitFilter) — "`dynamic_config` is required."
func processRateLimitFilter(c *Context, m protoreflect.Message) {
	if f, ok := m.Interface().(*ratelimitfilterv3.ProcessRateLimitFilter); ok && f.GetDynamicConfig() == nil {
		c.envoyf(c.at("dynamic_config"), "source/extensions/access_loggers/filters/process_ratelimit/filter.cc", "`dynamic_config` is required.")
	}
}

const statsLoggerSource = "source/extensions/access_loggers/stats/stats.cc"

// statsAccessLog: each histogram, counter and gauge takes its value from exactly one substitution or a fixed
// value, and a gauge has either a set or a paired add/subtract operation with log types.
// Envoy: source/extensions/access_loggers/stats/stats.cc:89 [access-logs-59fb791c], :109 [access-logs-47285053], :162
// [access-logs-a3aa798d], :171 [access-logs-96738b9d], :181 [access-logs-a127de12], :187 [access-logs-76244fba], :199
// [access-logs-3189b906], :204 [access-logs-8ced7e63], :214 [access-logs-23300413], :224 [access-logs-14c3ff29], :232
// [access-logs-5f2295bf] (StatsAccessLog).
func statsAccessLog(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*statsv3.Config)
	if !ok {
		return
	}
	for i, h := range cfg.GetHistograms() {
		p := func() string { return index(c.at("histograms"), i) }
		if _, known := statsv3.Config_Histogram_Unit_name[int32(h.GetUnit())]; !known {
			c.envoyf(p()+".unit", statsLoggerSource, "Unknown histogram unit value in stats logger: %d", h.GetUnit())
		}
		c.statsValueFormat(func() string { return p() + ".value_format" }, h.GetValueFormat())
		c.statsTags(func() string { return p() + ".stat" }, h.GetStat())
	}
	for i, ct := range cfg.GetCounters() {
		p := func() string { return index(c.at("counters"), i) }
		c.statsValue(p, "counter", ct.GetValueFormat(), ct.GetValueFixed() != nil)
		c.statsTags(func() string { return p() + ".stat" }, ct.GetStat())
	}
	for i, g := range cfg.GetGauges() {
		p := func() string { return index(c.at("gauges"), i) }
		addSub, set := g.GetAddSubtract(), g.GetSet()
		switch {
		case addSub != nil && set != nil:
			c.envoyf(p()+".set", statsLoggerSource, "Stats logger gauge cannot have both SET and PAIRED_ADD/PAIRED_SUBTRACT operations.")
			continue
		case addSub == nil && set == nil:
			c.envoyf(p(), statsLoggerSource, "Stats logger gauge must have at least one operation configured. (set or add_subtract)")
			continue
		case addSub != nil && (addSub.GetAddLogType() == 0 || addSub.GetSubLogType() == 0):
			c.envoyf(p()+".add_subtract", statsLoggerSource, "Stats logger gauge add/subtract operation must have a valid log type. (add_log_type and sub_log_type other than NotSet)")
			continue
		case addSub != nil && addSub.GetAddLogType() == addSub.GetSubLogType():
			c.envoyf(p()+".add_subtract", statsLoggerSource, "Duplicate access log type '%d' in gauge operations.", addSub.GetAddLogType())
			continue
		case set != nil && set.GetLogType() == 0:
			c.envoyf(p()+".set.log_type", statsLoggerSource, "Stats logger gauge set operation must have a valid log type. (other than NotSet)")
			continue
		}
		c.statsTags(func() string { return p() + ".stat" }, g.GetStat())
		c.statsValue(p, "gauge", g.GetValueFormat(), g.GetValueFixed() != nil)
	}
}

// statsTags: each dynamic tag's value is a format.
func (c *Context) statsTags(p func() string, st *statsv3.Config_Stat) {
	for i, t := range st.GetTags() {
		c.formatString(func() string { return index(p()+".tags", i) + ".value_format" }, t.GetValueFormat(), nil)
	}
}

// statsValue: a counter's or gauge's value comes from value_format or value_fixed, not both.
func (c *Context) statsValue(p func() string, kind, format string, fixed bool) {
	switch {
	case format != "" && fixed:
		c.envoyf(p()+".value_fixed", statsLoggerSource, "Stats logger cannot have both `value_format` and `value_fixed` configured.")
	case format != "":
		c.statsValueFormat(func() string { return p() + ".value_format" }, format)
	case !fixed:
		c.envoyf(p(), statsLoggerSource, "Stats logger %s must have either `value_format` or `value_fixed`.", kind)
	}
}

// statsValueFormat: a value format parses to exactly one part, a single command.
func (c *Context) statsValueFormat(path func() string, format string) {
	if c.formatString(path, format, nil) && formatParts(format) != 1 {
		c.envoyf(path(), statsLoggerSource, "Stats logger `value_format` string must contain exactly one substitution (%q)", format)
	}
}

// formatParts counts the parts Envoy's parser makes of a well-formed format: each command, and each run of text
// between them (an empty format is one empty part).
func formatParts(format string) int {
	parts, text := 0, false
	for pos := 0; pos < len(format); {
		if format[pos] != '%' {
			text = true
			pos++
			continue
		}
		if pos+1 < len(format) && format[pos+1] == '%' {
			text = true
			pos += 2
			continue
		}
		m := commandRE().FindStringIndex(format[pos:])
		if m == nil {
			return -1
		}
		if text {
			parts++
			text = false
		}
		parts++
		pos += m[1]
	}
	if text || format == "" {
		parts++
	}
	return parts
}

// fluentdAccessLog: the logger sends to a cluster defined in static_resources, with a back-off whose ceiling is
// not below its base.
// Envoy: source/extensions/access_loggers/fluentd/config.cc:45 [access-logs-d7890a1c], :53 [access-logs-72f6e230]
// (checkActiveStaticCluster, BackOffStrategyUtils::validateBackOffStrategyConfig in
// source/common/common/backoff_strategy.h:109 [core-a34be95f]) — "cluster '<c>' was not found",
// "max_backoff_interval must be greater or equal to base_backoff_interval".
func fluentdAccessLog(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*fluentdv3.FluentdAccessLogConfig)
	if !ok || c.Ancestor("envoy.config.listener.v3.Listener") == nil {
		return
	}
	const src = "source/extensions/access_loggers/fluentd/config.cc"
	if cfg.GetRecord() != nil {
		c.formatStruct(func() string { return c.at("record") }, cfg.GetRecord(), cfg.GetFormatters())
	}
	if name := cfg.GetCluster(); name != "" && c.staticCluster(name) == nil {
		c.envoyf(c.at("cluster"), src, "cluster '%s' was not found (the Fluentd logger needs a cluster of static_resources)", name)
	}
	if b := cfg.GetRetryOptions().GetBackoffOptions(); b != nil {
		if base, max, ok := backoffMillis(b, 500, 10); !ok {
			c.envoyf(c.at("retry_options.backoff_options.max_interval"), src,
				"max_backoff_interval must be greater or equal to base_backoff_interval (max_interval must be greater "+
					"or equal to base_interval: %d ms < %d ms)", max, base)
		}
	}
}

// openTelemetryAccessLog: one transport, and log body and attributes made of strings, lists and maps (whose
// strings are formats).
// Envoy: source/extensions/access_loggers/open_telemetry/config.cc:66 [access-logs-a425ccce], :72
// [access-logs-92fbca55]; substitution_formatter.cc:47 [access-logs-b37a88c2], :72 [access-logs-5a626af9].
func openTelemetryAccessLog(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*otelv3.OpenTelemetryAccessLogConfig)
	if !ok {
		return
	}
	const src = "source/extensions/access_loggers/open_telemetry/config.cc"
	transports := 0
	for _, set := range []bool{cfg.GetGrpcService() != nil, cfg.GetHttpService() != nil, cfg.GetCommonConfig().GetGrpcService() != nil} {
		if set {
			transports++
		}
	}
	switch {
	case transports == 0:
		c.envoyf(c.Path(), src, "OpenTelemetry access logger requires one of: grpc_service, http_service, or common_config.grpc_service to be configured.")
	case transports > 1:
		c.envoyf(c.Path(), src, "OpenTelemetry access logger can only have one transport configured. Specify exactly one of: grpc_service, http_service, or common_config.grpc_service.")
	}
	ext := cfg.GetFormatters()
	if body := cfg.GetBody(); body != nil && body.GetValue() != nil {
		c.otelValue(func() string { return c.at("body") }, body, ext, 0)
	}
	for i, kv := range cfg.GetAttributes().GetValues() {
		c.otelValue(func() string { return index(c.at("attributes.values"), i) + ".value" }, kv.GetValue(), ext, 0)
	}
}

// otelValue checks one value of an OpenTelemetry log format.
func (c *Context) otelValue(path func() string, v *otlpcommon.AnyValue, ext []*corev3.TypedExtensionConfig, depth int) {
	if depth > 32 {
		return
	}
	switch k := v.GetValue().(type) {
	case *otlpcommon.AnyValue_StringValue:
		c.formatString(path, k.StringValue, ext)
	case *otlpcommon.AnyValue_KvlistValue:
		for i, kv := range k.KvlistValue.GetValues() {
			c.otelValue(func() string { return index(path()+".kvlist_value.values", i) + ".value" }, kv.GetValue(), ext, depth+1)
		}
	case *otlpcommon.AnyValue_ArrayValue:
		for i, e := range k.ArrayValue.GetValues() {
			c.otelValue(func() string { return index(path()+".array_value.values", i) }, e, ext, depth+1)
		}
	default:
		c.envoyf(path(), "source/extensions/access_loggers/open_telemetry/substitution_formatter.cc",
			"Only string values, nested key value lists and array values are supported in OpenTelemetry access log format.")
	}
}
