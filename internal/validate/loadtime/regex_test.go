package loadtime_test

import "testing"

func TestRegexRules(t *testing.T) { runRules(t, casesRegexRules()) }

func casesRegexRules() []ruleCase {
	route := func(match string) string {
		return routes("virtual_hosts:\n- {name: v, domains: ['*'], routes: [{match: " + match + ", route: {cluster: app}}]}\n")
	}
	const m = routeCfg + ".virtual_hosts[0].routes[0].match"
	return []ruleCase{
		{"route regex", route("{safe_regex: {regex: '^/api/v[0-9]+/.*'}}"), "", ""},
		{"route regex missing paren", route("{safe_regex: {regex: '^/(api'}}"), m + ".safe_regex.regex", "RE2 cannot compile \"^/(api\": missing closing )"},
		{"route regex look-ahead", route("{safe_regex: {regex: '^/(?!admin)'}}"), m + ".safe_regex.regex", "invalid or unsupported Perl syntax"},
		{"route regex any byte (RE2's \\C)", route("{safe_regex: {regex: '^/a\\C+b'}}"), "", ""},
		{"route regex any byte, then an error", route("{safe_regex: {regex: '\\C(a'}}"), m + ".safe_regex.regex", "missing closing )"},
		{"route regex back-reference", route("{safe_regex: {regex: '(a)\\1'}}"), m + ".safe_regex.regex", "invalid escape sequence"},
		{"header regex", route("{prefix: /, headers: [{name: x-v, string_match: {safe_regex: {regex: '[a-'}}}]}"),
			m + ".headers[0].string_match.safe_regex.regex", "RE2 cannot compile"},
		{"stats tag regex look-ahead is ECMAScript", "stats_config: {stats_tags: [{tag_name: t, regex: '^cluster\\.((?!x).+?)\\.'}]}\n", "", ""},
		{"stats tag regex unbalanced", "stats_config: {stats_tags: [{tag_name: t, regex: '^cluster\\.((.+?)\\.'}]}\n",
			"stats_config.stats_tags[0].regex", "Invalid regex '^cluster\\.((.+?)\\.': missing closing )"},
		{"stats matcher regex", "stats_config: {stats_matcher: {inclusion_list: {patterns: [{safe_regex: {regex: '*cluster'}}]}}}\n",
			"stats_config.stats_matcher.inclusion_list.patterns[0].safe_regex.regex", "missing argument to repetition operator"},
	}
}

func TestStatsTagRules(t *testing.T) { runRules(t, casesStatsTagRules()) }

func casesStatsTagRules() []ruleCase {
	tags := func(list string) string { return "stats_config: {stats_tags: [" + list + "]}\n" }
	return []ruleCase{
		{"default tag by name", tags("{tag_name: envoy.cluster_name}"), "", ""},
		{"fixed value", tags("{tag_name: mesh, fixed_value: blue}"), "", ""},
		{"repeated tag names", tags("{tag_name: t, regex: '^a\\.((.+?)\\.)'}, {tag_name: t, regex: '^b\\.((.+?)\\.)'}"), "", ""},
		{"custom tag without regex", tags("{tag_name: service}"), "stats_config.stats_tags[0].regex",
			"No regex specified for tag specifier and no default regex for name: 'service'"},
		{"regex without a name", tags("{regex: '^a\\.((.+?)\\.)'}"), "stats_config.stats_tags[0].tag_name", "tag_name cannot be empty"},
	}
}

func init() { registerCases(casesRegexRules, casesStatsTagRules) }
