package loadtime_test

import (
	"strconv"
	"testing"
)

func TestMatcherRules(t *testing.T) { runRules(t, casesMatcherRules()) }

func casesMatcherRules() []ruleCase {
	header := func(match string) string {
		return routes("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /, headers: [{name: x-user, string_match: " + match + "}]}, route: {cluster: app}}]}]\n")
	}
	const hm = routeCfg + ".virtual_hosts[0].routes[0].match.headers[0].string_match"
	lua := func(code string) string {
		return header("{custom: {name: lua, typed_config: {'@type': type.googleapis.com/envoy.extensions.string_matcher.lua.v3.Lua, source_code: {inline_string: '" + code + "'}}}}")
	}
	hashing := func(threshold int) string {
		return hcm("http_filters:\n- name: m\n  typed_config:\n    '@type': type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher\n" +
			"    extension_config: {name: f, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer, max_request_bytes: 1024}}\n" +
			"    xds_matcher: {matcher_list: {matchers: [{predicate: {single_predicate: {input: {name: h, typed_config: {'@type': type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: x-user}}, " +
			"custom_match: {name: ch, typed_config: {'@type': type.googleapis.com/envoy.extensions.matching.input_matchers.consistent_hashing.v3.ConsistentHashing, modulo: 10, threshold: " + strconv.Itoa(threshold) + "}}}}, " +
			"on_match: {action: {name: skip, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter}}}}]}}\n" +
			"- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + "}}\n")
	}
	ecds := func(types string) string {
		return hcm("http_filters:\n- {name: b, config_discovery: {config_source: {path_config_source: {path: /etc/b.yaml}}, default_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer, max_request_bytes: 1024}, type_urls: [" + types + "]}}\n" +
			"- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + "}}\n")
	}
	return []ruleCase{
		{"regex matcher case-insensitive in the regex", header("{safe_regex: {regex: '(?i)admin.*'}}"), "", ""},
		{"regex matcher with ignore_case", header("{safe_regex: {regex: 'admin.*'}, ignore_case: true}"), hm + ".ignore_case", "ignore_case has no effect for safe_regex."},
		{"prefix matcher with ignore_case", header("{prefix: admin, ignore_case: true}"), "", ""},
		{"lua string matcher", lua("function envoy_match(v) return v == \"x\" end"), "", ""},
		{"lua string matcher without envoy_match", lua("function match(v) return true end"),
			hm + ".custom.typed_config<Lua>.source_code.inline_string", "Lua code did not contain a global function named 'envoy_match'"},
		{"consistent hashing", hashing(10), "", ""},
		{"consistent hashing threshold above modulo", hashing(11),
			hcmPath + ".http_filters[0].typed_config<ExtensionWithMatcher>.xds_matcher.matcher_list.matchers[0].predicate.single_predicate.custom_match.typed_config<ConsistentHashing>.threshold",
			"threshold cannot be greater than modulo: 11 > 10"},
		{"extension config default of an accepted type", ecds("type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer"), "", ""},
		{"extension config default of another type", ecds("type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"),
			hcmPath + ".http_filters[0].config_discovery.default_config", "Error: filter config has type URL envoy.extensions.filters.http.buffer.v3.Buffer but expect envoy.extensions.filters.http.cors.v3.Cors."},
	}
}

func init() { registerCases(casesMatcherRules) }
