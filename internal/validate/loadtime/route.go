package loadtime

import (
	"math"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Route rules: source/common/router/config_impl.cc, retry_policy_impl.cc, header_parser.cc.

const routeSource = "source/common/router/config_impl.cc"

func init() {
	register("envoy.config.route.v3.RouteConfiguration", routeDomains)
	register("envoy.config.route.v3.VirtualHost", virtualHostRoutes)
	register("envoy.config.route.v3.Route", routeRewrites, routeUpgrades)
	register("envoy.config.route.v3.WeightedCluster", weightedClusterWeights)
	register("envoy.config.route.v3.RetryPolicy", routeRetryBackOff)
	register("envoy.config.core.v3.RetryPolicy", coreRetryBackOff)
}

// routeDomains: every domain of a route table selects one virtual host.
// Envoy: source/common/router/config_impl.cc (RouteMatcher) — "Only a single wildcard domain is permitted in route
// <name>", "Only unique values for domains are permitted. Duplicate entry of domain <d> in route <name>".
func routeDomains(c *Context, m protoreflect.Message) {
	rc, ok := m.Interface().(*routev3.RouteConfiguration)
	if !ok {
		return
	}
	// Envoy keeps exact domains, suffix wildcards (*x) and prefix wildcards (x*) in separate tables, lower-cased.
	seen := map[string]bool{}
	wildcard := false
	for i, vh := range rc.GetVirtualHosts() {
		for j, d := range vh.GetDomains() {
			domain := strings.ToLower(d)
			p := func() string { return index(index(c.at("virtual_hosts"), i)+".domains", j) }
			if domain == "*" {
				if wildcard {
					c.envoyf(p(), routeSource, "Only a single wildcard domain is permitted in route %s", rc.GetName())
				}
				wildcard = true
				continue
			}
			key := "exact:" + domain
			switch {
			case strings.HasPrefix(domain, "*"):
				key = "suffix:" + domain[1:]
			case strings.HasSuffix(domain, "*"):
				key = "prefix:" + domain[:len(domain)-1]
			}
			if seen[key] {
				c.envoyf(p(), routeSource, "Only unique values for domains are permitted. Duplicate entry of domain %s in route %s",
					domain, rc.GetName())
			}
			seen[key] = true
		}
	}
}

// virtualHostRoutes: a virtual host has a route list or a matcher tree, and virtual clusters match on headers.
// Envoy: source/common/router/config_impl.cc — "cannot set both matcher and routes on virtual host",
// "virtual clusters must define 'headers'".
func virtualHostRoutes(c *Context, m protoreflect.Message) {
	vh, ok := m.Interface().(*routev3.VirtualHost)
	if !ok {
		return
	}
	if vh.GetMatcher() != nil && len(vh.GetRoutes()) > 0 {
		c.envoyf(c.at("matcher"), routeSource, "cannot set both matcher and routes on virtual host")
	}
	for i, vc := range vh.GetVirtualClusters() {
		if len(vc.GetHeaders()) == 0 {
			c.envoyf(index(c.at("virtual_clusters"), i), routeSource, "virtual clusters must define 'headers'")
		}
	}
}

// routeRewrites: one way of rewriting the path per route.
// Envoy: source/common/router/config_impl.cc (RouteEntryImplBase) — "Specify only one of prefix_rewrite,
// regex_rewrite or path_rewrite_policy", "Cannot use prefix_rewrite with matcher extension".
func routeRewrites(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*routev3.Route)
	if !ok || r.GetRoute() == nil {
		return
	}
	a := r.GetRoute()
	n := 0
	for _, set := range []bool{a.GetPathRewritePolicy() != nil, a.GetPrefixRewrite() != "", a.GetRegexRewrite() != nil, a.GetPathRewrite() != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		c.envoyf(c.at("route"), routeSource, "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy")
	}
	if a.GetPrefixRewrite() != "" && r.GetMatch().GetPathMatchPolicy() != nil {
		c.envoyf(c.at("route.prefix_rewrite"), routeSource, "Cannot use prefix_rewrite with matcher extension")
	}
}

