package loadtime_test

import "testing"

// healthCluster returns a STRICT_DNS cluster with one HTTP or gRPC health check (a YAML flow mapping body).
func healthCluster(check string) string {
	return cluster("type: STRICT_DNS, load_assignment: {cluster_name: c, endpoints: [" + ep1 + "]}, " +
		"health_checks: [{timeout: 1s, interval: 5s, unhealthy_threshold: 2, healthy_threshold: 2, " + check + "}]")
}

const (
	hcPath   = "static_resources.clusters[0].health_checks[0]"
	thriftHC = "type.googleapis.com/envoy.extensions.health_checkers.thrift.v3.Thrift"
)

func TestHealthCheckRules(t *testing.T) { runRules(t, casesHealthCheckRules()) }

func casesHealthCheckRules() []ruleCase {
	return []ruleCase{
		{"expected 200-300", healthCluster("http_health_check: {path: /h, expected_statuses: [{start: 200, end: 300}]}"), "", ""},
		{"expected start after end", healthCluster("http_health_check: {path: /h, expected_statuses: [{start: 300, end: 200}]}"),
			hcPath + ".http_health_check.expected_statuses[0]", "Invalid http expected status range: expecting start < end, but found start=300 and end=200"},
		{"expected below 100", healthCluster("http_health_check: {path: /h, expected_statuses: [{start: 0, end: 200}]}"),
			hcPath + ".http_health_check.expected_statuses[0].start", "Invalid http expected status range: expecting start >= 100, but found start=0"},
		{"retriable above 600", healthCluster("http_health_check: {path: /h, retriable_statuses: [{start: 500, end: 601}]}"),
			hcPath + ".http_health_check.retriable_statuses[0].end", "Invalid http retriable status range: expecting end <= 600, but found end=601"},
		{"receive fits", healthCluster("http_health_check: {path: /h, receive: [{text: 6f6b}]}"), "", ""},
		{"receive over buffer", healthCluster("http_health_check: {path: /h, response_buffer_size: 1, receive: [{text: 6f6b}]}"),
			hcPath + ".http_health_check.receive", "The expected response length '2' is over than http health response buffer size '1'"},
		{"request header", healthCluster("http_health_check: {path: /h, request_headers_to_add: [{header: {key: x-hc, value: '1'}}]}"), "", ""},
		{"request host header", healthCluster("http_health_check: {path: /h, request_headers_to_add: [{header: {key: host, value: a}}]}"),
			hcPath + ".http_health_check.request_headers_to_add[0].header.key", ":-prefixed or host headers may not be modified"},
		{"grpc metadata pseudo header", healthCluster("grpc_health_check: {initial_metadata: [{header: {key: ':path', value: /x}}]}"),
			hcPath + ".grpc_health_check.initial_metadata[0].header.key", ":-prefixed or host headers may not be modified"},
		{"grpc metadata", healthCluster("grpc_health_check: {initial_metadata: [{header: {key: x-a, value: b}}]}"), "", ""},
		{"send with GET", healthCluster("http_health_check: {path: /h, send: {text: 6f6b}}"),
			hcPath + ".http_health_check.send", "HTTP health check cannot specify a request payload with method 'GET'"},
		{"send with POST", healthCluster("http_health_check: {path: /h, method: POST, send: {text: 6f6b}}"), "", ""},
		{"tcp payload not hex", healthCluster("tcp_health_check: {send: {text: ping}}"),
			hcPath + ".tcp_health_check.send.text", "invalid hex string 'ping'"},
		{"tcp payload odd length", healthCluster("tcp_health_check: {send: {text: 6f6}, receive: [{text: 6f6b}]}"),
			hcPath + ".tcp_health_check.send.text", "invalid hex string '6f6'"},
		{"tcp payload hex with a sign", healthCluster("tcp_health_check: {send: {text: 6f+b}}"), "", ""},

		{"thrift health check without transport", healthCluster("custom_health_check: {name: envoy.health_checkers.thrift, typed_config: {'@type': " + thriftHC + ", method_name: ping, protocol: BINARY}}"),
			hcPath + ".custom_health_check.typed_config<Thrift>.transport", "Unsupported transport or protocol in thrift health check configuration"},
		{"thrift health check twitter", healthCluster("custom_health_check: {name: envoy.health_checkers.thrift, typed_config: {'@type': " + thriftHC + ", method_name: ping, transport: FRAMED, protocol: TWITTER}}"),
			hcPath + ".custom_health_check.typed_config<Thrift>.protocol", "Unsupported transport or protocol in thrift health check configuration"},
		{"thrift health check", healthCluster("custom_health_check: {name: envoy.health_checkers.thrift, typed_config: {'@type': " + thriftHC + ", method_name: ping, transport: HEADER, protocol: COMPACT}}"), "", ""},
	}
}

func init() { registerCases(casesHealthCheckRules) }
