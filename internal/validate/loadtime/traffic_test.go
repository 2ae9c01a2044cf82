package loadtime_test

import "testing"

func TestTrafficRules(t *testing.T) { runRules(t, casesTrafficRules()) }

func casesTrafficRules() []ruleCase {
	const sc = "success_criteria: {http_criteria: {http_success_status: [{start: 100, end: 600}]}, grpc_criteria: {grpc_success_status: [0, 16]}}"
	gradient := func(minRTT string) string {
		return "gradient_controller_config: {concurrency_limit_params: {concurrency_update_interval: 0.1s}, min_rtt_calc_params: {" + minRTT + "}}"
	}
	return []ruleCase{
		{"admission control", httpFilter(admissionControl, sc+", sr_threshold: {default_value: {value: 1.0}, runtime_key: k}"), "", ""},
		{"admission control threshold below 1%", httpFilter(admissionControl, sc+", sr_threshold: {default_value: {value: 0.5}, runtime_key: k}"),
			filterAt(admissionControl) + ".sr_threshold.default_value.value", "Success rate threshold cannot be less than 1.0%."},
		{"admission control http range", httpFilter(admissionControl, "success_criteria: {http_criteria: {http_success_status: [{start: 200, end: 300}, {start: 500, end: 601}]}}"),
			filterAt(admissionControl) + ".success_criteria.http_criteria.http_success_status[1]", "invalid HTTP range: [500, 601)"},
		{"admission control grpc code", httpFilter(admissionControl, "success_criteria: {grpc_criteria: {grpc_success_status: [0, 17]}}"),
			filterAt(admissionControl) + ".success_criteria.grpc_criteria.grpc_success_status[1]", "invalid gRPC code 17"},
		{"adaptive concurrency fixed min rtt", httpFilter(adaptive, gradient("fixed_value: 0.05s")), "", ""},
		{"adaptive concurrency min rtt interval", httpFilter(adaptive, gradient("interval: 60s")), "", ""},
		{"adaptive concurrency no min rtt", httpFilter(adaptive, gradient("request_count: 10")),
			filterAt(adaptive) + ".gradient_controller_config.min_rtt_calc_params", "adaptive_concurrency: neither `concurrency_update_interval` nor `fixed_value` set"},
		{"adaptive concurrency sub-millisecond fixed min rtt", httpFilter(adaptive, gradient("fixed_value: 0.0005s")),
			filterAt(adaptive) + ".gradient_controller_config.min_rtt_calc_params", "adaptive_concurrency: neither `concurrency_update_interval` nor `fixed_value` set"},
		{"bandwidth limit without limit", httpFilter(bandwidthLimit, "stat_prefix: bw, enable_mode: DISABLED"), "", ""},
		{"bandwidth limit per route", perRoute(bandwidthLimit, "stat_prefix: bw, limit_kbps: 100"), "", ""},
		{"bandwidth limit per route without limit", perRoute(bandwidthLimit, "stat_prefix: bw"),
			perRouteAt(bandwidthLimit) + ".limit_kbps", "limit must be set for per route filter config"},
		{"bandwidth limit per route in a filter config without limit", routes("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}, typed_per_filter_config: {f: {'@type': type.googleapis.com/envoy.config.route.v3.FilterConfig, config: {'@type': type.googleapis.com/" + bandwidthLimit + ", stat_prefix: bw}}}}]}]\n"),
			routeCfg + ".virtual_hosts[0].routes[0].typed_per_filter_config[\"f\"]<FilterConfig>.config<BandwidthLimit>.limit_kbps", "limit must be set for per route filter config"},
		{"health check cache with pass through", httpFilter(healthCheck, "pass_through_mode: true, cache_time: 5s"), "", ""},
		{"health check cache without pass through", httpFilter(healthCheck, "pass_through_mode: false, cache_time: 5s"),
			filterAt(healthCheck) + ".cache_time", "cache_time_ms must not be set when path_through_mode is disabled"},
		{"health check percentages", httpFilter(healthCheck, "pass_through_mode: false, cluster_min_healthy_percentages: {app: {value: 50}}"), "", ""},
		{"health check NaN percentage", httpFilter(healthCheck, "pass_through_mode: false, cluster_min_healthy_percentages: {app: {value: NaN}}"),
			filterAt(healthCheck) + ".cluster_min_healthy_percentages[\"app\"].value", "cluster_min_healthy_percentages contains a NaN value for cluster: app"},
		{"geoip", httpFilter(geoip, "xff_config: {xff_num_trusted_hops: 1}, "+maxmind+", city_db_path: /db/city.mmdb}}"), "", ""},
		{"geoip xff and custom header", httpFilter(geoip, "xff_config: {xff_num_trusted_hops: 1}, custom_header_config: {header_name: x-ip}, "+maxmind+", city_db_path: /db/city.mmdb}}"),
			filterAt(geoip) + ".custom_header_config", "Only one of xff_config or custom_header_config can be set in the geoip filter configuration"},
		{"geoip without database", httpFilter(geoip, maxmind+"}}"),
			filterAt(geoip) + ".provider.typed_config<MaxMindConfig>", "At least one geolocation database path needs to be configured"},
		{"ip tagging", httpFilter(ipTagging, "request_type: BOTH, ip_tags: [{ip_tag_name: internal, ip_list: [{address_prefix: 10.0.0.0, prefix_len: 8}, {address_prefix: 'fd00::', prefix_len: 8}]}]"), "", ""},
		{"ip tagging without tags", httpFilter(ipTagging, "request_type: BOTH"),
			filterAt(ipTagging) + ".ip_tags", "HTTP IP Tagging Filter requires ip_tags to be specified."},
		{"ip tagging host name", httpFilter(ipTagging, "ip_tags: [{ip_tag_name: internal, ip_list: [{address_prefix: intranet.local, prefix_len: 8}]}]"),
			filterAt(ipTagging) + ".ip_tags[0].ip_list[0].address_prefix", "invalid ip/mask combo 'intranet.local/8' (format is <ip>/<# mask bits>)"},
		{"cdn loop", httpFilter(cdnLoop, "cdn_id: 'edge-1.example:443'"), "", ""},
		{"cdn loop ipv6", httpFilter(cdnLoop, "cdn_id: '[2001:db8::1]:8080'"), "", ""},
		{"cdn loop bad token", httpFilter(cdnLoop, "cdn_id: '(edge)'"),
			filterAt(cdnLoop) + ".cdn_id", "expected token starting at position 0; found '('"},
		{"cdn loop unclosed ipv6", httpFilter(cdnLoop, "cdn_id: '[2001:db8::1'"),
			filterAt(cdnLoop) + ".cdn_id", "expected closing ']' of IPv6 literal at position 12 found end-of-input"},
		{"cdn loop bad ipv6", httpFilter(cdnLoop, "cdn_id: '[2001:db8::g]'"),
			filterAt(cdnLoop) + ".cdn_id", "expected closing ']' of IPv6 literal at position 11; found 'g'"},
		{"cdn loop trailing text", httpFilter(cdnLoop, "cdn_id: 'edge one'"),
			filterAt(cdnLoop) + ".cdn_id", "Provided cdn_id \"edge one\" is not a valid CDN identifier: "},
	}
}

func init() { registerCases(casesTrafficRules) }
