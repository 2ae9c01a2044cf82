package loadtime_test

import "testing"

func TestMoreTracerRules(t *testing.T) { runRules(t, casesMoreTracerRules()) }

func casesMoreTracerRules() []ruleCase {
	const zipkin = "'@type': type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: app, collector_endpoint: /api/v2/spans"
	const otel = "'@type': type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig, grpc_service: {envoy_grpc: {cluster_name: app}}, " +
		"sampler: {name: envoy.tracers.opentelemetry.samplers.cel, typed_config: {'@type': type.googleapis.com/envoy.extensions.tracers.opentelemetry.samplers.v3.CELSamplerConfig"
	const prov = hcmPath + ".tracing.provider.typed_config"
	return []ruleCase{
		{"zipkin without endpoint version", tracing(zipkin, ""),
			prov + "<ZipkinConfig>.collector_endpoint_version", "Please use a non-default envoy::config::trace::v3::ZipkinConfig::CollectorEndpointVersion value."},
		{"default zipkin without endpoint version", tracing("", zipkin),
			"tracing.http.typed_config<ZipkinConfig>.collector_endpoint_version", "hidden_envoy_deprecated_HTTP_JSON_V1 has been deprecated."},
		{"default zipkin without endpoint version, not used", "tracing: {http: {name: t, typed_config: {" + zipkin + "}}}\n" + hcm(""), "", ""},
		{"zipkin over grpc", tracing(zipkin+", collector_endpoint_version: GRPC", ""),
			prov + "<ZipkinConfig>.collector_endpoint_version", "not handled"},
		{"zipkin http proto", tracing(zipkin+", collector_endpoint_version: HTTP_PROTO", ""), "", ""},
		{"cel sampler without expression", tracing(otel+", expression: {}}}", ""),
			prov + "<OpenTelemetryConfig>.sampler.typed_config<CELSamplerConfig>.expression", "failed to create an expression: CEL expression not set."},
		{"cel sampler parsed", tracing(otel+", expression: {cel_expr_parsed: {expr: {const_expr: {bool_value: true}}}}}}", ""), "", ""},
		{"cel sampler as a string", tracing(otel+", expression: {cel_expr_string: 'true'}}}", ""), "", ""},
	}
}

func init() { registerCases(casesMoreTracerRules) }
