package loadtime_test

import "testing"

func TestExtensionCategoryRules(t *testing.T) { runRules(t, casesExtensionCategoryRules()) }

func casesExtensionCategoryRules() []ruleCase {
	return []ruleCase{
		{"http filter in http slot", hcm(""), "", ""},
		{"network filter in http slot", hcm("http_filters:\n- {name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}\n" + routerFilter),
			hcmPath + ".http_filters[0].typed_config", "Didn't find a registered implementation for 'tcp' with type URL: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'"},
		{"http filter in network slot", chains("- filters:\n  - {name: router, typed_config: {'@type': " + routerType + "}}\n"),
			"static_resources.listeners[0].filter_chains[0].filters[0].typed_config", "this field takes envoy.filters.network"},
		{"http filter as listener filter", listener("listener_filters: [{name: cors, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}]\nfilter_chains:\n" + tcpChain("a", "{}")),
			"static_resources.listeners[0].listener_filters[0].typed_config", "this field takes envoy.filters.listener or envoy.filters.udp_listener"},
		{"tls inspector as listener filter", listener("listener_filters: [{name: tls, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}]\nfilter_chains:\n" + tcpChain("a", "{}")), "", ""},
		{"tracer as access logger", hcm("access_log: [{name: z, typed_config: {'@type': type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: app, collector_endpoint: /api}}]\n"),
			hcmPath + ".access_log[0].typed_config", "that type configures envoy.tracers.zipkin (envoy.tracers), but this field takes envoy.access_loggers"},
		{"upstream codec downstream", hcm("http_filters:\n- {name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}\n" + routerFilter),
			hcmPath + ".http_filters[0].typed_config", "but this field takes envoy.filters.http"},
		{"upstream codec upstream", hcm("http_filters:\n- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + ", upstream_http_filters: [{name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}]}}\n"), "", ""},
		{"router upstream", hcm("http_filters:\n- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + ", upstream_http_filters: [{name: r, typed_config: {'@type': " + routerType + "}}, {name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}]}}\n"),
			hcmPath + ".http_filters[0].typed_config<Router>.upstream_http_filters[0].typed_config", "this field takes envoy.filters.http.upstream"},
		{"downstream tls in cluster", cluster("type: STATIC, transport_socket: {name: tls, typed_config: {'@type': " + downstreamTLS + ", common_tls_context: {tls_certificates: [" + certPair + "]}}}"),
			"static_resources.clusters[0].transport_socket.typed_config", "this field takes envoy.transport_sockets.upstream"},
		{"statsd as tracer", "tracing: {http: {name: s, typed_config: {'@type': type.googleapis.com/envoy.config.metrics.v3.StatsdSink, address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}}\n",
			"tracing.http.typed_config", "this field takes envoy.tracers"},
		{"typed struct is looked through", hcm("http_filters:\n- {name: tcp, typed_config: {'@type': type.googleapis.com/xds.type.v3.TypedStruct, type_url: " + tcpType + ", value: {stat_prefix: t, cluster: app}}}\n" + routerFilter),
			hcmPath + ".http_filters[0].typed_config", "with type URL: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'"},
		{"unknown types are not judged", hcm("http_filters:\n- {name: w, typed_config: {'@type': type.googleapis.com/google.protobuf.StringValue, value: x}}\n" + routerFilter), "", ""},

		{"filter without typed_config", hcm("http_filters:\n- {name: envoy.filters.http.router}\n"),
			hcmPath + ".http_filters[0]", "Didn't find a registered implementation for 'envoy.filters.http.router' with type URL: ''"},
		{"optional filter of another category", hcm("http_filters:\n- {name: tcp, is_optional: true, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}\n" + routerFilter), "", ""},
		{"optional filter without typed_config", hcm("http_filters:\n- {name: x, is_optional: true}\n" + routerFilter), "", ""},
		{"lookup by name allowed by runtime", "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.no_extension_lookup_by_name: false}}]}\n" + hcm("http_filters:\n- {name: envoy.filters.http.router}\n"), "", ""},
	}
}

func init() { registerCases(casesExtensionCategoryRules) }
