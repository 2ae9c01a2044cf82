package loadtime_test

import (
	"strings"
	"testing"
)

// tcpChain is a filter chain with a tcp_proxy to cluster app and the given filter_chain_match (YAML flow mapping).
func tcpChain(name, match string) string {
	return "- name: " + name + "\n  filter_chain_match: " + match + "\n  filters: [{name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}]\n"
}

func chains(cs ...string) string { return listener("filter_chains:\n" + strings.Join(cs, "")) }

func TestListenerRules(t *testing.T) { runRules(t, casesListenerRules()) }

func casesListenerRules() []ruleCase {
	const lp = "static_resources.listeners[0]"
	udp := func(body string) string {
		return "static_resources:\n  listeners:\n  - name: u\n    address: {socket_address: {protocol: UDP, address: 0.0.0.0, port_value: 53}}\n" + indent(body, "    ")
	}
	return []ruleCase{
		{"chains told apart", chains(tcpChain("a", "{server_names: [a.example.com]}"), tcpChain("b", "{server_names: [b.example.com]}")), "", ""},
		{"same match twice", chains(tcpChain("a", "{server_names: [a.example.com]}"), tcpChain("b", "{server_names: [a.example.com]}")),
			lp + ".filter_chains[1].filter_chain_match", "error adding listener '0.0.0.0:8080': filter chain 'b' has the same matching rules defined as 'a'"},
		{"same SNI in two chains", chains(tcpChain("a", "{server_names: [a.example.com, c.example.com]}"), tcpChain("b", "{server_names: [C.example.com]}")),
			lp + ".filter_chains[1].filter_chain_match", "multiple filter chains with overlapping matching rules are defined"},
		{"same SNI, other ALPN", chains(tcpChain("a", "{server_names: [a.example.com], application_protocols: [h2]}"), tcpChain("b", "{server_names: [a.example.com], application_protocols: [http/1.1]}")), "", ""},
		{"partial wildcard", chains(tcpChain("a", "{server_names: ['a*.example.com']}")),
			lp + ".filter_chains[0].filter_chain_match.server_names[0]", "partial wildcards are not supported in \"server_names\""},
		{"wildcard", chains(tcpChain("a", "{server_names: ['*.example.com']}")), "", ""},
		{"prefix range", chains(tcpChain("a", "{prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}"), tcpChain("b", "{prefix_ranges: [{address_prefix: 10.1.0.0, prefix_len: 16}]}")), "", ""},
		{"prefix range same after masking", chains(tcpChain("a", "{prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}"), tcpChain("b", "{prefix_ranges: [{address_prefix: 10.9.9.9, prefix_len: 8}]}")),
			lp + ".filter_chains[1].filter_chain_match", "multiple filter chains with overlapping matching rules are defined"},
		{"prefix range host name", chains(tcpChain("a", "{prefix_ranges: [{address_prefix: intranet, prefix_len: 8}]}")),
			lp + ".filter_chains[0].filter_chain_match.prefix_ranges[0].address_prefix", "malformed IP address: intranet"},
		{"suffix match", chains(tcpChain("a", "{address_suffix: '::1'}")),
			lp + ".filter_chains[0].filter_chain_match", "filter chain 'a' contains unimplemented fields"},
		{"matcher needs names", listener("filter_chain_matcher: {on_no_match: {action: {name: a, typed_config: {'@type': type.googleapis.com/google.protobuf.StringValue, value: a}}}}\nfilter_chains:\n" + tcpChain("", "{}")),
			lp + ".filter_chains[0].name", "\"name\" field is required when using a listener matcher"},
		{"matcher with names", listener("filter_chain_matcher: {on_no_match: {action: {name: a, typed_config: {'@type': type.googleapis.com/google.protobuf.StringValue, value: a}}}}\nfilter_chains:\n" + tcpChain("a", "{}")), "", ""},
		{"matcher duplicate names", listener("filter_chain_matcher: {on_no_match: {action: {name: a, typed_config: {'@type': type.googleapis.com/google.protobuf.StringValue, value: a}}}}\nfilter_chains:\n" + tcpChain("a", "{}") + tcpChain("a", "{}")),
			lp + ".filter_chains[1].name", "\"name\" field is duplicated with value 'a'"},

		{"tcp listener without chains", listener("per_connection_buffer_limit_bytes: 1024\n"),
			"static_resources.listeners[0].filter_chains", "error adding listener '0.0.0.0:8080': no filter chains specified"},
		{"tcp listener with only a default chain", listener("default_filter_chain:\n  filters: [{name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}]\n"), "", ""},
		{"quic listener without chains", udp("udp_listener_config: {quic_options: {}}\n"),
			"static_resources.listeners[0].filter_chains", "error adding listener '0.0.0.0:53': no filter chains specified"},
		{"udp proxy without chains", udp("listener_filters: [{name: u, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig, stat_prefix: u, cluster: dns}}]") +
			"  clusters: [{name: dns, type: STATIC}]\n", "", ""},
		{"udp with a chain", udp("filter_chains:\n"+tcpChain("a", "{}")) + "  clusters: [{name: app, type: STATIC}]\n",
			"static_resources.listeners[0].filter_chains", "1 filter chain(s) specified for connection-less UDP listener."},
		{"quic chain without transport socket", udp("udp_listener_config: {quic_options: {}}\nfilter_chains:\n"+tcpChain("a", "{}")) + "  clusters: [{name: app, type: STATIC}]\n",
			"static_resources.listeners[0].filter_chains[0]", "no transport socket specified for connection oriented UDP listener"},
		{"quic with balancer", udp("udp_listener_config: {quic_options: {}}\nconnection_balance_config: {exact_balance: {}}\nfilter_chains:\n"+tcpChain("a", "{}")+
			"  transport_socket: {name: quic, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport, downstream_tls_context: {common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c}, private_key: {filename: /k}}]}}}}") + "  clusters: [{name: app, type: STATIC}]\n",
			"static_resources.listeners[0].connection_balance_config", "connection_balance_config is configured for QUIC listener"},

		{"internal listener", "bootstrap_extensions: [{name: il, typed_config: {'@type': type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener}}]\n" +
			"static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: il\n    internal_listener: {}\n    filter_chains:\n" + indent(tcpChain("a", "{}"), "    "), "", ""},
		{"internal listener without extension", "static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: il\n    internal_listener: {}\n    filter_chains:\n" + indent(tcpChain("a", "{}"), "    "),
			"static_resources.listeners[0].internal_listener", "InternalListener bootstrap extension is mandatory"},
		{"internal listener with address", "bootstrap_extensions: [{name: il, typed_config: {'@type': type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener}}]\n" +
			"static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: il\n    internal_listener: {}\n    address: {socket_address: {address: 0.0.0.0, port_value: 1}}\n    filter_chains:\n" + indent(tcpChain("a", "{}"), "    "),
			"static_resources.listeners[0].address", "address should not be used when an internal listener config is provided"},
		{"internal listener with socket options", "bootstrap_extensions: [{name: il, typed_config: {'@type': type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener}}]\n" +
			"static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: il\n    internal_listener: {}\n    socket_options: [{level: 1, name: 2, int_value: 1}]\n    filter_chains:\n" + indent(tcpChain("a", "{}"), "    "),
			"static_resources.listeners[0].socket_options", "does not support socket option"},
		{"internal listener with backlog", "bootstrap_extensions: [{name: il, typed_config: {'@type': type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener}}]\n" +
			"static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: il\n    internal_listener: {}\n    tcp_backlog_size: 10\n    filter_chains:\n" + indent(tcpChain("a", "{}"), "    "),
			"static_resources.listeners[0]", "has unsupported tcp listener feature"},
		{"internal address without internal listener", "static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: il\n    address: {envoy_internal_address: {server_listener_name: x}}\n    filter_chains:\n" + indent(tcpChain("a", "{}"), "    "),
			"static_resources.listeners[0].address", "use internal_listener field instead of address for internal listeners"},
	}
}

