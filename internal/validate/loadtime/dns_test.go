package loadtime_test

import (
	"strings"
	"testing"
)

func TestDNSRules(t *testing.T) { runRules(t, casesDNSRules()) }

// dfp returns a bootstrap with a dynamic forward proxy cluster whose DNS cache has the given fields, and an HCM
// whose dynamic forward proxy filter names a cache with the filter's fields.
func dfp(clusterCache, filterCache string) string {
	const clusterType = "type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig"
	const filterType = "type.googleapis.com/envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig"
	b := hcm("http_filters:\n- {name: dfp, typed_config: {'@type': " + filterType + ", dns_cache_config: {" + filterCache + "}}}\n" + routerFilter)
	return strings.Replace(b, "  listeners:\n", "  - {name: dfp, connect_timeout: 1s, lb_policy: CLUSTER_PROVIDED, cluster_type: {name: envoy.clusters.dynamic_forward_proxy, typed_config: {'@type': "+
		clusterType+", dns_cache_config: {"+clusterCache+"}}}}\n  listeners:\n", 1)
}

func casesDNSRules() []ruleCase {
	const cache = "static_resources.clusters[1].cluster_type.typed_config<ClusterConfig>.dns_cache_config"
	const cares = "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig"
	return []ruleCase{
		{"dns caches alike", dfp("name: c, dns_lookup_family: V4_ONLY", "name: c, dns_lookup_family: V4_ONLY"), "", ""},
		{"dns caches alike but for defaults", dfp("name: c, dns_lookup_family: AUTO, dns_cache_circuit_breaker: {}", "name: c"), "", ""},
		{"dns caches with a default set", dfp("name: c, max_hosts: 1024", "name: c"), cache, "config specified DNS cache 'c' with different settings"},
		{"dns caches differ", dfp("name: c, dns_lookup_family: V4_ONLY", "name: c, dns_lookup_family: V6_ONLY"),
			cache, "config specified DNS cache 'c' with different settings"},
		{"dns caches of two names", dfp("name: c, dns_lookup_family: V4_ONLY", "name: d, dns_lookup_family: V6_ONLY"), "", ""},
		{"preresolved hosts beyond max hosts", dfp("name: c, max_hosts: 1, preresolve_hostnames: [{address: a.example, port_value: 443}, {address: b.example, port_value: 443}]", "name: d"),
			cache + ".preresolve_hostnames", "DNS Cache [c] configured with preresolve_hostnames=2 larger than max_hosts=1"},
		{"cares resolvers", "typed_dns_resolver_config: {name: cares, typed_config: {'@type': " + cares + ", resolvers: [{socket_address: {address: 10.0.0.2, port_value: 53}}]}}\n", "", ""},
		{"cares resolver on a pipe", "typed_dns_resolver_config: {name: cares, typed_config: {'@type': " + cares + ", resolvers: [{pipe: {path: /dns.sock}}]}}\n",
			"typed_dns_resolver_config.typed_config<CaresDnsResolverConfig>.resolvers[0].pipe", "DNS resolver '/dns.sock' is not an IP address"},
		{"cares resolver host name", "typed_dns_resolver_config: {name: cares, typed_config: {'@type': " + cares + ", resolvers: [{socket_address: {address: dns.internal, port_value: 53}}]}}\n",
			"typed_dns_resolver_config.typed_config<CaresDnsResolverConfig>.resolvers[0].socket_address.address", "malformed IP address: dns.internal"},
	}
}

func init() { registerCases(casesDNSRules) }
