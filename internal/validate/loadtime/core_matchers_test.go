package loadtime_test

import "testing"

func TestCoreMatcherRules(t *testing.T) { runRules(t, casesCoreMatcherRules()) }

func casesCoreMatcherRules() []ruleCase {
	const routeAction = "{action: {name: r, typed_config: {'@type': type.googleapis.com/envoy.config.route.v3.Route, match: {prefix: /}, route: {cluster: app}}}}"
	const authority = "{name: h, typed_config: {'@type': type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: ':authority'}}"
	const celInput = "{name: cel, typed_config: {'@type': type.googleapis.com/xds.type.matcher.v3.HttpAttributesCelMatchInput}}"
	const celMatch = "custom_match: {name: m, typed_config: {'@type': type.googleapis.com/xds.type.matcher.v3.CelMatcher, expr_match: {cel_expr_parsed: {expr: {const_expr: {bool_value: true}}}}}}"
	// vhostMatcher: a bootstrap whose virtual host routes by a match tree (YAML flow mapping body).
	vhostMatcher := func(tree string) string {
		return routes("virtual_hosts: [{name: v, domains: ['*'], matcher: {" + tree + "}}]")
	}
	serverNames := func(domains ...string) string {
		var dms string
		for i, d := range domains {
			if i > 0 {
				dms += ", "
			}
			dms += "{domains: [" + d + "], on_match: " + routeAction + "}"
		}
		return vhostMatcher("matcher_tree: {input: " + authority + ", custom_match: {name: d, typed_config: {'@type': " +
			"type.googleapis.com/xds.type.matcher.v3.ServerNameMatcher, domain_matchers: [" + dms + "]}}}")
	}
	const sn = routeCfg + ".virtual_hosts[0].matcher.matcher_tree.custom_match.typed_config<ServerNameMatcher>.domain_matchers"
	rbacTree := func(tree string) string {
		return httpFilter(httpRBAC, "matcher: {"+tree+"}")
	}
	celPredicate := func(match string) string {
		return "matcher_list: {matchers: [{predicate: {single_predicate: {input: " + celInput + ", " + match + "}}, on_match: {" + rbacAction + "}}]}"
	}
	generic := func(routes string) string {
		return netFilter("envoy.extensions.filters.network.generic_proxy.v3.GenericProxy", "stat_prefix: g, "+
			"codec_config: {name: c, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.generic_proxy.codecs.dubbo.v3.DubboCodecConfig}}, "+
			"filters: [{name: router, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.generic_proxy.router.v3.Router}}], "+
			"route_config: {name: t, virtual_hosts: [{name: a, hosts: ['*'], routes: "+routes+"}]}")
	}
	const genericAction = "action: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.generic_proxy.action.v3.RouteAction, cluster: app}}"
	const genericInput = "{name: s, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.generic_proxy.matcher.v3.ServiceMatchInput}}"
	return []ruleCase{
		{"server names", serverNames("api.example.com, '*.example.com'", "'*'"), "", ""},
		{"server name twice", serverNames("api.example.com", "'*.example.com', api.example.com"),
			sn + "[1].domains[1]", "Duplicate domain in ServerNameMatcher: api.example.com"},
		{"server name empty", serverNames("''"), sn + "[0].domains[0]", "Empty domain in ServerNameMatcher"},
		{"server name partial wildcard", serverNames("'*w.example.com'"),
			sn + "[0].domains[0]", "Invalid wildcard domain format: *w.example.com. Only '*' and '*.domain' patterns are supported"},
		{"server name trailing wildcard", serverNames("'api.*'"),
			sn + "[0].domains[0]", "Invalid wildcard domain format: api.*. Only '*' and '*.domain' patterns are supported"},
		{"server name two wildcards", serverNames("'*.*.com'"),
			sn + "[0].domains[0]", "Invalid wildcard domain format: *.*.com. Multiple wildcards are not supported"},

		{"route tree keep matching", vhostMatcher("matcher_list: {matchers: [{predicate: {single_predicate: {input: " + authority +
			", value_match: {exact: a}}}, on_match: {keep_matching: true, action: {name: r, typed_config: {'@type': type.googleapis.com/envoy.config.route.v3.Route, match: {prefix: /}, route: {cluster: app}}}}}]}, on_no_match: " + routeAction),
			routeCfg + ".virtual_hosts[0].matcher.matcher_list.matchers[0].on_match.keep_matching",
			"requirement violation while creating route match tree: keep_matching is not supported in this context"},
		{"route tree", vhostMatcher("matcher_list: {matchers: [{predicate: {single_predicate: {input: " + authority +
			", value_match: {exact: a}}}, on_match: " + routeAction + "}]}"), "", ""},
		{"generic route keep matching", generic("{on_no_match: {keep_matching: true, " + genericAction + "}}"),
			"static_resources.listeners[0].filter_chains[0].filters[0].typed_config<GenericProxy>.route_config.virtual_hosts[0].routes.on_no_match.keep_matching",
			"requirement violation while creating route match tree: keep_matching is not supported in this context"},
		{"generic route", generic("{matcher_list: {matchers: [{predicate: {single_predicate: {input: " + genericInput + ", value_match: {exact: s}}}, on_match: {" + genericAction + "}}]}}"), "", ""},

		{"cel input with a string matcher", rbacTree(celPredicate("value_match: {exact: x}")),
			filterAt(httpRBAC) + ".matcher.matcher_list.matchers[0].predicate.single_predicate.input", "Unsupported data input type: cel_data_input"},
		{"header input with a cel matcher", rbacTree("matcher_list: {matchers: [{predicate: {single_predicate: {input: " + authority + ", " + celMatch + "}}, on_match: {" + rbacAction + "}}]}"),
			filterAt(httpRBAC) + ".matcher.matcher_list.matchers[0].predicate.single_predicate.input", "Unsupported data input type: string"},
		{"cel input with a cel matcher", rbacTree(celPredicate(celMatch)), "", ""},
		{"cel input in a map", rbacTree("matcher_tree: {input: " + celInput + ", exact_match_map: {map: {a: {" + rbacAction + "}}}}"),
			filterAt(httpRBAC) + ".matcher.matcher_tree.input", "Unsupported data input type: cel_data_input, currently only string type is supported in map matcher"},
		{"cel input in a domain matcher", rbacTree("matcher_tree: {input: " + celInput + ", custom_match: {name: d, typed_config: {'@type': type.googleapis.com/xds.type.matcher.v3.ServerNameMatcher, domain_matchers: [{domains: [a.com], on_match: {" + rbacAction + "}}]}}}"),
			filterAt(httpRBAC) + ".matcher.matcher_tree.input", "currently only string type is supported in domain matcher"},
		{"cel input in an ip range matcher", rbacTree("matcher_tree: {input: " + celInput + ", custom_match: {name: d, typed_config: {'@type': type.googleapis.com/xds.type.matcher.v3.IPMatcher, range_matchers: [{ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}], on_match: {" + rbacAction + "}}]}}}"),
			filterAt(httpRBAC) + ".matcher.matcher_tree.input", "currently only string type is supported in IP range matcher"},
		{"header input in a map", rbacTree("matcher_tree: {input: " + authority + ", exact_match_map: {map: {a: {" + rbacAction + "}}}}"), "", ""},
	}
}

func init() { registerCases(casesCoreMatcherRules) }