// routeUpgrades: one config per upgrade type, and ConnectConfig only for CONNECT.
// Envoy: source/common/router/config_impl.cc — "Duplicate upgrade <type>", "Non-CONNECT upgrade type <type> has
// ConnectConfig".
func routeUpgrades(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*routev3.Route)
	if !ok {
		return
	}
	seen := map[string]bool{}
	for i, u := range r.GetRoute().GetUpgradeConfigs() {
		p := func() string { return index(c.at("route.upgrade_configs"), i) }
		t := strings.ToLower(u.GetUpgradeType())
		if seen[t] {
			c.envoyf(p(), routeSource, "Duplicate upgrade %s", u.GetUpgradeType())
		}
		seen[t] = true
		if u.GetConnectConfig() != nil && t != "connect" && t != "connect-udp" {
			c.envoyf(p()+".connect_config", routeSource, "Non-CONNECT upgrade type %s has ConnectConfig", u.GetUpgradeType())
		}
	}
}

// weightedClusterWeights: weights that add up to zero select nothing; the sum must fit 32 bits.
// Envoy: source/common/router/config_impl.cc (WeightedClusterSpecifierPlugin) — "Sum of weights in the
// weighted_cluster must be greater than 0.", "The sum of weights of all weighted clusters of route <r> exceeds
// 4294967295".
func weightedClusterWeights(c *Context, m protoreflect.Message) {
	wc, ok := m.Interface().(*routev3.WeightedCluster)
	if !ok || len(wc.GetClusters()) == 0 {
		return
	}
	var sum uint64
	for _, cw := range wc.GetClusters() {
		sum += uint64(cw.GetWeight().GetValue())
	}
	switch {
	case sum == 0:
		c.envoyf(c.at("clusters"), routeSource, "Sum of weights in the weighted_cluster must be greater than 0.")
	case sum > math.MaxUint32:
		route := ""
		if r := c.Ancestor("envoy.config.route.v3.Route"); r != nil {
			route = r.Interface().(*routev3.Route).GetName()
		}
		c.envoyf(c.at("clusters"), routeSource, "The sum of weights of all weighted clusters of route %s exceeds %d", route, uint64(math.MaxUint32))
	}
}

// millis rounds a duration the way PROTOBUF_GET_MS does, with Envoy's 1 ms floor for back-off intervals.
func millis(d *durationpb.Duration) int64 {
	ms := d.AsDuration().Milliseconds()
	if ms < 1 {
		ms = 1
	}
	return ms
}

// backOffInverted reports a back-off whose ceiling, when set, is below its base, in Envoy's milliseconds.
func backOffInverted(base, ceiling *durationpb.Duration) bool {
	return base != nil && ceiling != nil && millis(ceiling) < millis(base)
}

// routeRetryBackOff: the back-off ceiling may not be below its base.
// Envoy: source/common/router/retry_policy_impl.cc — "retry_policy.max_interval must greater than or equal to the
// base_interval".
func routeRetryBackOff(c *Context, m protoreflect.Message) {
	rp, ok := m.Interface().(*routev3.RetryPolicy)
	if !ok {
		return
	}
	if b := rp.GetRetryBackOff(); backOffInverted(b.GetBaseInterval(), b.GetMaxInterval()) {
		c.envoyf(c.at("retry_back_off.max_interval"), "source/common/router/retry_policy_impl.cc",
			"retry_policy.max_interval must greater than or equal to the base_interval")
	}
}

// coreRetryBackOff: the same for the core retry policy (remote data sources).
// Envoy: source/common/config/datasource.cc — "max_interval must be greater than or equal to the base_interval".
func coreRetryBackOff(c *Context, m protoreflect.Message) {
	rp, ok := m.Interface().(*corev3.RetryPolicy)
	if !ok {
		return
	}
	if b := rp.GetRetryBackOff(); backOffInverted(b.GetBaseInterval(), b.GetMaxInterval()) {
		c.envoyf(c.at("retry_back_off.max_interval"), "source/common/config/datasource.cc",
			"max_interval must be greater than or equal to the base_interval")
	}
}
