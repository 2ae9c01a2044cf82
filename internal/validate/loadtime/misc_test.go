package loadtime_test

import "testing"

func TestRuntimeRules(t *testing.T) { runRules(t, casesRuntimeRules()) }

func casesRuntimeRules() []ruleCase {
	return []ruleCase{
		{"layers", "layered_runtime: {layers: [{name: static, static_layer: {a: 1}}, {name: admin, admin_layer: {}}]}\n", "", ""},
		{"duplicate layer", "layered_runtime: {layers: [{name: l, static_layer: {a: 1}}, {name: l, static_layer: {b: 1}}]}\n",
			"layered_runtime.layers[1].name", "Duplicate layer name: l"},
		{"two admin layers", "layered_runtime: {layers: [{name: a, admin_layer: {}}, {name: b, admin_layer: {}}]}\n",
			"layered_runtime.layers[1].admin_layer", "Too many admin layers specified in LayeredRuntime, at most one may be specified"},
		{"runtime values", "layered_runtime: {layers: [{name: s, static_layer: {a: 1, b: x, c: true, d: {e: 2.5}}}]}\n", "", ""},
		{"runtime list value", "layered_runtime: {layers: [{name: s, static_layer: {a: {b: [1, 2]}}}]}\n",
			"layered_runtime.layers[0].static_layer[\"a\"][\"b\"]", "Invalid runtime entry value for a.b"},
		{"runtime null value", "layered_runtime: {layers: [{name: s, static_layer: {a: null}}]}\n",
			"layered_runtime.layers[0].static_layer[\"a\"]", "Invalid runtime entry value for a"},
	}
}

func TestOverloadRules(t *testing.T) { runRules(t, casesOverloadRules()) }

func casesOverloadRules() []ruleCase {
	const heap = "{name: envoy.resource_monitors.fixed_heap, typed_config: {'@type': type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig, max_heap_size_bytes: 1000000}}"
	const trigger = "{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.9}}"
	return []ruleCase{
		{"trigger on a monitor", "overload_manager: {resource_monitors: [" + heap + "], actions: [{name: envoy.overload_actions.shrink_heap, triggers: [" + trigger + "]}]}\n", "", ""},
		{"trigger without monitor", "overload_manager: {actions: [{name: envoy.overload_actions.shrink_heap, triggers: [" + trigger + "]}]}\n",
			"overload_manager.actions[0].triggers[0].name", "Unknown trigger resource envoy.resource_monitors.fixed_heap for overload action envoy.overload_actions.shrink_heap"},
		{"duplicate monitor", "overload_manager: {resource_monitors: [" + heap + ", " + heap + "]}\n",
			"overload_manager.resource_monitors[1].name", "Duplicate resource monitor envoy.resource_monitors.fixed_heap"},
		{"duplicate action", "overload_manager: {resource_monitors: [" + heap + "], actions: [{name: envoy.overload_actions.shrink_heap, triggers: [" + trigger + "]}, {name: envoy.overload_actions.shrink_heap, triggers: [" + trigger + "]}]}\n",
			"overload_manager.actions[1].name", "Duplicate overload action envoy.overload_actions.shrink_heap"},
		{"duplicate trigger", "overload_manager: {resource_monitors: [" + heap + "], actions: [{name: envoy.overload_actions.shrink_heap, triggers: [" + trigger + ", " + trigger + "]}]}\n",
			"overload_manager.actions[0].triggers[1].name", "Duplicate trigger resource for overload action envoy.overload_actions.shrink_heap"},
		{"reset streams without buffer factory", "overload_manager: {resource_monitors: [" + heap + "], actions: [{name: envoy.overload_actions.reset_high_memory_stream, triggers: [" + trigger + "]}]}\n",
			"overload_manager.actions[0].name", "requires buffer_factory_config."},
	}
}

func TestXDSRules(t *testing.T) { runRules(t, casesXDSRules()) }