func TestAddressRules(t *testing.T) { runRules(t, casesAddressRules()) }

func casesAddressRules() []ruleCase {
	return []ruleCase{
		{"listener ip", chains(tcpChain("a", "{}")), "", ""},
		{"listener host name", strings.Replace(chains(tcpChain("a", "{}")), "address: 0.0.0.0, port_value: 8080", "address: localhost, port_value: 8080", 1),
			"static_resources.listeners[0].address.socket_address.address", "malformed IP address: localhost (a listener binds an IP address"},
		{"admin host name", "admin: {address: {socket_address: {address: localhost, port_value: 9901}}}\n",
			"admin.address.socket_address.address", "malformed IP address: localhost (admin binds an IP address"},
		{"admin ipv6", "admin: {address: {socket_address: {address: '::1', port_value: 9901}}}\n", "", ""},
		{"dogstatsd host name", "stats_sinks: [{name: d, typed_config: {'@type': type.googleapis.com/envoy.config.metrics.v3.DogStatsdSink, address: {socket_address: {protocol: UDP, address: datadog-agent, port_value: 8125}}}}]\n",
			"stats_sinks[0].typed_config<DogStatsdSink>.address.socket_address.address", "malformed IP address: datadog-agent"},
		{"statsd ip", "stats_sinks: [{name: d, typed_config: {'@type': type.googleapis.com/envoy.config.metrics.v3.StatsdSink, address: {socket_address: {protocol: UDP, address: 127.0.0.1, port_value: 8125}}}}]\n", "", ""},
		{"xray daemon host name", hcm("tracing: {provider: {name: x, typed_config: {'@type': type.googleapis.com/envoy.config.trace.v3.XRayConfig, segment_name: s, daemon_endpoint: {protocol: UDP, address: xray-daemon, port_value: 2000}}}}\n"),
			hcmPath + ".tracing.provider.typed_config<XRayConfig>.daemon_endpoint.address", "malformed IP address: xray-daemon"},
		{"xray daemon ip", hcm("tracing: {provider: {name: x, typed_config: {'@type': type.googleapis.com/envoy.config.trace.v3.XRayConfig, segment_name: s, daemon_endpoint: {protocol: UDP, address: 127.0.0.1, port_value: 2000}}}}\n"), "", ""},
	}
}

func init() { registerCases(casesListenerRules, casesAddressRules) }
