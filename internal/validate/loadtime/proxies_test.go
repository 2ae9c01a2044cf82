package loadtime_test

import (
	"strings"
	"testing"
)

func TestProxyRules(t *testing.T) { runRules(t, casesProxyRules()) }

// netFilter returns a bootstrap whose listener runs one network filter of the given type with the given fields
// (YAML flow mapping body).
func netFilter(typ, fields string) string {
	return chains("- filters: [{name: f, typed_config: {'@type': type.googleapis.com/" + typ + ", " + fields + "}}]\n")
}

// netFilterBeforeTCP is netFilter with a tcp_proxy after the filter, for filters that do not end a chain.
func netFilterBeforeTCP(typ, fields string) string {
	return chains("- filters: [{name: f, typed_config: {'@type': type.googleapis.com/" + typ + ", " + fields + "}}, " +
		"{name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}]\n")
}

func casesProxyRules() []ruleCase {
	const fp = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
	const structAny = "{'@type': type.googleapis.com/google.protobuf.Struct, value: {}}"
	const ads = "{ads: {}}"
	const restSource = "{api_config_source: {api_type: REST, cluster_names: [app], refresh_delay: 1s}}"
	dubbo := func(fields string) string {
		return netFilter("envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy", "stat_prefix: d, "+fields)
	}
	dubboRoutes := "route_config: [{name: r, interface: org.Hello, routes: [{match: {method: {name: {exact: hi}}}, route: {cluster: app}}]}]"
	generic := func(fields string) string {
		return netFilter("envoy.extensions.filters.network.generic_proxy.v3.GenericProxy", "stat_prefix: g, "+
			"codec_config: {name: c, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.generic_proxy.codecs.dubbo.v3.DubboCodecConfig}}, "+fields)
	}
	genericAction := func(extra string) string {
		return "{action: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.generic_proxy.action.v3.RouteAction, cluster: app" + extra + "}}}"
	}
	genericRouter := "{name: router, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.generic_proxy.router.v3.Router}}"
	genericTable := func(hosts, extra string) string {
		return generic("filters: [" + genericRouter + "], route_config: {name: t, virtual_hosts: [" + hosts + "]" + extra + "}")
	}
	vhost := func(name, hosts string) string {
		return "{name: " + name + ", hosts: [" + hosts + "], routes: {on_no_match: " + genericAction("") + "}}"
	}
	rbac := func(fields string) string {
		return netFilterBeforeTCP("envoy.extensions.filters.network.rbac.v3.RBAC", "stat_prefix: r, "+fields)
	}
	redis := func(routes string) string {
		return netFilter("envoy.extensions.filters.network.redis_proxy.v3.RedisProxy", "stat_prefix: r, settings: {op_timeout: 1s}, prefix_routes: {"+routes+"}")
	}
	tunnel := func(validation string) string {
		return netFilter("envoy.extensions.filters.network.reverse_tunnel.v3.ReverseTunnel", "validation: {"+validation+"}")
	}
	zk := func(overrides string) string {
		return netFilterBeforeTCP("envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy", "stat_prefix: z, latency_threshold_overrides: ["+overrides+"]")
	}
	dnsTable := func(addresses string) string {
		return "static_resources:\n  listeners:\n  - name: dns\n    address: {socket_address: {protocol: UDP, address: 0.0.0.0, port_value: 53}}\n" +
			"    listener_filters: [{name: dns, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.udp.dns_filter.v3.DnsFilterConfig, stat_prefix: d, " +
			"server_config: {inline_dns_table: {virtual_domains: [{name: www.example.com, endpoint: {address_list: {address: [" + addresses + "]}}}]}}}}]\n"
	}
	return []ruleCase{
		{"tcp proxy tunnel with a request id of no extension", tcpProxy("tunneling_config: {hostname: h, request_id_extension: {typed_config: " + structAny + "}}"),
			fp + "<TcpProxy>.tunneling_config.request_id_extension.typed_config", "Failed to create request ID extension: Didn't find a registered implementation for type: 'google.protobuf.Struct'"},
		{"tcp proxy tunnel host name format", tcpProxy("tunneling_config: {hostname: '%REQ(x'}"),
			fp + "<TcpProxy>.tunneling_config.hostname", "Incorrect configuration: %REQ(x."},
		{"tcp proxy tunnel", tcpProxy("tunneling_config: {hostname: '%DOWNSTREAM_LOCAL_ADDRESS%', request_id_extension: {typed_config: {'@type': type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig}}}"), "", ""},

		{"protocol options for tcp proxy", cluster("typed_extension_protocol_options: {envoy.filters.network.tcp_proxy: " + structAny + "}"),
			"static_resources.clusters[0].typed_extension_protocol_options[\"envoy.filters.network.tcp_proxy\"]", "filter envoy.filters.network.tcp_proxy does not support protocol options"},
		{"protocol options for thrift proxy", cluster("typed_extension_protocol_options: {envoy.filters.network.thrift_proxy: {'@type': type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProtocolOptions}}"), "", ""},

		{"dubbo drds and routes", dubbo("drds: {config_source: " + ads + ", route_config_name: r}, " + dubboRoutes),
			fp + "<DubboProxy>.route_config", "both drds and route_config is present in DubboProxy"},
		{"dubbo drds over rest", dubbo("drds: {config_source: " + restSource + ", route_config_name: r}"),
			fp + "<DubboProxy>.drds.config_source.api_config_source.api_type", "drds supports only aggregated api_type in api_config_source"},
		{"dubbo route configs twice", dubbo("multiple_route_config: {name: m}, " + dubboRoutes),
			fp + "<DubboProxy>.route_config", "both mutiple_route_config and route_config is present in DubboProxy"},
		{"dubbo drds", dubbo("drds: {config_source: {path_config_source: {path: /etc/envoy/d.yaml}}, route_config_name: r}"), "", ""},

		{"network ext_proc without service", netFilter("envoy.extensions.filters.network.ext_proc.v3.NetworkExternalProcessor", "stat_prefix: e"),
			fp + "<NetworkExternalProcessor>.grpc_service", "A grpc_service must be configured"},
		{"network ext_proc skipping both ways", netFilter("envoy.extensions.filters.network.ext_proc.v3.NetworkExternalProcessor", "grpc_service: {envoy_grpc: {cluster_name: app}}, processing_mode: {process_read: SKIP, process_write: SKIP}"),
			fp + "<NetworkExternalProcessor>.processing_mode", "both read and write paths are skipped, at least one must be enabled."},
		{"network ext_proc", netFilterBeforeTCP("envoy.extensions.filters.network.ext_proc.v3.NetworkExternalProcessor", "stat_prefix: e, grpc_service: {envoy_grpc: {cluster_name: app}}, processing_mode: {process_read: SKIP}"), "", ""},

		{"generic rds over rest", generic("filters: [" + genericRouter + "], generic_rds: {config_source: " + restSource + ", route_config_name: r}"),
			fp + "<GenericProxy>.generic_rds.config_source.api_config_source.api_type", "genericrds supports only aggregated api_type in api_config_source"},
		{"generic router not last", generic("filters: [" + genericRouter + ", " + genericRouter + "], generic_rds: {config_source: " + ads + ", route_config_name: r}"),
			fp + "<GenericProxy>.filters[0]", "Terminal filter: router must be the last generic L7 filter"},
		{"generic proxy without router", generic("filters: [], generic_rds: {config_source: " + ads + ", route_config_name: r}"),
			fp + "<GenericProxy>.filters", "A terminal L7 filter is necessary for generic proxy"},
		{"generic empty host", genericTable(vhost("a", "''"), ""), fp + "<GenericProxy>.route_config.virtual_hosts[0].hosts[0]", "Invalid empty host name in route t"},
		{"generic wildcard twice", genericTable(vhost("a", "'*'")+", "+vhost("b", "'*'"), ""),
			fp + "<GenericProxy>.route_config.virtual_hosts[1].hosts[0]", "Only a single wildcard domain is permitted in route t"},
		{"generic host twice", genericTable(vhost("a", "svc")+", "+vhost("b", "svc"), ""),
			fp + "<GenericProxy>.route_config.virtual_hosts[1].hosts[0]", "Only unique values for host are permitted. Duplicate entry of domain svc in route t"},
		{"generic routes and catch-all", genericTable(vhost("a", "'*'"), ", routes: {on_no_match: "+genericAction("")+"}"),
			fp + "<GenericProxy>.route_config.routes", "'routes' cannot be specified at the same time as a catch-all ('*') virtual host in route t"},
		{"generic hosts", genericTable(vhost("a", "svc, Svc, '*.svc', 'svc*'")+", "+vhost("b", "'*'"), ""), "", ""},
		{"generic per-filter config of no filter", genericTable(vhost("a", "svc"), ", routes: {on_no_match: "+genericAction(", per_filter_config: {x: "+structAny+"}")+"}"),
			fp + "<GenericProxy>.route_config.routes.on_no_match.action.typed_config<RouteAction>.per_filter_config[\"x\"]", "Didn't find a registered implementation for 'x' with type URL: 'google.protobuf.Struct'"},

		{"network geoip client ip format", netFilter("envoy.extensions.filters.network.geoip.v3.Geoip", "stat_prefix: g, client_ip: '%FILTER_STATE(x', provider: {name: p, typed_config: {'@type': type.googleapis.com/envoy.extensions.geoip_providers.maxmind.v3.MaxMindConfig, city_db_path: /db.mmdb, common_provider_config: {geo_headers_to_add: {country: x-country}}}}"),
			fp + "<Geoip>.client_ip", "Failed to parse client_ip: Incorrect configuration: %FILTER_STATE(x."},

		{"network rbac header rule", rbac("rules: {policies: {p: {permissions: [{and_rules: {rules: [{destination_port: 80}, {header: {name: x-user, present_match: true}}]}}], principals: [{any: true}]}}}"),
			fp + "<RBAC>.rules.policies[\"p\"].permissions[0]", "Found header(x-user) rule,not supported by RBAC network filter"},
		{"network rbac header principal", rbac("shadow_rules: {policies: {p: {permissions: [{any: true}], principals: [{not_id: {header: {name: x-user, present_match: true}}}]}}}"),
			fp + "<RBAC>.shadow_rules.policies[\"p\"].principals[0]", "Found header(x-user) rule,not supported by RBAC network filter"},
		{"network rbac matcher on a header", rbac("matcher: {matcher_tree: {input: {name: h, typed_config: {'@type': type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: x}}, exact_match_map: {map: {a: {action: {name: allow, typed_config: {'@type': type.googleapis.com/envoy.config.rbac.v3.Action, name: a}}}}}}}"),
			fp + "<RBAC>.matcher.matcher_tree.input", "RBAC network filter cannot match 'type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput'"},
		{"network rbac", rbac("rules: {policies: {p: {permissions: [{destination_port: 80}], principals: [{direct_remote_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}]}}}, " +
			"shadow_matcher: {matcher_tree: {input: {name: h, typed_config: {'@type': type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput}}, exact_match_map: {map: {'80': {action: {name: allow, typed_config: {'@type': type.googleapis.com/envoy.config.rbac.v3.Action, name: a}}}}}}}"), "", ""},

		{"redis without upstream", redis("case_insensitive: true"), fp + "<RedisProxy>.prefix_routes", "cannot configure a redis-proxy without any upstream"},
		{"redis prefix twice", redis("case_insensitive: true, routes: [{prefix: 'ab:', cluster: app}, {prefix: 'AB:', cluster: app}]"),
			fp + "<RedisProxy>.prefix_routes.routes[1].prefix", "prefix `AB:` already exists."},
		{"redis prefixes by case", redis("routes: [{prefix: 'ab:', cluster: app}, {prefix: 'AB:', cluster: app}]"), "", ""},

		{"reverse tunnel node format", tunnel("node_id_format: '%REQ(x'"), fp + "<ReverseTunnel>.validation.node_id_format", "Failed to parse node_id_format: Incorrect configuration"},
		{"reverse tunnel cluster format", tunnel("cluster_id_format: '%NOPE%'"), fp + "<ReverseTunnel>.validation.cluster_id_format", "Failed to parse cluster_id_format: Not supported field in StreamInfo: NOPE"},
		{"reverse tunnel tenant format", tunnel("tenant_id_format: '%'"), fp + "<ReverseTunnel>.validation.tenant_id_format", "Failed to parse tenant_id_format: Incorrect configuration"},
		{"reverse tunnel formats", tunnel("node_id_format: '%REQ(x-node)%', cluster_id_format: '%FILTER_STATE(c)%'"), "", ""},

		{"zookeeper opcode twice", zk("{opcode: Create, threshold: 1s}, {opcode: Create, threshold: 2s}"),
			fp + "<ZooKeeperProxy>.latency_threshold_overrides[1].opcode", "Duplicated opcode find in config: 1"},
		{"zookeeper opcodes", zk("{opcode: Create, threshold: 1s}, {opcode: Delete, threshold: 2s}"), "", ""},

		{"dns table host name", dnsTable("10.0.0.1, www.internal"),
			"static_resources.listeners[0].listener_filters[0].typed_config<DnsFilterConfig>.server_config.inline_dns_table.virtual_domains[0].endpoint.address_list.address[1]", "malformed IP address: www.internal"},
		{"dns table", dnsTable("10.0.0.1, '2001:db8::1'"), "", ""},
	}
}

