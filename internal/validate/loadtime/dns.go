//go:build !appnet_lean

package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	dfpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/dynamic_forward_proxy/v3"
	caresv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/cares/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// DNS rules: the c-ares resolver (source/extensions/network/dns_resolver/cares/dns_impl.cc) and the dynamic
// forward proxy's DNS caches (source/extensions/common/dynamic_forward_proxy), which clusters and filters create
// when Envoy loads them.

const (
	dnsCacheSource        = "source/extensions/common/dynamic_forward_proxy/dns_cache_impl.cc"
	dnsCacheManagerSource = "source/extensions/common/dynamic_forward_proxy/dns_cache_manager_impl.cc"
	caresSource           = "source/extensions/network/dns_resolver/cares/dns_impl.cc"
)

func init() {
	register("envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig", dnsCacheHosts, dnsCacheSettings)
	register("envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig", caresResolvers)
	register("envoy.config.core.v3.DnsResolutionConfig", caresResolvers)
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

// caresResolvers: the c-ares resolver sends to IP addresses (a socket address must be an IP literal, and a pipe or
// an internal address is not an IP).
// Envoy: source/extensions/network/dns_resolver/cares/dns_impl.cc:100 (maybeBuildResolversCsv) — "DNS resolver '<a>'
// is not an IP address"; source/common/network/resolver_impl.cc — "malformed IP address: <a>".
func caresResolvers(c *Context, m protoreflect.Message) {
	var resolvers []*corev3.Address
	switch r := m.Interface().(type) {
	case *caresv3.CaresDnsResolverConfig:
		resolvers = r.GetResolvers()
	case *corev3.DnsResolutionConfig:
		resolvers = r.GetResolvers()
	}
	for i, a := range resolvers {
		p := func() string { return index(c.at("resolvers"), i) }
		switch {
		case a.GetPipe() != nil:
			c.envoyf(p()+".pipe", caresSource, "DNS resolver '%s' is not an IP address", a.GetPipe().GetPath())
		case a.GetEnvoyInternalAddress() != nil:
			c.envoyf(p()+".envoy_internal_address", caresSource, "DNS resolver 'envoy://%s' is not an IP address",
				a.GetEnvoyInternalAddress().GetServerListenerName())
		default:
			c.ipAddress(p, a, resolverSource, " (a DNS resolver is an IP address)")
		}
	}
}

// equivalent compares two messages of one type as protobuf's MessageDifferencer::Equivalent does: an unset field
// and a field set to its default are the same.
func equivalent(a, b protoreflect.Message) bool {
	fields := a.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !a.Has(fd) && !b.Has(fd) {
			continue
		}
		if !equivalentValue(fd, a.Get(fd), b.Get(fd)) {
			return false
		}
	}
	return true
}

func equivalentValue(fd protoreflect.FieldDescriptor, x, y protoreflect.Value) bool {
	switch {
	case fd.IsList():
		lx, ly := x.List(), y.List()
		if lx.Len() != ly.Len() {
			return false
		}
		for i := 0; i < lx.Len(); i++ {
			if !equivalentElem(fd, lx.Get(i), ly.Get(i)) {
				return false
			}
		}
		return true
	case fd.IsMap():
		mx, my := x.Map(), y.Map()
		if mx.Len() != my.Len() {
			return false
		}
		same := true
		mx.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			w := my.Get(k)
			same = my.Has(k) && equivalentElem(fd.MapValue(), v, w)
			return same
		})
		return same
	}
	return equivalentElem(fd, x, y)
}

func equivalentElem(fd protoreflect.FieldDescriptor, x, y protoreflect.Value) bool {
	if fd.Message() != nil {
		return equivalent(x.Message(), y.Message())
	}
	return x.Equal(y)
}
