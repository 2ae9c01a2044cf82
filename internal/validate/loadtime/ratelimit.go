//go:build !appnet_lean

package loadtime

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rate limiting: the rate limit policies of the ratelimit and local_ratelimit filters' own rate_limits
// (source/extensions/filters/common/ratelimit_config; the route's rate_limits are the router's), and the local
// rate limiter (source/extensions/filters/common/local_ratelimit, source/extensions/filters/http/local_ratelimit).

const (
	rateLimitPolicySource = "source/extensions/filters/common/ratelimit_config/ratelimit_config.cc"
	localRateLimitSource  = "source/extensions/filters/http/local_ratelimit/local_ratelimit.cc"
	localLimiterSource    = "source/extensions/filters/common/local_ratelimit/local_ratelimit_impl.cc"
	minFillIntervalMs     = 50
)

func init() {
	register("envoy.extensions.filters.http.ratelimit.v3.RateLimit", rateLimitPolicies)
	register("envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute", rateLimitPolicies)
	register("envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", rateLimitPolicies, localRateLimitConfig,
		localRateLimitBuckets)
}

// rateLimitPolicies: a filter's own rate limit policies set hits_addend to a number or to a format of one command,
// leave out the route-only stage, disable_key and limit, and use actions this code path knows (not the deprecated
// dynamic_metadata).
// Envoy: source/extensions/filters/common/ratelimit_config/ratelimit_config.cc:28, :37, :45, :52, :58, :169
// [http-filters-a0a54b0c] [http-filters-a4f005f9] [http-filters-e35b582c] [http-filters-282f8fa3]
// [http-filters-11c196c8] [http-filters-f72b7081] — "hits_addend must contain either a format or a number",
// "hits_addend format must contain exactly one substitution", "'stage' field and 'disable_key' field are not
// supported", "'limit' field is not supported", "Unsupported rate limit action: <n>".
func rateLimitPolicies(c *Context, m protoreflect.Message) {
	var policies []*routev3.RateLimit
	switch f := m.Interface().(type) {
	case *ratelimitv3.RateLimit:
		policies = f.GetRateLimits()
	case *ratelimitv3.RateLimitPerRoute:
		policies = f.GetRateLimits()
	case *localratelimitv3.LocalRateLimit:
		policies = f.GetRateLimits()
	}
	for i, p := range policies {
		at := func(field string) string { return index(c.at("rate_limits"), i) + field }
		if h := p.GetHitsAddend(); h != nil {
			switch {
			case h.GetFormat() != "" && h.GetNumber() != nil, h.GetFormat() == "" && h.GetNumber() == nil:
				c.envoyf(at(".hits_addend"), rateLimitPolicySource, "hits_addend must contain either a format or a number")
				continue
			case h.GetFormat() != "" && formatProviders(h.GetFormat()) > 1:
				c.envoyf(at(".hits_addend.format"), rateLimitPolicySource,
					"hits_addend format must contain exactly one substitution (one %%COMMAND%% and nothing else)")
				continue
			}
		}
		if p.GetStage() != nil || p.GetDisableKey() != "" {
			c.envoyf(at(""), rateLimitPolicySource, "'stage' field and 'disable_key' field are not supported (in a filter's own rate_limits)")
			continue
		}
		if p.GetLimit() != nil {
			c.envoyf(at(".limit"), rateLimitPolicySource, "'limit' field is not supported (in a filter's own rate_limits)")
			continue
		}
		for j, a := range p.GetActions() {
			if _, old := a.GetActionSpecifier().(*routev3.RateLimit_Action_DynamicMetadata); old {
				c.envoyf(index(at(".actions"), j)+".dynamic_metadata", rateLimitPolicySource,
					"Unsupported rate limit action: %d (use metadata instead of dynamic_metadata)",
					a.ProtoReflect().Descriptor().Fields().ByName("dynamic_metadata").Number())
				break
			}
		}
	}
}

