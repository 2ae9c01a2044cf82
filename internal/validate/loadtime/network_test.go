package loadtime_test

import "testing"

func TestNetworkFilterRules(t *testing.T) { runRules(t, casesNetworkFilterRules()) }

// tcpProxy returns a bootstrap whose listener runs a tcp_proxy to cluster app with the given extra fields (YAML
// flow mapping body).
func tcpProxy(extra string) string {
	return chains("- filters: [{name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app, " + extra + "}}]\n")
}

// udpProxy returns a bootstrap with a UDP listener whose udp_proxy has the given extra fields.
func udpProxy(extra string) string {
	return "static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: u\n" +
		"    address: {socket_address: {protocol: UDP, address: 0.0.0.0, port_value: 53}}\n" +
		"    listener_filters: [{name: u, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig, stat_prefix: u, cluster: app, " + extra + "}}]\n"
}

func casesNetworkFilterRules() []ruleCase {
	const tp = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config<TcpProxy>"
	const up = "static_resources.listeners[0].listener_filters[0].typed_config<UdpProxyConfig>"
	const tunnel = "tunneling_config: {proxy_host: h, target_host: t, default_target_port: 53, "
	return []ruleCase{
		{"tcp proxy access log options", tcpProxy("access_log_options: {flush_access_log_on_connected: true}"), "", ""},
		{"tcp proxy access log options and flush on connected", tcpProxy("access_log_options: {}, flush_access_log_on_connected: true"),
			tp + ".flush_access_log_on_connected", "Only one of flush_access_log_on_connected or access_log_options can be specified."},
		{"tcp proxy access log options and interval", tcpProxy("access_log_options: {}, access_log_flush_interval: 5s"),
			tp + ".access_log_flush_interval", "Only one of access_log_flush_interval or access_log_options can be specified."},
		{"tcp proxy back-off", tcpProxy("backoff_options: {base_interval: 1s, max_interval: 2s}"), "", ""},
		{"tcp proxy back-off ceiling below base", tcpProxy("backoff_options: {base_interval: 2s, max_interval: 1s}"),
			tp + ".backoff_options.max_interval", "max_backoff_interval must be greater or equal to base_backoff_interval"},
		{"tcp proxy connect on data with early data", tcpProxy("upstream_connect_mode: ON_DOWNSTREAM_DATA, max_early_data_bytes: 0"), "", ""},
		{"tcp proxy connect on data", tcpProxy("upstream_connect_mode: ON_DOWNSTREAM_DATA"),
			tp + ".upstream_connect_mode", "max_early_data_bytes must be set when upstream_connect_mode is not IMMEDIATE"},
		{"tcp proxy post path without post", tcpProxy("tunneling_config: {hostname: h, post_path: /t}"),
			tp + ".tunneling_config.post_path", "Can't set a post path when POST method isn't used"},
		{"tcp proxy tlv", tcpProxy("proxy_protocol_tlvs: [{type: 240, value: YQ==}]"), "", ""},
		{"tcp proxy tlv with value and format", tcpProxy("proxy_protocol_tlvs: [{type: 240, value: YQ==, format_string: {text_format: x}}]"),
			tp + ".proxy_protocol_tlvs[0]", "Invalid TLV configuration: only one of 'value' or 'format_string' may be set."},
		{"tcp proxy tlv without value", tcpProxy("proxy_protocol_tlvs: [{type: 240}]"),
			tp + ".proxy_protocol_tlvs[0]", "Invalid TLV configuration: one of 'value' or 'format_string' must be set."},

		{"udp proxy tunnel", udpProxy(tunnel + "use_post: true, post_path: /t, proxy_port: 443}"), "", ""},
		{"udp proxy per packet with tunnel", udpProxy("use_per_packet_load_balancing: true, " + tunnel + "}"),
			up + ".tunneling_config", "Only one of use_per_packet_load_balancing or tunneling_config can be used."},
		{"udp proxy per packet with session filters", udpProxy("use_per_packet_load_balancing: true, session_filters: [{name: f, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.session.http_capsule.v3.FilterConfig}}]"),
			up + ".session_filters", "Only one of use_per_packet_load_balancing or session_filters can be used."},
		{"udp proxy post path without post", udpProxy(tunnel + "post_path: /t}"),
			up + ".tunneling_config.post_path", "Can't set a post path when POST method isn't used"},
		{"udp proxy post path without slash", udpProxy(tunnel + "use_post: true, post_path: t}"),
			up + ".tunneling_config.post_path", "Path must start with '/'"},
		{"udp proxy port zero", udpProxy(tunnel + "proxy_port: 0}"), up + ".tunneling_config.proxy_port", "Port value not in range"},
		{"udp proxy back-off ceiling below base", udpProxy(tunnel + "retry_options: {backoff_options: {base_interval: 2s, max_interval: 1s}}}"),
			up + ".tunneling_config.retry_options.backoff_options.max_interval", "max_backoff_interval must be greater or equal to base_backoff_interval"},
	}
}

func init() { registerCases(casesNetworkFilterRules) }
