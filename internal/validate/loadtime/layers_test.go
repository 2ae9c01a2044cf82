package loadtime_test

import "testing"

// Cases for the validator's own layers (decoding, PGV, deprecations, cross-references), which the inventory of
// Envoy's checks names for the rows those layers implement. They run with render's options (a node is required
// with xDS) and their problems do not cite an Envoy file.

func TestLayerRules(t *testing.T) { runLayerCases(t, casesLayerRules()) }

func casesLayerRules() []ruleCase {
	twoListeners := "static_resources:\n  listeners:\n" +
		"  - {name: a, address: {socket_address: {address: 0.0.0.0, port_value: 8080}}, filter_chains: [{filters: [{name: t, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}]}]}\n" +
		"  - {name: b, address: {socket_address: {address: 0.0.0.0, port_value: 8080}}, filter_chains: [{filters: [{name: t, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}]}]}\n" +
		"  clusters:\n  - {name: app, type: STATIC, load_assignment: {cluster_name: app, endpoints: [" + ip1 + "]}}\n"
	return []ruleCase{
		{"unknown field", "stats_flush_intervall: 10s\n", "stats_flush_intervall", "unknown field"},
		{"value of the wrong type", "admin: {address: {socket_address: {address: 127.0.0.1, port_value: abc}}}\n",
			"admin.address.socket_address.port_value", "invalid value"},
		{"pgv rule", "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 70000}}}\n",
			"admin.address.socket_address.port_value", "value must be less than or equal to 65535"},
		{"duplicate cluster name", "static_resources:\n  clusters:\n  - {name: c, connect_timeout: 1s}\n  - {name: c, connect_timeout: 2s}\n",
			"static_resources.clusters[1].name", "duplicate cluster name \"c\""},
		{"local cluster undefined", "cluster_manager: {local_cluster_name: nope}\n",
			"cluster_manager.local_cluster_name", "unknown cluster \"nope\""},
		{"route to unknown cluster", routes("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: nope}}]}]\n"),
			routeCfg + ".virtual_hosts[0].routes[0].route.cluster", "unknown cluster \"nope\""},
		{"two listeners on one address", twoListeners, "static_resources.listeners[1].address.socket_address.port_value", "binds the same address as"},
		{"xds without node", "dynamic_resources: {lds_config: {path_config_source: {path: /l.yaml}}}\n", "node.id", "required when dynamic_resources are used"},
		{"ads without ads_config", "node: {id: node1, cluster: c1}\ndynamic_resources: {lds_config: {ads: {}}}\n",
			"dynamic_resources.lds_config.ads", "dynamic_resources.ads_config is not set"},
		{"runtime layer without a specifier", "layered_runtime: {layers: [{name: s}]}\n", "layered_runtime.layers[0].layer_specifier", "value is required"},
		{"zipkin collector cluster unknown", hcm("tracing: {provider: {name: z, typed_config: {'@type': type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: nope, collector_endpoint: /api/v2/spans, collector_endpoint_version: HTTP_JSON}}}\n"),
			hcmPath + ".tracing.provider.typed_config<ZipkinConfig>.collector_cluster", "unknown cluster \"nope\""},
		{"string matcher without pattern", routes("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /, headers: [{name: x, string_match: {ignore_case: true}}]}, route: {cluster: app}}]}]\n"),
			routeCfg + ".virtual_hosts[0].routes[0].match.headers[0].string_match.match_pattern", "value is required"},
		{"typed config of an unknown type", hcm("http_filters: [{name: x, typed_config: {'@type': type.googleapis.com/example.v1.Nope}}, {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + "}}]\n"),
			hcmPath + ".http_filters[0].typed_config.@type", "unknown type \"type.googleapis.com/example.v1.Nope\""},
		{"duration beyond protobuf's range", "stats_flush_interval: 315576000001s\n", "stats_flush_interval", "google.protobuf.Duration"},
	}
}

func init() { registerLayerCases(casesLayerRules) }
