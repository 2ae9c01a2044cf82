package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
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
	register("envoy.config.core.v3.DnsResolutionConfig", caresResolvers)
}

// resolversOf reads the resolver addresses of an extension's DNS resolver config, for caresResolvers: filled by the
// init of dns_ext.go, which the lean build (appnet_lean, no c-ares config type) leaves out.
var resolversOf = map[protoreflect.FullName]func(protoreflect.Message) []*corev3.Address{}

// caresResolvers: the c-ares resolver sends to IP addresses (a socket address must be an IP literal, and a pipe or
// an internal address is not an IP).
// Envoy: source/extensions/network/dns_resolver/cares/dns_impl.cc:100 (maybeBuildResolversCsv) — "DNS resolver '<a>'
// is not an IP address"; source/common/network/resolver_impl.cc — "malformed IP address: <a>".
func caresResolvers(c *Context, m protoreflect.Message) {
	var resolvers []*corev3.Address
	switch r := m.Interface().(type) {
	case *corev3.DnsResolutionConfig:
		resolvers = r.GetResolvers()
	default:
		if of := resolversOf[m.Descriptor().FullName()]; of != nil {
			resolvers = of(m)
		}
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
