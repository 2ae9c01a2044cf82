package loadtime_test

import "testing"

func TestRateLimitRules(t *testing.T) { runRules(t, casesRateLimitRules()) }

func casesRateLimitRules() []ruleCase {
	policy := func(fields string) string {
		return rlService + ", rate_limits: [{actions: [{remote_address: {}}]}, {actions: [{generic_key: {descriptor_value: v}}]" + withComma(fields) + "}]"
	}
	const second = ".rate_limits[1]"
	return []ruleCase{
		{"rate limit policies", httpFilter(rateLimit, policy("hits_addend: {format: '%BYTES_RECEIVED%'}")), "", ""},
		{"rate limit hits addend number", httpFilter(rateLimit, policy("hits_addend: {number: 2}")), "", ""},
		{"rate limit hits addend format and number", httpFilter(rateLimit, policy("hits_addend: {number: 2, format: '%BYTES_RECEIVED%'}")),
			filterAt(rateLimit) + second + ".hits_addend", "hits_addend must contain either a format or a number"},
		{"rate limit empty hits addend", httpFilter(rateLimit, policy("hits_addend: {}")),
			filterAt(rateLimit) + second + ".hits_addend", "hits_addend must contain either a format or a number"},
		{"rate limit hits addend format with text", httpFilter(rateLimit, policy("hits_addend: {format: '%BYTES_RECEIVED%%BYTES_SENT%'}")),
			filterAt(rateLimit) + second + ".hits_addend.format", "hits_addend format must contain exactly one substitution"},
		{"rate limit policy stage", perRoute(rateLimitRoute, "rate_limits: [{stage: 1, actions: [{remote_address: {}}]}]"),
			perRouteAt(rateLimitRoute) + ".rate_limits[0]", "'stage' field and 'disable_key' field are not supported"},
		{"rate limit policy limit", httpFilter(localRateLimit, "stat_prefix: l, rate_limits: [{actions: [{remote_address: {}}], limit: {dynamic_metadata: {metadata_key: {key: k, path: [{key: p}]}}}}]"),
			filterAt(localRateLimit) + ".rate_limits[0].limit", "'limit' field is not supported"},
		{"rate limit dynamic metadata action", "layered_runtime: {layers: [{name: s, static_layer: {envoy.deprecated_features:envoy.config.route.v3.RateLimit.Action.dynamic_metadata: true}}]}\n" + httpFilter(rateLimit, rlService+", rate_limits: [{actions: [{dynamic_metadata: {descriptor_key: k, metadata_key: {key: k, path: [{key: p}]}}}]}]"),
			filterAt(rateLimit) + ".rate_limits[0].actions[0].dynamic_metadata", "Unsupported rate limit action: 7"},
		{"local rate limit", httpFilter(localRateLimit, "stat_prefix: l, "+tokenBucket+", descriptors: [{entries: [{key: k, value: a}], token_bucket: {max_tokens: 1, fill_interval: 0.05s}}, {entries: [{key: k, value: b}], token_bucket: {max_tokens: 1, fill_interval: 1s}}, {entries: [{key: k}], token_bucket: {max_tokens: 1, fill_interval: 1s}}]"), "", ""},
		{"local rate limit without bucket", httpFilter(localRateLimit, "stat_prefix: l"), "", ""},
		{"local rate limit per route without bucket", perRoute(localRateLimit, "stat_prefix: l"),
			perRouteAt(localRateLimit) + ".token_bucket", "local rate limit token bucket must be set for per filter configs"},
		{"local rate limit fast bucket", httpFilter(localRateLimit, "stat_prefix: l, token_bucket: {max_tokens: 10, fill_interval: 0.01s}"),
			filterAt(localRateLimit) + ".token_bucket.fill_interval", "local rate limit token bucket fill timer must be >= 50ms"},
		{"local rate limit fast descriptor bucket", perRoute(localRateLimit, "stat_prefix: l, "+tokenBucket+", descriptors: [{entries: [{key: k, value: a}], token_bucket: {max_tokens: 1, fill_interval: 0.049s}}]"),
			perRouteAt(localRateLimit) + ".descriptors[0].token_bucket.fill_interval", "local rate limit descriptor token bucket fill timer must be >= 50ms"},
		{"local rate limit duplicate descriptor", httpFilter(localRateLimit, "stat_prefix: l, descriptors: [{entries: [{key: k, value: a}], token_bucket: {max_tokens: 1, fill_interval: 1s}}, {entries: [{key: k, value: a}], token_bucket: {max_tokens: 2, fill_interval: 1s}}]"),
			filterAt(localRateLimit) + ".descriptors[1]", "duplicate descriptor in the local rate descriptor: "},
		{"local rate limit duplicate wildcard descriptor", httpFilter(localRateLimit, "stat_prefix: l, descriptors: [{entries: [{key: k}], token_bucket: {max_tokens: 1, fill_interval: 1s}}, {entries: [{key: k}], token_bucket: {max_tokens: 2, fill_interval: 1s}}]"),
			filterAt(localRateLimit) + ".descriptors[1]", "duplicate descriptor in the local rate descriptor: "},
		{"local cluster rate limit", "cluster_manager: {local_cluster_name: app}\n" + httpFilter(localRateLimit, "stat_prefix: l, "+tokenBucket+", local_cluster_rate_limit: {}"), "", ""},
		{"local cluster rate limit without local cluster", httpFilter(localRateLimit, "stat_prefix: l, "+tokenBucket+", local_cluster_rate_limit: {}"),
			filterAt(localRateLimit) + ".local_cluster_rate_limit", "local_cluster_rate_limit is set but no local cluster name is present"},
		{"local cluster rate limit per connection", "cluster_manager: {local_cluster_name: app}\n" + httpFilter(localRateLimit, "stat_prefix: l, "+tokenBucket+", local_cluster_rate_limit: {}, local_rate_limit_per_downstream_connection: true"),
			filterAt(localRateLimit) + ".local_rate_limit_per_downstream_connection", "local_cluster_rate_limit is set and local_rate_limit_per_downstream_connection is set to true"},
	}
}

func init() { registerCases(casesRateLimitRules) }