// formatProviders counts the providers Envoy's SubstitutionFormatParser makes of a format: one per command and one
// per run of text ("%%" is text). It returns 0 for a format the parser refuses (the format rules say why).
func formatProviders(format string) int {
	n, text := 0, false
	for pos := 0; pos < len(format); {
		switch {
		case format[pos] != '%':
			text = true
			pos++
			continue
		case strings.HasPrefix(format[pos:], "%%"):
			text = true
			pos += 2
			continue
		}
		cmd := commandRE().FindString(format[pos:])
		if cmd == "" {
			return 0
		}
		if text {
			n, text = n+1, false
		}
		n++
		pos += len(cmd)
	}
	if text {
		n++
	}
	return n
}

// localRateLimitConfig: a per-route local rate limit has a token bucket, and a limit shared across the local
// cluster counts per Envoy (not per connection) and needs the bootstrap's local cluster.
// Envoy: source/extensions/filters/http/local_ratelimit/local_ratelimit.cc:76, :97, :101 [http-filters-5b15c6ad]
// [http-filters-5d5c0688] [http-filters-dbb1fcac] — "local rate limit token bucket must be set for per filter
// configs", "local_cluster_rate_limit is set and local_rate_limit_per_downstream_connection is set to true",
// "local_cluster_rate_limit is set but no local cluster name is present".
func localRateLimitConfig(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*localratelimitv3.LocalRateLimit)
	if !ok {
		return
	}
	if l.GetTokenBucket() == nil && c.perRouteConfig() {
		c.envoyf(c.at("token_bucket"), localRateLimitSource, "local rate limit token bucket must be set for per filter configs")
	}
	if l.GetLocalClusterRateLimit() == nil {
		return
	}
	switch {
	case l.GetLocalRateLimitPerDownstreamConnection():
		c.envoyf(c.at("local_rate_limit_per_downstream_connection"), localRateLimitSource,
			"local_cluster_rate_limit is set and local_rate_limit_per_downstream_connection is set to true")
	case c.bootstrap().GetClusterManager().GetLocalClusterName() == "":
		c.envoyf(c.at("local_cluster_rate_limit"), localRateLimitSource,
			"local_cluster_rate_limit is set but no local cluster name is present (set cluster_manager.local_cluster_name)")
	}
}

// localRateLimitBuckets: token buckets refill at most every 50 ms, and descriptors are distinct (those with a
// wildcard entry, an empty value, among themselves).
// Envoy: source/extensions/filters/common/local_ratelimit/local_ratelimit_impl.cc:103, :130, :147, :274
// [http-filters-7704cb04] [http-filters-616a97b9] [http-filters-e6751f9b] [http-filters-626d8578] — "local rate
// limit token bucket fill timer must be >= 50ms", "local rate limit descriptor token bucket fill timer must be >=
// 50ms", "duplicate descriptor in the local rate descriptor: <entries>".
func localRateLimitBuckets(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*localratelimitv3.LocalRateLimit)
	if !ok {
		return
	}
	if ms := msTruncated(l.GetTokenBucket().GetFillInterval()); ms > 0 && ms < minFillIntervalMs {
		c.envoyf(c.at("token_bucket.fill_interval"), localLimiterSource, "local rate limit token bucket fill timer must be >= 50ms")
	}
	var seen map[string]bool
	for i, d := range l.GetDescriptors() {
		if msTruncated(d.GetTokenBucket().GetFillInterval()) < minFillIntervalMs {
			c.envoyf(index(c.at("descriptors"), i)+".token_bucket.fill_interval", localLimiterSource,
				"local rate limit descriptor token bucket fill timer must be >= 50ms")
			return
		}
		var key strings.Builder
		for _, e := range d.GetEntries() {
			key.WriteString(quote(e.GetKey()) + "=" + quote(e.GetValue()) + ", ")
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		if seen[key.String()] {
			c.envoyf(index(c.at("descriptors"), i), localLimiterSource, "duplicate descriptor in the local rate descriptor: %s",
				strings.TrimSuffix(key.String(), ", "))
			return
		}
		seen[key.String()] = true
	}
}