func TestThriftRules(t *testing.T) { runRules(t, casesThriftRules()) }

// thrift returns a bootstrap whose listener runs a Thrift proxy with the given fields (YAML flow mapping body).
func thrift(fields string) string {
	return netFilter("envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy", "stat_prefix: t, "+fields)
}

func casesThriftRules() []ruleCase {
	const tp = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config<ThriftProxy>"
	routeTable := func(routes string) string { return "route_config: {name: r, routes: [" + routes + "]}" }
	metadataFilter := func(typ, rules string) string {
		return thrift("thrift_filters: [{name: m, typed_config: {'@type': type.googleapis.com/" + typ + ", request_rules: [" + rules + "]}}, " +
			"{name: envoy.filters.thrift.router, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.router.v3.Router}}], " + routeTable("{match: {method_name: m}, route: {cluster: app}}"))
	}
	const h2m = "envoy.extensions.filters.network.thrift_proxy.filters.header_to_metadata.v3.HeaderToMetadata"
	const p2m = "envoy.extensions.filters.network.thrift_proxy.filters.payload_to_metadata.v3.PayloadToMetadata"
	const fp = tp + ".thrift_filters[0].typed_config"
	return []ruleCase{
		{"thrift trds and routes", thrift("trds: {config_source: {ads: {}}, route_config_name: r}, " + routeTable("{match: {method_name: m}, route: {cluster: app}}")),
			tp + ".route_config", "both trds and route_config is present in ThriftProxy"},
		{"thrift trds over rest", thrift("trds: {config_source: {api_config_source: {api_type: REST, cluster_names: [app], refresh_delay: 1s}}, route_config_name: r}"),
			tp + ".trds.config_source.api_config_source.api_type", "trds supports only aggregated api_type in api_config_source"},
		{"thrift trds", thrift("trds: {config_source: {path_config_source: {path: /etc/envoy/t.yaml}}, route_config_name: r}"), "", ""},

		{"thrift inverted empty method", thrift(routeTable("{match: {method_name: '', invert: true}, route: {cluster: app}}")),
			tp + ".route_config.routes[0].match.invert", "Cannot have an empty method name with inversion enabled"},
		{"thrift inverted empty service", thrift(routeTable("{match: {service_name: '', invert: true}, route: {cluster: app}}")),
			tp + ".route_config.routes[0].match.invert", "Cannot have an empty service name with inversion enabled"},
		{"thrift inverted method", thrift(routeTable("{match: {method_name: ping, invert: true}, route: {cluster: app}}")), "", ""},
		{"thrift rate limit by metadata", thrift(routeTable("{match: {method_name: m}, route: {cluster: app, rate_limits: [{actions: [{generic_key: {descriptor_value: v}}, {metadata: {descriptor_key: k, metadata_key: {key: k, path: [{key: p}]}}}]}]}}")),
			tp + ".route_config.routes[0].route.rate_limits[0].actions[1]", "unsupported RateLimit Action"},
		{"thrift rate limits", thrift(routeTable("{match: {method_name: m}, route: {cluster: app, rate_limits: [{actions: [{generic_key: {descriptor_value: v}}, {remote_address: {}}]}]}}")), "", ""},
		{"thrift unknown weighted cluster", thrift(routeTable("{match: {method_name: m}, route: {weighted_clusters: {clusters: [{name: app, weight: 1}, {name: nope, weight: 1}]}}}")),
			tp + ".route_config.routes[0].route.weighted_clusters.clusters[1].name", "route: unknown thrift weighted cluster 'nope'"},
		{"thrift unvalidated weighted cluster", thrift("route_config: {name: r, validate_clusters: false, routes: [{match: {method_name: m}, route: {weighted_clusters: {clusters: [{name: nope, weight: 1}]}}}]}"), "", ""},

		{"thrift header rule without action", metadataFilter(h2m, "{header: X-Tenant}"), fp + "<HeaderToMetadata>.request_rules[0]",
			"header to metadata filter: rule for header 'x-tenant' has neither `on_present` nor `on_missing` set"},
		{"thrift header rule missing empty", metadataFilter(h2m, "{header: x-tenant, on_missing: {key: tenant, value: ''}}"), fp + "<HeaderToMetadata>.request_rules[0].on_missing.value",
			"Cannot specify on_missing rule with empty value"},
		{"thrift header rule", metadataFilter(h2m, "{header: x-tenant, on_present: {key: tenant}, on_missing: {key: tenant, value: none}}"), "", ""},
		{"thrift payload rule without action", metadataFilter(p2m, "{method_name: m, field_selector: {name: f, id: 1}}"), fp + "<PayloadToMetadata>.request_rules[0]",
			"payload to metadata filter: neither `on_present` nor `on_missing` set"},
		{"thrift payload rule missing empty", metadataFilter(p2m, "{method_name: m, field_selector: {name: f, id: 1}, on_missing: {key: k}}"), fp + "<PayloadToMetadata>.request_rules[0].on_missing.value",
			"payload to metadata filter: cannot specify on_missing rule without non-empty value"},
	}
}

func TestThriftLayerRules(t *testing.T) { runLayerCases(t, casesThriftLayerRules()) }

// casesThriftLayerRules are the Thrift route table's cluster references, which the cross-reference layer checks.
func casesThriftLayerRules() []ruleCase {
	const tp = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config<ThriftProxy>.route_config.routes[0].route"
	table := func(action string) string {
		return strings.Replace(thrift("route_config: {name: r, routes: [{match: {method_name: m}, route: {"+action+"}}]}"), "static_resources:", "node: {id: node1, cluster: c1}\nstatic_resources:", 1)
	}
	return []ruleCase{
		{"thrift route to unknown cluster", table("cluster: nope"), tp + ".cluster", "unknown cluster \"nope\""},
		{"thrift mirror to unknown cluster", table("cluster: app, request_mirror_policies: [{cluster: nope}]"), tp + ".request_mirror_policies[0].cluster", "unknown cluster \"nope\""},
	}
}

func init() {
	registerCases(casesProxyRules, casesThriftRules)
	registerLayerCases(casesThriftLayerRules)
}
