package loadtime_test

import "testing"

func TestResponseRules(t *testing.T) { runRules(t, casesResponseRules()) }

func casesResponseRules() []ruleCase {
	policy := func(fields string) string {
		return "custom_response_matcher: {matcher_list: {matchers: [{predicate: {single_predicate: {input: {name: s, typed_config: {'@type': type.googleapis.com/envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput}}, value_match: {exact: '500'}}}, " +
			"on_match: {action: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.custom_response.redirect_policy.v3.RedirectPolicy, " + fields + "}}}}]}}"
	}
	const policyAt = ".custom_response_matcher.matcher_list.matchers[0].on_match.action.typed_config<RedirectPolicy>"
	dirs := func(list string) string {
		return "manager_config: {id: fs, thread_pool: {}}, path_mappings: [{request_path_prefix: /s, file_path_prefix: /srv}], directory_behaviors: [" + list + "]"
	}
	return []ruleCase{
		{"custom response redirect", httpFilter(customResponse, policy("uri: 'https://errors.example/500'")), "", ""},
		{"custom response redirect action", httpFilter(customResponse, policy("redirect_action: {host_redirect: errors.example, path_redirect: /500}")), "", ""},
		{"custom response relative uri", httpFilter(customResponse, policy("uri: /500")),
			filterAt(customResponse) + policyAt + ".uri", "Invalid uri specified for redirection for custom response: /500"},
		{"custom response regex rewrite", httpFilter(customResponse, policy("redirect_action: {regex_rewrite: {pattern: {regex: a}, substitution: b}}")),
			filterAt(customResponse) + policyAt + ".redirect_action.regex_rewrite", "regex_rewrite is not supported for Custom Response"},
		{"custom response prefix rewrite", httpFilter(customResponse, policy("redirect_action: {prefix_rewrite: /e}")),
			filterAt(customResponse) + policyAt + ".redirect_action.prefix_rewrite", "prefix_rewrite is not supported for Custom Response"},
		{"custom response fragment", httpFilter(customResponse, policy("redirect_action: {path_redirect: '/500#top'}")),
			filterAt(customResponse) + policyAt + ".redirect_action.path_redirect", "#fragment is not supported for custom response. Specified path_redirect is /500#top"},
		{"file server", httpFilter(fileServer, dirs("{default_file: index.html}, {default_file: index.htm}, {list: {}}")), "", ""},
		{"file server duplicate prefix", httpFilter(fileServer, "manager_config: {id: fs, thread_pool: {}}, path_mappings: [{request_path_prefix: /s, file_path_prefix: /a}, {request_path_prefix: /s, file_path_prefix: /b}]"),
			filterAt(fileServer) + ".path_mappings[1].request_path_prefix", "duplicate request_path_prefix: /s"},
		{"file server empty directory behavior", httpFilter(fileServer, dirs("{}")),
			filterAt(fileServer) + ".directory_behaviors[0]", "directory_behavior must set one of default_file or list"},
		{"file server default file and list", httpFilter(fileServer, dirs("{default_file: index.html, list: {}}")),
			filterAt(fileServer) + ".directory_behaviors[0]", "directory_behavior must have only one of default_file or list"},
		{"file server duplicate default file", httpFilter(fileServer, dirs("{default_file: index.html}, {default_file: index.html}")),
			filterAt(fileServer) + ".directory_behaviors[1]", "duplicate default_file in directory_behaviors: index.html"},
		{"file server two lists", httpFilter(fileServer, dirs("{list: {}}, {default_file: index.html}, {list: {}}")),
			filterAt(fileServer) + ".directory_behaviors[2]", "multiple list directives"},
		{"transform clears route cache", httpFilter(transform, "clear_route_cache: true"), "", ""},
		{"transform clears both caches", httpFilter(transform, "clear_route_cache: true, clear_cluster_cache: true"),
			filterAt(transform) + ".clear_route_cache", "Only one of clear_cluster_cache and clear_route_cache can be set to true"},
	}
}

func init() { registerCases(casesResponseRules) }
