package loadtime_test

import "testing"

func TestRequiredFieldRules(t *testing.T) { runRules(t, casesRequiredFieldRules()) }

func casesRequiredFieldRules() []ruleCase {
	weighted := func(clusters string) string {
		return routes("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {weighted_clusters: {clusters: [" + clusters + "]}}}]}]")
	}
	thriftWeighted := func(clusters string) string {
		return thrift("route_config: {name: r, routes: [{match: {method_name: m}, route: {weighted_clusters: {clusters: [" + clusters + "]}}}]}")
	}
	const limit = "envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit"
	return []ruleCase{
		{"weighted cluster without weight", weighted("{name: app, weight: 1}, {name: app}"),
			routeCfg + ".virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1].weight", "Field 'weight' is missing in: ClusterWeight"},
		{"weighted cluster of weight zero", weighted("{name: app, weight: 1}, {name: app, weight: 0}"), "", ""},
		{"thrift weighted cluster without weight", thriftWeighted("{name: app}, {name: app, weight: 2}"),
			"static_resources.listeners[0].filter_chains[0].filters[0].typed_config<ThriftProxy>.route_config.routes[0].route.weighted_clusters.clusters[0].weight",
			"Field 'weight' is missing in: ClusterWeight"},
		{"thrift weighted clusters", thriftWeighted("{name: app, weight: 1}, {name: app, weight: 2}"), "", ""},
		{"connection limit without max", netFilterBeforeTCP(limit, "stat_prefix: c"),
			"static_resources.listeners[0].filter_chains[0].filters[0].typed_config<ConnectionLimit>.max_connections", "Field 'max_connections' is missing in: ConnectionLimit"},
		{"connection limit", netFilterBeforeTCP(limit, "stat_prefix: c, max_connections: 100"), "", ""},
	}
}

func init() { registerCases(casesRequiredFieldRules) }
