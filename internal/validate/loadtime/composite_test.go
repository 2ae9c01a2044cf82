package loadtime_test

import "testing"

func TestCompositeRules(t *testing.T) { runRules(t, casesCompositeRules()) }

func casesCompositeRules() []ruleCase {
	const cors = "{name: cors, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}"
	const dyn = "dynamic_config: {name: d, config_discovery: {config_source: {ads: {}}, type_urls: ['type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors']}}"
	const action = ".xds_matcher.matcher_list.matchers[0].on_match.action.typed_config<ExecuteFilterAction>"
	wrapped := func(action string) string {
		return "extension_config: {name: c, typed_config: {'@type': type.googleapis.com/" + composite + "}}, " + composed(action)
	}
	module := func(source string) string {
		return "filter_name: f, dynamic_module_config: {" + source + "}"
	}
	remote := "module: {remote: {http_uri: {uri: 'https://m.example/m.so', cluster: app, timeout: 1s}, sha256: abc}}"
	return []ruleCase{
		{"ext proc", httpFilter(extProc, grpcApp+", processing_mode: {request_body_mode: FULL_DUPLEX_STREAMED, request_trailer_mode: SEND}"), "", ""},
		{"ext proc over http", httpFilter(extProc, "http_service: {http_service: {http_uri: {uri: 'http://p', cluster: app, timeout: 1s}}}, processing_mode: {request_header_mode: SEND}"), "", ""},
		{"ext proc without service", httpFilter(extProc, "processing_mode: {}"),
			filterAt(extProc), "One and only one of grpc_service or http_service must be configured"},
		{"ext proc route cache", httpFilter(extProc, grpcApp+", disable_clear_route_cache: true, route_cache_action: CLEAR"),
			filterAt(extProc) + ".route_cache_action", "disable_clear_route_cache and route_cache_action can not be set to none-default at the same time."},
		{"ext proc http body", httpFilter(extProc, "http_service: {http_service: {http_uri: {uri: 'http://p', cluster: app, timeout: 1s}}}, processing_mode: {request_body_mode: BUFFERED}"),
			filterAt(extProc) + ".processing_mode", "If the ext_proc filter is configured with http_service instead of gRPC service"},
		{"ext proc full duplex request", httpFilter(extProc, grpcApp+", processing_mode: {request_body_mode: FULL_DUPLEX_STREAMED}"),
			filterAt(extProc) + ".processing_mode.request_trailer_mode", "If the ext_proc filter has the request_body_mode set to FULL_DUPLEX_STREAMED, then the request_trailer_mode has to be set to SEND"},
		{"ext proc full duplex response", httpFilter(extProc, grpcApp+", processing_mode: {response_body_mode: FULL_DUPLEX_STREAMED, response_trailer_mode: SKIP}"),
			filterAt(extProc) + ".processing_mode.response_trailer_mode", "If the ext_proc filter has the response_body_mode set to FULL_DUPLEX_STREAMED, then the response_trailer_mode has to be set to SEND"},
		{"composite named chains", httpFilter(composite, "named_filter_chains: {a: {typed_config: ["+cors+"]}}"), "", ""},
		{"composite empty named chain", httpFilter(composite, "named_filter_chains: {a: {typed_config: ["+cors+"]}, b: {}}"),
			filterAt(composite) + ".named_filter_chains[\"b\"].typed_config", "Named filter chain 'b' must contain at least one filter."},
		{"composite action chain", httpFilter("envoy.extensions.common.matching.v3.ExtensionWithMatcher", wrapped("filter_chain: {typed_config: ["+cors+"]}")), "", ""},
		{"composite action empty chain", httpFilter("envoy.extensions.common.matching.v3.ExtensionWithMatcher", wrapped("filter_chain: {}")),
			filterAt("envoy.extensions.common.matching.v3.ExtensionWithMatcher") + action + ".filter_chain.typed_config", "filter_chain must contain at least one filter."},
		{"composite discovered filter", "dynamic_resources: {ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: app}}]}}\nnode: {id: node1, cluster: c1}\n" +
			httpFilter("envoy.extensions.common.matching.v3.ExtensionWithMatcher", wrapped(dyn)), "", ""},
		{"composite discovered filter per route", "dynamic_resources: {ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: app}}]}}\nnode: {id: node1, cluster: c1}\n" +
			perRoute(matcherRoute, composed(dyn)),
			perRouteAt(matcherRoute) + action + ".dynamic_config", "Failed to get downstream factory context or server factory context."},
		{"dynamic module by name", httpFilter(dynamicModule, module("name: m")), "", ""},
		{"dynamic module from a file", httpFilter(dynamicModule, module("module: {local: {filename: /m.so}}")), "", ""},
		{"dynamic module remote", httpFilter(dynamicModule, module(remote)), "", ""},
		{"dynamic module without source", httpFilter(dynamicModule, module("do_not_close: true")),
			filterAt(dynamicModule) + ".dynamic_module_config", "Either 'name' or 'module' must be specified in dynamic_module_config"},
		{"dynamic module inline", httpFilter(dynamicModule, module("module: {local: {inline_bytes: AAAA}}")),
			filterAt(dynamicModule) + ".dynamic_module_config.module", "Only local file path or remote HTTP source is supported for module sources"},
		{"dynamic module remote per route", perRoute(matcherRoute, composed("typed_config: {name: m, typed_config: {'@type': type.googleapis.com/"+dynamicModule+", "+module(remote)+"}}")),
			perRouteAt(matcherRoute) + action + ".typed_config.typed_config<DynamicModuleFilter>.dynamic_module_config.module.remote", "Remote module sources require an init manager"},
	}
}

func init() { registerCases(casesCompositeRules) }
