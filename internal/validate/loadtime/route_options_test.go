package loadtime_test

import (
	"strings"
	"testing"
)

func TestRouteOptionRules(t *testing.T) { runRules(t, casesRouteOptionRules()) }

// oneRoute returns a bootstrap whose route table has one virtual host with one route: match and action are YAML
// flow mapping bodies; vhost and table are extra fields of the virtual host and the route table.
func oneRoute(match, action, vhost, table string) string {
	return routes(table + "virtual_hosts: [{name: v, domains: ['*'], " + vhost + "routes: [{match: {" + match + "}, route: {" + action + "}}]}]\n")
}

func casesRouteOptionRules() []ruleCase {
	const rp = routeCfg + ".virtual_hosts[0].routes[0]"
	const structAny = "{'@type': type.googleapis.com/google.protobuf.Struct, value: {}}"
	luaPlugin := func(code string) string {
		return "cluster_specifier_plugins: [{extension: {name: lua, typed_config: {'@type': type.googleapis.com/envoy.extensions.router.cluster_specifiers.lua.v3.LuaConfig, source_code: {inline_string: " + yamlQuote(code) + "}, default_cluster: app}}}]\n"
	}
	routeAction := "{action: {name: r, typed_config: {'@type': type.googleapis.com/envoy.config.route.v3.Route, match: {prefix: /}, route: {cluster: app}}}}"
	matcherHost := func(input string) string {
		return routes("virtual_hosts: [{name: v, domains: ['*'], matcher: {matcher_tree: {input: {name: i, typed_config: " + input + "}, exact_match_map: {map: {a: " + routeAction + "}}}, on_no_match: " + routeAction + "}}]\n")
	}
	perFilter := func(configs string) string {
		return oneRoute("prefix: /", "cluster: app", "typed_per_filter_config: {"+configs+"}, ", "")
	}
	const vp = routeCfg + ".virtual_hosts[0].typed_per_filter_config"
	return []ruleCase{
		{"mirror with cluster and header", oneRoute("prefix: /", "cluster: app, request_mirror_policies: [{cluster: app, cluster_header: x-mirror}]", "", ""),
			rp + ".route.request_mirror_policies[0].cluster_header", "Only one of cluster 'app' or cluster_header 'x-mirror' in request mirror policy can be specified"},
		{"mirror without cluster", oneRoute("prefix: /", "cluster: app, request_mirror_policies: [{runtime_fraction: {default_value: {numerator: 1}}}]", "", ""),
			rp + ".route.request_mirror_policies[0]", "Exactly one of cluster or cluster_header in request mirror policy need to be specified"},
		{"mirror by header", oneRoute("prefix: /", "cluster: app, request_mirror_policies: [{cluster_header: x-mirror}]", "", ""), "", ""},

		{"redirect copying a pseudo-header", oneRoute("prefix: /", "cluster: app, internal_redirect_policy: {response_headers_to_copy: [':authority']}", "", ""),
			rp + ".route.internal_redirect_policy.response_headers_to_copy[0]", ":-prefixed headers or Hosts may not be specified here."},
		{"redirect copying a header", oneRoute("prefix: /", "cluster: app, internal_redirect_policy: {response_headers_to_copy: [x-trace]}", "", ""), "", ""},

		{"path rewrite format", oneRoute("prefix: /", "cluster: app, path_rewrite: '/v2%REQ(:path'", "", ""),
			rp + ".route.path_rewrite", "Failed to create path rewrite formatter: Incorrect configuration: /v2%REQ(:path."},
		{"host rewrite format", oneRoute("prefix: /", "cluster: app, host_rewrite: '%NOPE%'", "", ""),
			rp + ".route.host_rewrite", "Failed to create host rewrite formatter: Not supported field in StreamInfo: NOPE"},
		{"path rewrite", oneRoute("prefix: /", "cluster: app, path_rewrite: '/v2%REQ(:path)%'", "", ""), "", ""},

		{"cluster specifier plugin of no extension", oneRoute("prefix: /", "cluster: app", "", "cluster_specifier_plugins: [{extension: {name: p, typed_config: "+structAny+"}}]\n"),
			routeCfg + ".cluster_specifier_plugins[0].extension.typed_config", "Didn't find a registered implementation for 'p' with type URL: 'google.protobuf.Struct'"},
		{"optional cluster specifier plugin of another category", oneRoute("prefix: /", "cluster: app", "", "cluster_specifier_plugins: [{is_optional: true, extension: {name: p, typed_config: {'@type': "+routerType+"}}}]\n"), "", ""},
		{"optional cluster specifier plugin of no extension", oneRoute("prefix: /", "cluster: app", "", "cluster_specifier_plugins: [{is_optional: true, extension: {name: p, typed_config: "+structAny+"}}]\n"), "", ""},
		{"unknown cluster specifier plugin", oneRoute("prefix: /", "cluster_specifier_plugin: nope", "", luaPlugin("function envoy_on_route(h) end")),
			rp + ".route.cluster_specifier_plugin", "Unknown cluster specifier plugin name: nope is used in the route"},
		{"cluster specifier plugin", oneRoute("prefix: /", "cluster_specifier_plugin: lua", "", luaPlugin("function envoy_on_route(h)\n  return 'app'\nend")), "", ""},
		{"lua cluster specifier without its hook", oneRoute("prefix: /", "cluster_specifier_plugin: lua", "", luaPlugin("function envoy_on_request(h) end")),
			routeCfg + ".cluster_specifier_plugins[0].extension.typed_config<LuaConfig>.source_code", "envoy_on_route() function not found. Lua will not hook cluster specifier."},

		{"per-route config of the router", perFilter("envoy.filters.http.router: {'@type': " + routerType + "}"),
			vp + "[\"envoy.filters.http.router\"]", "The filter envoy.filters.http.router doesn't support virtual host or route specific configurations"},
		{"per-route config of no filter", perFilter("x: " + structAny), vp + "[\"x\"]", "Didn't find a registered implementation for 'x' with type URL: 'google.protobuf.Struct'"},
		{"per-route filter config without config", perFilter("cors: {'@type': type.googleapis.com/envoy.config.route.v3.FilterConfig}"),
			vp + "[\"cors\"]", "Empty route/virtual host per filter configuration for cors filter"},
		{"per-route configs", perFilter("cors: {'@type': type.googleapis.com/envoy.config.route.v3.CorsPolicy}, " +
			"buf: {'@type': type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true}, " +
			"r: {'@type': type.googleapis.com/envoy.config.route.v3.FilterConfig, is_optional: true, config: {'@type': " + routerType + "}}, " +
			"rbac: {'@type': type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute}"), "", ""},

		{"route match on the port", matcherHost("{'@type': type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput}"),
			routeCfg + ".virtual_hosts[0].matcher.matcher_tree.input", "requirement violation while creating route match tree: Route table can only match on request headers, saw type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput"},
		{"route match on a header", matcherHost("{'@type': type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: host}"), "", ""},

		{"expression descriptor without expression", oneRoute("prefix: /", "cluster: app, rate_limits: [{actions: [{extension: {name: e, typed_config: {'@type': type.googleapis.com/envoy.extensions.rate_limit_descriptors.expr.v3.Descriptor, descriptor_key: k}}}]}]", "", ""),
			rp + ".route.rate_limits[0].actions[0].extension.typed_config<Descriptor>", "Rate limit descriptor extension failed: expression specifier is not set"},
		{"matching input as a rate limit descriptor", oneRoute("prefix: /", "cluster: app, rate_limits: [{actions: [{extension: {name: custom, typed_config: {'@type': type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: x-h}}}]}]", "", ""), "", ""},
		{"expression descriptor", oneRoute("prefix: /", "cluster: app, rate_limits: [{actions: [{extension: {name: e, typed_config: {'@type': type.googleapis.com/envoy.extensions.rate_limit_descriptors.expr.v3.Descriptor, descriptor_key: k, text: request.path}}}]}]", "", ""), "", ""},
	}
}

