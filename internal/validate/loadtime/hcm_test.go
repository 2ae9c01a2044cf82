package loadtime_test

import (
	"strings"
	"testing"
)

const (
	corsFilter   = "- {name: cors, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}\n"
	routerFilter = "- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + "}}\n"
)

func TestFilterOrderRules(t *testing.T) { runRules(t, casesFilterOrderRules()) }

func casesFilterOrderRules() []ruleCase {
	return []ruleCase{
		{"router last", hcm("http_filters:\n" + corsFilter + routerFilter), "", ""},
		{"router first", hcm("http_filters:\n" + routerFilter + corsFilter), hcmPath + ".http_filters[0]",
			"Error: terminal filter named envoy.filters.http.router of type envoy.filters.http.router must be the last filter in a http filter chain."},
		{"no router", hcm("http_filters:\n" + corsFilter), hcmPath + ".http_filters[0]",
			"Error: non-terminal filter named cors of type envoy.filters.http.cors is the last filter in a http filter chain."},
		{"upgrade filters", hcm("upgrade_configs: [{upgrade_type: websocket, filters: [{name: cors, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}]}]\n"),
			hcmPath + ".upgrade_configs[0].filters[0]", "is the last filter in a http upgrade filter chain."},
		{"router upstream filters without codec", hcm("http_filters:\n- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + ", upstream_http_filters: [{name: buf, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer, max_request_bytes: 10}}]}}\n"),
			hcmPath + ".http_filters[0].typed_config<Router>.upstream_http_filters[0]", "When upstream_http_filters are specified, they must explicitly end with an UpstreamCodec filter."},
		{"router upstream filters with codec", hcm("http_filters:\n- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + ", upstream_http_filters: [{name: buf, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer, max_request_bytes: 10}}, {name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}]}}\n"), "", ""},
		{"tcp proxy before rbac", chains("- filters:\n  - {name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}\n  - {name: rbac, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC, stat_prefix: r}}\n"),
			"static_resources.listeners[0].filter_chains[0].filters[0]", "Error: terminal filter named tcp of type envoy.filters.network.tcp_proxy must be the last filter in a network filter chain."},
		{"rbac alone", chains("- filters:\n  - {name: rbac, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC, stat_prefix: r}}\n"),
			"static_resources.listeners[0].filter_chains[0].filters[0]", "is the last filter in a network filter chain."},
		{"rbac then tcp proxy", chains("- filters:\n  - {name: rbac, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC, stat_prefix: r}}\n  - {name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}\n"), "", ""},
	}
}

func TestHCMRules(t *testing.T) { runRules(t, casesHCMRules()) }

func casesHCMRules() []ruleCase {
	quic := func(codec string) string {
		return strings.Replace(strings.Replace(hcm("codec_type: "+codec+"\n"), "address: 0.0.0.0, port_value: 8080}}", "protocol: UDP, address: 0.0.0.0, port_value: 8443}}\n    udp_listener_config: {quic_options: {}}", 1),
			"- filters:", "- transport_socket: {name: quic, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport, downstream_tls_context: {common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c}, private_key: {filename: /k}}]}}}}\n      filters:", 1)
	}
	return []ruleCase{
		{"upgrades", hcm("upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: CONNECT}]\n"), "", ""},
		{"duplicate upgrade", hcm("upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: WebSocket}]\n"),
			hcmPath + ".upgrade_configs[1].upgrade_type", "Error: multiple upgrade configs with the same name: 'WebSocket'"},
		{"http3 on tcp", hcm("codec_type: HTTP3\n"), hcmPath + ".codec_type", "HTTP/3 codec configured on non-QUIC listener."},
		{"http3 on quic", quic("HTTP3"), "", ""},
		{"http2 on quic", quic("HTTP2"), hcmPath + ".codec_type", "Non-HTTP/3 codec configured on QUIC listener."},
		{"ip detection with remote address", hcm("use_remote_address: true\noriginal_ip_detection_extensions: [{name: xff, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig, xff_num_trusted_hops: 1}}]\n"),
			hcmPath + ".use_remote_address", "Original IP detection extensions and use_remote_address may not be mixed"},
		{"ip detection with trusted hops", hcm("xff_num_trusted_hops: 2\noriginal_ip_detection_extensions: [{name: xff, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig, xff_num_trusted_hops: 1}}]\n"),
			hcmPath + ".xff_num_trusted_hops", "Original IP detection extensions and xff_num_trusted_hops may not be mixed"},
		{"ip detection", hcm("original_ip_detection_extensions: [{name: xff, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig, xff_num_trusted_hops: 1}}]\n"), "", ""},
		{"access log options with interval", hcm("access_log_options: {flush_access_log_on_new_request: true}\naccess_log_flush_interval: 1s\n"),
			hcmPath + ".access_log_flush_interval", "Only one of access_log_flush_interval or access_log_options can be specified."},
		{"access log options with flush on new request", hcm("access_log_options: {access_log_flush_interval: 1s}\nflush_access_log_on_new_request: true\n"),
			hcmPath + ".flush_access_log_on_new_request", "Only one of flush_access_log_on_new_request or access_log_options can be specified."},
		{"access log options", hcm("access_log_options: {access_log_flush_interval: 1s}\n"), "", ""},
		{"both host port strips", hcm("strip_any_host_port: true\nstrip_matching_host_port: true\n"),
			hcmPath + ".strip_matching_host_port", "Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set."},
		{"response headers kb", hcm("common_http_protocol_options: {max_response_headers_kb: 80}\n"),
			hcmPath + ".common_http_protocol_options.max_response_headers_kb", "Error: max_response_headers_kb cannot be set on http_connection_manager."},
	}
}

func init() { registerCases(casesFilterOrderRules, casesHCMRules) }
