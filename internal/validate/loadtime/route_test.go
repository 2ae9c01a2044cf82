package loadtime_test

import "testing"

func TestRouteRules(t *testing.T) { runRules(t, casesRouteRules()) }

func casesRouteRules() []ruleCase {
	const rt = "{match: {prefix: /}, route: {cluster: app}}"
	vh := func(name, domains string) string {
		return "- {name: " + name + ", domains: " + domains + ", routes: [" + rt + "]}\n"
	}
	route := func(action string) string {
		return "name: r\nvirtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: {prefix: /}, " + action + "}]}\n"
	}
	return []ruleCase{
		{"domains", routes("name: r\nvirtual_hosts:\n" + vh("a", "[a.com, '*.a.com']") + vh("b", "['*', b.com]")), "", ""},
		{"two wildcards", routes("name: r\nvirtual_hosts:\n" + vh("a", "['*']") + vh("b", "['*']")),
			routeCfg + ".virtual_hosts[1].domains[0]", "Only a single wildcard domain is permitted in route r"},
		{"duplicate domain", routes("name: r\nvirtual_hosts:\n" + vh("a", "[a.com]") + vh("b", "[A.com]")),
			routeCfg + ".virtual_hosts[1].domains[0]", "Only unique values for domains are permitted. Duplicate entry of domain a.com in route r"},
		{"duplicate suffix wildcard", routes("name: r\nvirtual_hosts:\n" + vh("a", "['*.a.com']") + vh("b", "['*.a.com']")),
			routeCfg + ".virtual_hosts[1].domains[0]", "Duplicate entry of domain *.a.com"},
		{"matcher and routes", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [" + rt + "], matcher: {on_no_match: {action: {name: r, typed_config: {'@type': type.googleapis.com/envoy.config.route.v3.Route, match: {prefix: /}, route: {cluster: app}}}}}}\n"),
			routeCfg + ".virtual_hosts[0].matcher", "cannot set both matcher and routes on virtual host"},
		{"virtual cluster without headers", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [" + rt + "], virtual_clusters: [{name: vc}]}\n"),
			routeCfg + ".virtual_hosts[0].virtual_clusters[0]", "virtual clusters must define 'headers'"},
		{"virtual cluster", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [" + rt + "], virtual_clusters: [{name: vc, headers: [{name: ':path', string_match: {prefix: /a}}]}]}\n"), "", ""},

		{"prefix rewrite", routes(route("route: {cluster: app, prefix_rewrite: /b}")), "", ""},
		{"two rewrites", routes(route("route: {cluster: app, prefix_rewrite: /b, regex_rewrite: {pattern: {regex: '^/a'}, substitution: /b}}")),
			routeCfg + ".virtual_hosts[0].routes[0].route", "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy"},
		{"prefix rewrite with path template", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: {path_match_policy: {name: t, typed_config: {'@type': type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: '/a/{x}'}}}, route: {cluster: app, prefix_rewrite: /b}}]}\n"),
			routeCfg + ".virtual_hosts[0].routes[0].route.prefix_rewrite", "Cannot use prefix_rewrite with matcher extension"},
		{"duplicate route upgrade", routes(route("route: {cluster: app, upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: websocket}]}")),
			routeCfg + ".virtual_hosts[0].routes[0].route.upgrade_configs[1]", "Duplicate upgrade websocket"},
		{"connect config on websocket", routes(route("route: {cluster: app, upgrade_configs: [{upgrade_type: websocket, connect_config: {}}]}")),
			routeCfg + ".virtual_hosts[0].routes[0].route.upgrade_configs[0].connect_config", "Non-CONNECT upgrade type websocket has ConnectConfig"},
		{"connect config on CONNECT", routes(route("route: {cluster: app, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}")), "", ""},

		{"weights", routes(route("route: {weighted_clusters: {clusters: [{name: app, weight: 0}, {name: app, weight: 1}]}}")), "", ""},
		{"zero weights", routes(route("route: {weighted_clusters: {clusters: [{name: app, weight: 0}, {name: app, weight: 0}]}}")),
			routeCfg + ".virtual_hosts[0].routes[0].route.weighted_clusters.clusters", "Sum of weights in the weighted_cluster must be greater than 0."},
		{"weights over 32 bits", routes(route("route: {weighted_clusters: {clusters: [{name: app, weight: 4294967295}, {name: app, weight: 1}]}}")),
			routeCfg + ".virtual_hosts[0].routes[0].route.weighted_clusters.clusters", "exceeds 4294967295"},

		{"retry back-off", routes(route("route: {cluster: app, retry_policy: {retry_back_off: {base_interval: 0.1s, max_interval: 1s}}}")), "", ""},
		{"retry back-off ceiling below base", routes(route("route: {cluster: app, retry_policy: {retry_back_off: {base_interval: 1s, max_interval: 0.5s}}}")),
			routeCfg + ".virtual_hosts[0].routes[0].route.retry_policy.retry_back_off.max_interval", "retry_policy.max_interval must greater than or equal to the base_interval"},
		{"core retry back-off", "static_resources:\n  clusters: [{name: app, type: STATIC}]\n" +
			"bootstrap_extensions: [{name: w, typed_config: {'@type': type.googleapis.com/envoy.extensions.wasm.v3.WasmService, config: {vm_config: {runtime: envoy.wasm.runtime.v8, code: {remote: {http_uri: {uri: 'http://x/a.wasm', cluster: app, timeout: 1s}, sha256: abc, retry_policy: {retry_back_off: {base_interval: 2s, max_interval: 1s}}}}}}}}]\n",
			"bootstrap_extensions[0].typed_config<WasmService>.config.vm_config.code.remote.retry_policy.retry_back_off.max_interval", "max_interval must be greater than or equal to the base_interval"},
	}
}