func TestScopedRouteRules(t *testing.T) { runRules(t, casesScopedRouteRules()) }

// scopedRoutes returns a bootstrap whose connection manager has scoped routes with the given fragment (YAML flow
// mapping body of a header_value_extractor) and inline scope (YAML flow mapping body).
func scopedRoutes(extractor, scope string) string {
	body := "stat_prefix: in\nhttp_filters: [{name: envoy.filters.http.router, typed_config: {'@type': " + routerType + "}}]\n" +
		"scoped_routes: {name: s, scope_key_builder: {fragments: [{header_value_extractor: {name: x-tenant, " + extractor + "}}]}, " +
		"scoped_route_configurations_list: {scoped_route_configurations: [{name: a, key: {fragments: [{string_key: a}]}, " + scope + "}]}}\n"
	return listener("filter_chains:\n- filters:\n  - name: hcm\n    typed_config:\n      '@type': " + hcmType + "\n" + indent(body, "      "))
}

func casesScopedRouteRules() []ruleCase {
	const sp = hcmPath + ".scoped_routes"
	table := "route_configuration: {name: r, virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}}]}]}"
	return []ruleCase{
		{"inline scope by name", scopedRoutes("index: 0", "route_configuration_name: r"),
			sp + ".scoped_route_configurations_list.scoped_route_configurations[0].route_configuration_name", "Fetching routes via RDS (route_configuration_name) is not supported with inline scoped routes."},
		{"inline scope without a table", scopedRoutes("index: 0", "on_demand: false"),
			sp + ".scoped_route_configurations_list.scoped_route_configurations[0]", "You must specify a route_configuration with inline scoped routes."},
		{"scope key index without separator", scopedRoutes("index: 1", table),
			sp + ".scope_key_builder.fragments[0].header_value_extractor.index", "Index > 0 for empty string element separator."},
		{"scope key without extract type", scopedRoutes("element_separator: ','", table),
			sp + ".scope_key_builder.fragments[0].header_value_extractor", "HeaderValueExtractor extract_type not set."},
		{"inline scope", scopedRoutes("element_separator: ',', index: 1", table), "", ""},
	}
}

