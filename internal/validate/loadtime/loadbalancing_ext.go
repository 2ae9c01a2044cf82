//go:build !appnet_lean

package loadtime

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	maglevv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/maglev/v3"
	overridehostv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/override_host/v3"
	ringhashv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/ring_hash/v3"
	subsetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/subset/v3"
	wrrlocalityv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/wrr_locality/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.load_balancing_policies.maglev.v3.Maglev", maglevPolicyTable)
	register("envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash", ringHashPolicySize)
	register("envoy.extensions.load_balancing_policies.subset.v3.Subset", subsetPolicy)
	register("envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality", wrrLocalityPolicy)
	register("envoy.extensions.load_balancing_policies.override_host.v3.OverrideHost", overrideHostPolicy)
}

// maglevPolicyTable and ringHashPolicySize apply to the policy Envoy picks from its list (see policySelected).
func maglevPolicyTable(c *Context, m protoreflect.Message) {
	if p, ok := m.Interface().(*maglevv3.Maglev); ok && c.policySelected() {
		c.maglevTable(c.at("table_size"), p.GetTableSize())
	}
}

// overrideHostPolicy: each override source is a header or a metadata key, and a fallback policy picks hosts.
// Envoy: source/extensions/load_balancing_policies/override_host/load_balancer.cc:75, :78 [clusters-7b7f2075]
// [clusters-68143d8b] (OverrideHostLbConfig::makeOverrideSources) — "Empty override source", "Only one override
// source must be set"; :117 [clusters-a258b2f8] (OverrideHostLbConfig::make) — "dynamic forwarding LB: didn't find a
// registered fallback load balancer factory with names from <names>".
func overrideHostPolicy(c *Context, m protoreflect.Message) {
	o, ok := m.Interface().(*overridehostv3.OverrideHost)
	if !ok || !c.policySelected() {
		return
	}
	const src = "source/extensions/load_balancing_policies/override_host/load_balancer.cc"
	for i, s := range o.GetOverrideHostSources() {
		switch header, meta := s.GetHeader() != "", s.GetMetadata() != nil; {
		case !header && !meta:
			c.envoyf(index(c.at("override_host_sources"), i), src, "Empty override source (set header or metadata)")
			return
		case header && meta:
			c.envoyf(index(c.at("override_host_sources"), i), src, "Only one override source must be set (header or metadata)")
			return
		}
	}
	c.noPolicy(c.at("fallback_policy"), o.GetFallbackPolicy(), src,
		"dynamic forwarding LB: didn't find a registered fallback load balancer factory with names from %s")
}

func ringHashPolicySize(c *Context, m protoreflect.Message) {
	if p, ok := m.Interface().(*ringhashv3.RingHash); ok && c.policySelected() {
		c.ringSize(c.Path(), p.GetMinimumRingSize(), p.GetMaximumRingSize())
	}
}

// subsetPolicy: the subset load balancer policy's selectors, and its child policy.
// Envoy: source/extensions/load_balancing_policies/subset/subset_lb_config.cc:79 [clusters-7e54d044] — "cluster:
// didn't find a registered load balancer factory implementation for subset lb with names from [<names>]".
func subsetPolicy(c *Context, m protoreflect.Message) {
	s, ok := m.Interface().(*subsetv3.Subset)
	if !ok || !c.policySelected() {
		return
	}
	for i, sel := range s.GetSubsetSelectors() {
		c.subsetSelector(func() string { return index(c.at("subset_selectors"), i) }, sel.GetKeys(), sel.GetFallbackKeysSubset(),
			sel.GetFallbackPolicy() == subsetv3.Subset_LbSubsetSelector_KEYS_SUBSET)
	}
	c.noPolicy(c.at("subset_lb_policy"), s.GetSubsetLbPolicy(), "source/extensions/load_balancing_policies/subset/subset_lb_config.cc",
		"cluster: didn't find a registered load balancer factory implementation for subset lb with names from [%s]")
}

// wrrLocalityPolicy: the locality-weighted policy picks endpoints with client-side weighted round robin.
// Envoy: source/extensions/load_balancing_policies/wrr_locality/config.h:55 [clusters-b3d4a2a9] (Factory::loadConfig)
// — "Currently WrrLocalityLoadBalancer only supports ClientSideWeightedRoundRobinLoadBalancer as its endpoint
// picking policy."; :76 [clusters-c6ea1fbb] — "No supported endpoint picking policy."
func wrrLocalityPolicy(c *Context, m protoreflect.Message) {
	w, ok := m.Interface().(*wrrlocalityv3.WrrLocality)
	if !ok || !c.policySelected() {
		return
	}
	const src = "source/extensions/load_balancing_policies/wrr_locality/config.h"
	report, why := c.envoyf, ""
	if next := c.policyAfterWrrLocality(); next != "" {
		// Envoy 1.35 has no wrr_locality factory (added in 1.36): it skips this policy and loads the next one.
		report, why = c.envoyWarnf, fmt.Sprintf(" — refused by Envoy 1.36 and later; 1.35, which has no wrr_locality "+
			"policy, skips it and uses '%s'", next)
	}
	lbp := w.GetEndpointPickingPolicy()
	i, certain := selectedPolicy(lbp)
	switch {
	case i < 0:
		report(c.at("endpoint_picking_policy"), src, "No supported endpoint picking policy. (none of [%s] is a load balancer)%s",
			policyNames(lbp), why)
	case certain && extensionType(lbp.GetPolicies()[i].GetTypedExtensionConfig().GetTypedConfig().ProtoReflect()) !=
		"envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin":
		report(index(c.at("endpoint_picking_policy.policies"), i), src, "Currently WrrLocalityLoadBalancer only supports "+
			"ClientSideWeightedRoundRobinLoadBalancer as its endpoint picking policy.%s", why)
	}
}

// policySelected reports whether the payload being checked is loaded by Envoy: true unless it is the config of a
// policy that its list (the nearest enclosing one) does not pick.
func (c *Context) policySelected() bool {
	pol := c.Ancestor("envoy.config.cluster.v3.LoadBalancingPolicy.Policy")
	anc := c.Ancestor("envoy.config.cluster.v3.LoadBalancingPolicy")
	if pol == nil || anc == nil {
		return true
	}
	lbp, _ := anc.Interface().(*clusterv3.LoadBalancingPolicy)
	i, _ := selectedPolicy(lbp)
	return i >= 0 && protoreflect.ProtoMessage(lbp.GetPolicies()[i]) == pol.Interface()
}

// policyAfterWrrLocality returns the name of a load balancer policy listed after the WRR-locality policy being
// checked (which Envoy 1.35 would pick instead), or "".
func (c *Context) policyAfterWrrLocality() string {
	pol := c.Ancestor("envoy.config.cluster.v3.LoadBalancingPolicy.Policy")
	anc := c.Ancestor("envoy.config.cluster.v3.LoadBalancingPolicy")
	if pol == nil || anc == nil {
		return ""
	}
	lbp, _ := anc.Interface().(*clusterv3.LoadBalancingPolicy)
	after := false
	for _, p := range lbp.GetPolicies() {
		if after {
			typ := extensionType(p.GetTypedExtensionConfig().GetTypedConfig().ProtoReflect())
			if info, ok := extensionOf(typ); ok && hasCategory(info.categories, "envoy.load_balancing_policies") &&
				typ != "envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality" {
				return p.GetTypedExtensionConfig().GetName()
			}
		}
		after = after || protoreflect.ProtoMessage(p) == pol.Interface()
	}
	return ""
}
