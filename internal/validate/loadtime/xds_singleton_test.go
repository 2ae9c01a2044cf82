package loadtime_test

import "testing"

func TestSingletonSubscriptionRules(t *testing.T) { runRules(t, casesSingletonSubscriptionRules()) }

func casesSingletonSubscriptionRules() []ruleCase {
	// rateLimited returns a bootstrap whose connection manager logs through process rate limit filters, one per
	// dynamic_config body given.
	rateLimited := func(configs ...string) string {
		logs := ""
		for i, cfg := range configs {
			if i > 0 {
				logs += ", "
			}
			logs += "{name: l, filter: {extension_filter: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.filters.process_ratelimit.v3.ProcessRateLimitFilter, " +
				"dynamic_config: {" + cfg + "}}}}, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog}}"
		}
		return hcm("access_log: [" + logs + "]\n")
	}
	const bucket = "resource_name: 'xdstp://rl.example/envoy.type.v3.TokenBucket/b', "
	const listed = "config_source: {authorities: [{name: rl.example}], path_config_source: {path: /etc/r.yaml}}"
	const other = "config_source: {authorities: [{name: other.example}], path_config_source: {path: /etc/r.yaml}}"
	return []ruleCase{
		{"rate limit bucket of a listed authority", rateLimited(bucket + listed),
			hcmPath + ".access_log[0].filter.extension_filter.typed_config<ProcessRateLimitFilter>.dynamic_config.resource_name",
			"Dynamically using non-bootstrap defined xDS-TP config sources is not yet supported."},
		{"rate limit bucket of another authority", rateLimited(bucket + other), "", ""},
		{"rate limit bucket by plain name", rateLimited("resource_name: b, " + listed), "", ""},
		{"rate limit buckets of different sources", rateLimited(bucket+listed, bucket+other), "", ""},
	}
}

func init() { registerCases(casesSingletonSubscriptionRules) }
