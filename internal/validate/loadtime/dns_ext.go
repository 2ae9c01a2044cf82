//go:build !appnet_lean

package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	dfpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/dynamic_forward_proxy/v3"
	caresv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/cares/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	resolversOf["envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig"] = func(m protoreflect.Message) []*corev3.Address {
		return m.Interface().(*caresv3.CaresDnsResolverConfig).GetResolvers()
	}
	register("envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig", caresResolvers)
	register("envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig", dnsCacheHosts, dnsCacheSettings)
}

// dnsCacheHosts: the hosts to resolve at start fit in the cache.
// Envoy: source/extensions/common/dynamic_forward_proxy/dns_cache_impl.cc:23 (createDnsCacheImpl) — "DNS Cache [<n>]
// configured with preresolve_hostnames=<p> larger than max_hosts=<m>" (max_hosts defaults to 1024).
func dnsCacheHosts(c *Context, m protoreflect.Message) {
	dc, ok := m.Interface().(*dfpv3.DnsCacheConfig)
	if !ok {
		return
	}
	limit := uint32(1024)
	if dc.GetMaxHosts() != nil {
		limit = dc.GetMaxHosts().GetValue()
	}
	if n := len(dc.GetPreresolveHostnames()); uint64(n) > uint64(limit) {
		c.envoyf(c.at("preresolve_hostnames"), dnsCacheSource, "DNS Cache [%s] configured with preresolve_hostnames=%d larger than max_hosts=%d",
			dc.GetName(), n, limit)
	}
}

// dnsCacheSettings: the clusters and filters that name one DNS cache share it, so they configure it alike
// (compared as protobuf's MessageDifferencer::Equivalent does: an unset field equals its default).
// Envoy: source/extensions/common/dynamic_forward_proxy/dns_cache_manager_impl.cc:22 (getCache) — "config
// specified DNS cache '<n>' with different settings".
func dnsCacheSettings(c *Context, m protoreflect.Message) {
	dc, ok := m.Interface().(*dfpv3.DnsCacheConfig)
	if !ok {
		return
	}
	if c.dnsCaches == nil {
		c.dnsCaches = map[string]protoreflect.Message{}
	}
	first, seen := c.dnsCaches[dc.GetName()]
	if !seen {
		c.dnsCaches[dc.GetName()] = m
		return
	}
	if !equivalent(first, m) {
		c.envoyf(c.Path(), dnsCacheManagerSource, "config specified DNS cache '%s' with different settings", dc.GetName())
	}
}