func TestHeaderRules(t *testing.T) { runRules(t, casesHeaderRules()) }

func casesHeaderRules() []ruleCase {
	route := func(extra string) string {
		return "name: r\n" + extra + "virtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}}]}\n"
	}
	return []ruleCase{
		{"custom header", routes(route("request_headers_to_add: [{header: {key: x-a, value: '%REQ(:AUTHORITY)%'}}]\n")), "", ""},
		{"host header", routes(route("request_headers_to_add: [{header: {key: Host, value: a}}]\n")),
			routeCfg + ".request_headers_to_add[0].header.key", ":-prefixed or host headers may not be modified"},
		{"remove path", routes(route("request_headers_to_remove: [':path']\n")),
			routeCfg + ".request_headers_to_remove[0]", ":-prefixed or host headers may not be removed"},
		{"append and append_action", routes(route("response_headers_to_add: [{header: {key: x-a, value: b}, append: true, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]\n")),
			routeCfg + ".response_headers_to_add[0].append", "Both append and append_action are set and it's not allowed"},
		{"unknown command in header value", routes(route("request_headers_to_add: [{header: {key: x-a, value: '%DOWNSTREAM_REMOTE_ADRESS%'}}]\n")),
			routeCfg + ".request_headers_to_add[0].header.value", "Not supported field in StreamInfo: DOWNSTREAM_REMOTE_ADRESS"},
		{"virtual host header", routes("virtual_hosts:\n- {name: v, domains: ['*'], request_headers_to_add: [{header: {key: ':authority', value: a}}], routes: [{match: {prefix: /}, route: {cluster: app}}]}\n"),
			routeCfg + ".virtual_hosts[0].request_headers_to_add[0].header.key", ":-prefixed or host headers may not be modified"},
		{"route header", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}, response_headers_to_remove: [host]}]}\n"),
			routeCfg + ".virtual_hosts[0].routes[0].response_headers_to_remove[0]", ":-prefixed or host headers may not be removed"},
		{"weighted cluster header", routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {weighted_clusters: {clusters: [{name: app, weight: 1, request_headers_to_add: [{header: {key: ':method', value: GET}}]}]}}}]}\n"),
			routeCfg + ".virtual_hosts[0].routes[0].route.weighted_clusters.clusters[0].request_headers_to_add[0].header.key", ":-prefixed or host headers may not be modified"},
	}
}

func init() { registerCases(casesRouteRules, casesHeaderRules) }
