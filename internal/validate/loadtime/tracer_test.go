package loadtime_test

import "testing"

func TestTracerRules(t *testing.T) { runRules(t, casesTracerRules()) }

// tracing returns a bootstrap whose connection manager traces with the given provider (a typed_config flow mapping
// body, with @type), or with the bootstrap's tracer when it is given as bootstrapTracer instead.
func tracing(provider, bootstrapTracer string) string {
	if bootstrapTracer != "" {
		return "tracing: {http: {name: t, typed_config: {" + bootstrapTracer + "}}}\n" + hcm("tracing: {}\n")
	}
	return hcm("tracing: {provider: {name: t, typed_config: {" + provider + "}}}\n")
}

func casesTracerRules() []ruleCase {
	const xray = "'@type': type.googleapis.com/envoy.config.trace.v3.XRayConfig, segment_name: s, "
	const zipkin = "'@type': type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, "
	const otel = "'@type': type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig, "
	const prov = hcmPath + ".tracing.provider.typed_config"
	return []ruleCase{
		{"xray over udp", tracing(xray+"daemon_endpoint: {protocol: UDP, address: 127.0.0.1, port_value: 2000}", ""), "", ""},
		{"xray over tcp", tracing(xray+"daemon_endpoint: {protocol: TCP, address: 127.0.0.1, port_value: 2000}", ""),
			prov + "<XRayConfig>.daemon_endpoint.protocol", "X-Ray daemon endpoint must be a UDP socket address"},
		{"xray named port", tracing(xray+"daemon_endpoint: {protocol: UDP, address: 127.0.0.1, named_port: xray}", ""),
			prov + "<XRayConfig>.daemon_endpoint", "X-Ray daemon port must be specified as number. Not a named port."},
		{"default xray over tcp", tracing("", xray+"daemon_endpoint: {protocol: TCP, address: 127.0.0.1, port_value: 2000}"),
			"tracing.http.typed_config<XRayConfig>.daemon_endpoint.protocol", "X-Ray daemon endpoint must be a UDP socket address"},
		{"default xray over tcp, not used", "tracing: {http: {name: t, typed_config: {" + xray + "daemon_endpoint: {protocol: TCP, address: xray-daemon, port_value: 2000}}}}\n" + hcm(""), "", ""},
		{"zipkin", tracing(zipkin+"collector_cluster: app, collector_endpoint: /api/v2/spans, collector_endpoint_version: HTTP_JSON", ""), "", ""},
		{"zipkin without endpoint", tracing(zipkin+"collector_cluster: app, collector_endpoint_version: HTTP_JSON", ""),
			prov + "<ZipkinConfig>", "collector_cluster and collector_endpoint must be specified when not using collector_service"},
		{"opentelemetry with two exporters", tracing(otel+"grpc_service: {envoy_grpc: {cluster_name: app}}, http_service: {http_uri: {uri: 'http://c/v1/traces', cluster: app, timeout: 1s}}", ""),
			prov + "<OpenTelemetryConfig>.http_service", "OpenTelemetry Tracer cannot have both gRPC and HTTP exporters configured."},
	}
}

func init() { registerCases(casesTracerRules) }