func TestURITemplateRules(t *testing.T) { runRules(t, casesURITemplateRules()) }

func casesURITemplateRules() []ruleCase {
	const rp = routeCfg + ".virtual_hosts[0].routes[0]"
	const mp = rp + ".match.path_match_policy.typed_config<UriTemplateMatchConfig>.path_template"
	const wp = rp + ".route.path_rewrite_policy.typed_config<UriTemplateRewriteConfig>.path_template_rewrite"
	template := func(match, rewrite string) string {
		m := "prefix: /"
		if match != "" {
			m = "path_match_policy: {name: m, typed_config: {'@type': type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: " + yamlQuote(match) + "}}"
		}
		a := "cluster: app"
		if rewrite != "" {
			a += ", path_rewrite_policy: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig, path_template_rewrite: " + yamlQuote(rewrite) + "}}"
		}
		return oneRoute(m, a, "", "")
	}
	bad := func(name, match, reason string) ruleCase {
		return ruleCase{name, template(match, ""), mp, "path_match_policy.path_template " + match + " is invalid: " + reason}
	}
	badRewrite := func(name, rewrite, reason string) ruleCase {
		return ruleCase{name, template("/{a}", rewrite), wp, "path_rewrite_policy.path_template_rewrite " + rewrite + " is invalid (" + reason + ")"}
	}
	return []ruleCase{
		bad("template with an open variable", "/foo/{bar", `Unmatched variable bracket in "{bar"`),
		bad("template variable named with a digit", "/{9x}", `Invalid variable name: "9x"`),
		bad("template variable with an empty match", "/{x=}", "Empty variable match"),
		bad("template variable match ending with a slash", "/{x=a/}", `Invalid variable match: "/"`),
		bad("template with a space", "/a b", `Invalid pattern: "/a b"`),
		bad("template with a lone brace", "/{", `Invalid variable: "{"`),
		bad("template literal with a hash", "/a/#", `Invalid literal: "#"`),
		bad("template with six variables", "/{a}/{b}/{c}/{d}/{e}/{f}", "Exceeded variable count limit (5)"),
		bad("template variable name too long", "/{abcdefghijklmnopq}", `Invalid variable name length (length of "abcdefghijklmnopq" should be at least 1 and no more than 16)`),
		bad("template variable twice", "/{a}/{a}", `Repeated variable name: "a"`),
		bad("template glob after text glob", "/**/*", "Glob after text glob."),
		bad("template variable after text glob", "/**/{x}", "Implicit variable path glob after text glob."),
		bad("template variable glob after text glob", "/**/{x=*}", "Glob after text glob."),
		bad("template suffix then segments", "/*abc/x", "Prefix match not supported."),
		{"templates", template("/v1/{a}/{rest=**}.js", "/v2/{rest}/{a}"), "", ""},
		{"template with a trailing slash and a literal asterisk", template("/a*b/{x}/", ""), "", ""},

		badRewrite("rewrite without a slash", "x", "Invalid rewrite variable placement"),
		badRewrite("rewrite with two slashes", "/a//b", "Invalid rewrite literal"),
		badRewrite("rewrite literal with a hash", "/a#", "Invalid rewrite literal pattern"),
		badRewrite("rewrite with an open variable", "/{a", "Unmatched variable bracket"),
		badRewrite("rewrite variable named with a digit", "/{9}", "Invalid variable name"),
		{"rewrite of a variable not captured", template("/{a}", "/{b}"), rp + ".route.path_rewrite_policy",
			"mismatch between variables in path_match_policy /{a} and path_rewrite_policy /{b} (Nonexisting variable name: b)"},
		{"rewrite without the template matcher", template("", "/{a}"), rp + ".route.path_rewrite_policy",
			"unable to use envoy.path.rewrite.uri_template.uri_template_rewriter extension without envoy.path.match.uri_template.uri_template_matcher extension"},
		{"mixed segments", template("/api/v{version}/users/{id}.json/x", "/v2/{version}/{id}"), "", ""},
		{"mixed segments when the runtime guard is off", strings.Replace(template("/api/v{version}", ""), "static_resources:", "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.uri_template_mixed_variable_literals: false}}]}\nstatic_resources:", 1),
			mp, `path_match_policy.path_template /api/v{version} is invalid: Invalid literal: "v{version}"`},
		{"rewrite of a variable a mixed template does not capture", template("/api/v{version}", "/{id}"), rp + ".route.path_rewrite_policy", "Nonexisting variable name: id"},
	}
}

func TestRouteLayerRules(t *testing.T) { runLayerCases(t, casesRouteLayerRules()) }

// casesRouteLayerRules are the route table's cluster references, which the validator's cross-reference layer
// checks.
func casesRouteLayerRules() []ruleCase {
	const rp = routeCfg + ".virtual_hosts[0].routes[0].route"
	return []ruleCase{
		{"route mirror to unknown cluster", oneRoute("prefix: /", "cluster: app, request_mirror_policies: [{cluster: nope}]", "", ""),
			rp + ".request_mirror_policies[0].cluster", "unknown cluster \"nope\""},
		{"route to unknown weighted cluster", oneRoute("prefix: /", "weighted_clusters: {clusters: [{name: app, weight: 1}, {name: nope, weight: 1}]}", "", ""),
			rp + ".weighted_clusters.clusters[1].name", "unknown cluster \"nope\""},
	}
}

func init() {
	registerCases(casesRouteOptionRules, casesScopedRouteRules, casesURITemplateRules)
	registerLayerCases(casesRouteLayerRules)
}
