package loadtime_test

import "testing"

const (
	httpRBAC      = "envoy.extensions.filters.http.rbac.v3.RBAC"
	httpRBACRoute = "envoy.extensions.filters.http.rbac.v3.RBACPerRoute"
	rbacAction    = "action: {name: allow, typed_config: {'@type': type.googleapis.com/envoy.config.rbac.v3.Action, name: allow, action: ALLOW}}"
)

// rbacPolicy returns RBAC filter fields with one ALLOW policy of the given permission and principal.
func rbacPolicy(permission, principal string) string {
	return "rules: {action: ALLOW, policies: {p: {permissions: [" + permission + "], principals: [" + principal + "]}}}"
}

// rbacMatcher returns RBAC filter fields with a matcher on one input (a type and its fields) allowing a prefix.
func rbacMatcher(field, input, onMatch string) string {
	return field + ": {matcher_list: {matchers: [{predicate: {single_predicate: {input: {name: i, typed_config: {'@type': type.googleapis.com/" +
		input + "}}, value_match: {prefix: /}}}, on_match: {" + onMatch + "}}]}}"
}

func TestRBACRules(t *testing.T) { runRules(t, casesRBACRules()) }

func casesRBACRules() []ruleCase {
	const policy = ".rules.policies[\"p\"]"
	const header = "envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: ':path'"
	return []ruleCase{
		{"rbac ip and ports", httpFilter(httpRBAC, rbacPolicy("{destination_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}, {destination_port_range: {start: 0, end: 65536}}",
			"{source_ip: {address_prefix: '::1', prefix_len: 128}}, {remote_ip: {address_prefix: 192.168.0.1, prefix_len: 32}}")), "", ""},
		{"rbac destination host name", httpFilter(httpRBAC, rbacPolicy("{destination_ip: {address_prefix: db.internal, prefix_len: 32}}", "{any: true}")),
			filterAt(httpRBAC) + policy + ".permissions[0].destination_ip.address_prefix", "Failed to create CIDR range: malformed IP address: db.internal"},
		{"rbac remote host name", perRoute(httpRBACRoute, "rbac: {"+rbacPolicy("{any: true}", "{and_ids: {ids: [{any: true}, {direct_remote_ip: {address_prefix: '10.0.0.256', prefix_len: 32}}]}}")+"}"),
			perRouteAt(httpRBACRoute) + ".rbac" + policy + ".principals[0].and_ids.ids[1].direct_remote_ip.address_prefix", "Failed to create CIDR range: malformed IP address: 10.0.0.256"},
		{"rbac host name in rules beside a matcher", httpFilter(httpRBAC, rbacPolicy("{destination_ip: {address_prefix: db.internal, prefix_len: 32}}", "{any: true}")+", "+
			rbacMatcher("matcher", header, rbacAction)), "", ""},
		{"rbac port range start out of bounds", httpFilter(httpRBAC, rbacPolicy("{destination_port_range: {start: -1, end: 80}}", "{any: true}")),
			filterAt(httpRBAC) + policy + ".permissions[0].destination_port_range", "range start -1 is out of bounds"},
		{"rbac port range end out of bounds", httpFilter(httpRBAC, rbacPolicy("{destination_port_range: {start: 80, end: 65537}}", "{any: true}")),
			filterAt(httpRBAC) + policy + ".permissions[0].destination_port_range", "range end 65537 is out of bounds"},
		{"rbac empty port range", httpFilter(httpRBAC, "shadow_rules: {policies: {p: {permissions: [{not_rule: {destination_port_range: {start: 80, end: 80}}}], principals: [{any: true}]}}}"),
			filterAt(httpRBAC) + ".shadow_rules.policies[\"p\"].permissions[0].not_rule.destination_port_range", "range start 80 cannot be greater or equal than range end 80"},
		{"rbac upstream ip port", httpFilter(httpRBAC, rbacPolicy("{matcher: {name: u, typed_config: {'@type': type.googleapis.com/envoy.extensions.rbac.matchers.upstream_ip_port.v3.UpstreamIpPortMatcher, upstream_port_range: {start: 80, end: 81}}}}", "{any: true}")), "", ""},
		{"rbac upstream ip port without either", httpFilter(httpRBAC, rbacPolicy("{matcher: {name: u, typed_config: {'@type': type.googleapis.com/envoy.extensions.rbac.matchers.upstream_ip_port.v3.UpstreamIpPortMatcher}}}", "{any: true}")),
			filterAt(httpRBAC) + policy + ".permissions[0].matcher.typed_config<UpstreamIpPortMatcher>", "Invalid UpstreamIpPortMatcher configuration - missing `upstream_ip` and/or `upstream_port_range`"},
		{"rbac mtls authenticated", httpFilter(httpRBAC, rbacPolicy("{any: true}", "{custom: {name: m, typed_config: {'@type': type.googleapis.com/envoy.extensions.rbac.principals.mtls_authenticated.v3.Config, any_validated_client_certificate: true}}}")), "", ""},
		{"rbac mtls authenticated without validation", httpFilter(httpRBAC, rbacPolicy("{any: true}", "{custom: {name: m, typed_config: {'@type': type.googleapis.com/envoy.extensions.rbac.principals.mtls_authenticated.v3.Config}}}")),
			filterAt(httpRBAC) + policy + ".principals[0].custom.typed_config<Config>", "envoy.rbac.principals.mtls_authenticated did not have any configured validation."},
		{"rbac matcher", httpFilter(httpRBAC, rbacMatcher("matcher", header, rbacAction)), "", ""},
		{"rbac matcher on response headers", httpFilter(httpRBAC, rbacMatcher("matcher", "envoy.type.matcher.v3.HttpResponseHeaderMatchInput, header_name: x", rbacAction)),
			filterAt(httpRBAC) + ".matcher.matcher_list.matchers[0].predicate.single_predicate.input",
			"requirement violation while creating RBAC match tree: RBAC HTTP filter cannot match on 'type.googleapis.com/envoy.type.matcher.v3.HttpResponseHeaderMatchInput'"},
		{"rbac matcher keep matching", httpFilter(httpRBAC, rbacMatcher("shadow_matcher", header, rbacAction+", keep_matching: true")),
			filterAt(httpRBAC) + ".shadow_matcher.matcher_list.matchers[0].on_match.keep_matching",
			"requirement violation while creating RBAC match tree: keep_matching is not supported in this context"},
	}
}

func init() { registerCases(casesRBACRules) }

func TestMatchDelegateRules(t *testing.T) { runRules(t, casesMatchDelegateRules()) }

func casesMatchDelegateRules() []ruleCase {
	wrapped := func(onMatch string) string {
		return hcm("http_filters:\n- {name: f, typed_config: {'@type': type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher, " +
			"extension_config: {name: cors, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}, " +
			"xds_matcher: {matcher_list: {matchers: [{predicate: {single_predicate: {input: {name: i, typed_config: {'@type': type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: x}}, " +
			"value_match: {exact: skip}}}, on_match: {action: {name: skip, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter}}" + onMatch + "}}]}}}}\n" + routerFilter)
	}
	return []ruleCase{
		{"match delegate", wrapped(""), "", ""},
		{"match delegate keep matching", wrapped(", keep_matching: true"),
			hcmPath + ".http_filters[0].typed_config<ExtensionWithMatcher>.xds_matcher.matcher_list.matchers[0].on_match.keep_matching",
			"requirement violation while creating match tree: keep_matching is not supported in this context"},
	}
}

func init() { registerCases(casesMatchDelegateRules) }