func casesXDSRules() []ruleCase {
	const xds = "static_resources:\n  clusters:\n  - {name: xds, type: STRICT_DNS, load_assignment: {cluster_name: xds, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: cp, port_value: 18000}}}}]}]}}\n  - {name: eds, type: EDS, eds_cluster_config: {eds_config: {path_config_source: {path: /e}}}}\n"
	node := "node: {id: node1, cluster: c1}\n"
	return []ruleCase{
		{"grpc source", node + "dynamic_resources: {lds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}}}\n" + xds, "", ""},
		{"grpc source with two services", node + "dynamic_resources: {lds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}, {envoy_grpc: {cluster_name: xds}}]}}}\n" + xds,
			"dynamic_resources.lds_config.api_config_source.grpc_services", "envoy.config.core.v3.ApiConfigSource::(AGGREGATED_)(DELTA_)GRPC must have no more than 1 gRPC services specified"},
		{"grpc source with failover", node + "layered_runtime: {layers: [{name: s, static_layer: {envoy.restart_features.xds_failover_support: true}}]}\n" +
			"dynamic_resources: {lds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}, {envoy_grpc: {cluster_name: xds}}]}}}\n" + xds, "", ""},
		{"grpc source with cluster names", node + "dynamic_resources: {lds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, cluster_names: [xds], grpc_services: [{envoy_grpc: {cluster_name: xds}}]}}}\n" + xds,
			"dynamic_resources.lds_config.api_config_source.cluster_names", "GRPC must not have a cluster name specified"},
		{"source without service or cluster", node + "dynamic_resources: {lds_config: {api_config_source: {api_type: DELTA_GRPC, transport_api_version: V3}}}\n" + xds,
			"dynamic_resources.lds_config.api_config_source", "API configs must have either a gRPC service or a cluster name defined"},
		{"rest source with service", node + "dynamic_resources: {lds_config: {api_config_source: {api_type: REST, transport_api_version: V3, cluster_names: [xds], refresh_delay: 1s, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}}}\n" + xds,
			"dynamic_resources.lds_config.api_config_source.grpc_services", "if not a gRPC type, must not have a gRPC service specified"},
		{"rest source with two clusters", node + "dynamic_resources: {lds_config: {api_config_source: {api_type: REST, transport_api_version: V3, cluster_names: [xds, xds], refresh_delay: 1s}}}\n" + xds,
			"dynamic_resources.lds_config.api_config_source.cluster_names", "must have a singleton cluster name specified"},
		{"grpc source on an EDS cluster", node + "dynamic_resources: {lds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: eds}}]}}}\n" + xds,
			"dynamic_resources.lds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name", "must have a statically defined non-EDS cluster: 'eds'"},
	}
}

func TestBootstrapRules(t *testing.T) { runRules(t, casesBootstrapRules()) }

func casesBootstrapRules() []ruleCase {
	return []ruleCase{
		{"watchdogs", "watchdogs: {main_thread_watchdog: {miss_timeout: 1s}}\n", "", ""},
		{"watchdog and watchdogs", "watchdog: {miss_timeout: 1s}\nwatchdogs: {main_thread_watchdog: {miss_timeout: 1s}}\n", "watchdogs", "Only one of watchdog or watchdogs should be set!"},
	}
}

func TestLuaRules(t *testing.T) { runRules(t, casesLuaRules()) }

func casesLuaRules() []ruleCase {
	lua := func(code string) string {
		return hcm("http_filters:\n- {name: lua, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua, default_source_code: {inline_string: " + code + "}}}\n" + routerFilter)
	}
	return []ruleCase{
		{"lua parses", lua("\"function envoy_on_request(h)\\n  h:headers():add('x', 'y')\\nend\\n\""), "", ""},
		{"lua does not parse", lua("\"function envoy_on_request(h)\\n  h:headers():add('x', 'y')\\n\""),
			hcmPath + ".http_filters[0].typed_config<Lua>.default_source_code.inline_string", "script load error:"},
		{"lua per route", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}, typed_per_filter_config: {lua: {'@type': type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute, source_code: {inline_string: 'x = = 1'}}}}]}\n"),
			routeCfg + ".virtual_hosts[0].routes[0].typed_per_filter_config[\"lua\"]<LuaPerRoute>.source_code.inline_string", "script load error:"},
		{"lua string matcher does not parse", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: {prefix: /, headers: [{name: x-a, string_match: {custom: {name: lua, typed_config: {'@type': type.googleapis.com/envoy.extensions.string_matcher.lua.v3.Lua, source_code: {inline_string: 'function envoy_match('}}}}}]}, route: {cluster: app}}]}\n"),
			routeCfg + ".virtual_hosts[0].routes[0].match.headers[0].string_match.custom.typed_config<Lua>.source_code.inline_string", "Failed to load lua code in Lua StringMatcher:"},
	}
}

func init() {

	registerCases(casesRuntimeRules, casesOverloadRules, casesXDSRules, casesBootstrapRules, casesLuaRules, casesDurationRules)
}

func TestDurationRules(t *testing.T) { runRules(t, casesDurationRules()) }

func casesDurationRules() []ruleCase {
	const idle = hcmPath + ".stream_idle_timeout"
	return []ruleCase{
		{"duration", hcm("stream_idle_timeout: 300s\n"), "", ""},
		{"longest duration", hcm("stream_idle_timeout: 9223372035.999999999s\n"), "", ""},
		{"negative duration", hcm("stream_idle_timeout: -5s\n"), idle, "Invalid duration: Expected positive duration: seconds: -5"},
		{"negative fraction of a second", hcm("stream_idle_timeout: -0.5s\n"), idle, "Invalid duration: Expected positive duration: nanos: -500000000"},
		{"negative duration in the bootstrap", "static_resources:\n  clusters:\n  - {name: c, connect_timeout: 1s, dns_refresh_rate: 5s, dns_failure_refresh_rate: {base_interval: -1s}}\n",
			"static_resources.clusters[0].dns_failure_refresh_rate.base_interval", "Invalid duration: Expected positive duration: seconds: -1"},
		{"duration beyond 292 years", hcm("stream_idle_timeout: 9223372036s\n"), idle, "Invalid duration: Duration out-of-range: seconds: 9223372036"},
	}
}
