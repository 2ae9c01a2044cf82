package loadtime

import (
	"net/netip"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Address rules: the addresses Envoy binds or sends to without a DNS lookup must be IP literals.
// Envoy: source/common/network/resolver_impl.cc (IpResolver) — "malformed IP address: <a>".

const resolverSource = "source/common/network/resolver_impl.cc"

func init() {
	register("envoy.config.listener.v3.Listener", listenerAddresses)
	register("envoy.config.bootstrap.v3.Admin", adminAddress)
	register("envoy.config.metrics.v3.StatsdSink", statsdAddress)
	register("envoy.config.metrics.v3.DogStatsdSink", statsdAddress)
	register("envoy.config.trace.v3.XRayConfig", xrayDaemon)
}

const (
	ipResolverName      = "envoy.ip"                           // Envoy's IP resolver, used when resolver_name is empty
	reverseConnResolver = "envoy.resolvers.reverse_connection" // the only other resolver Envoy ships
	maxPipePath         = 107                                  // sizeof(sockaddr_un.sun_path) on Linux, less the NUL
)

// ipAddress checks an Address that Envoy resolves with Network::Address::resolveProtoAddress when it loads the
// configuration (listeners, admin, static endpoints, statsd sinks, DNS resolvers): a socket address goes to the
// resolver it names, and the IP resolver takes only IP literals and numbered ports; a pipe must fit a UNIX socket
// address. path is the path of the Address; hint is appended to the malformed-address message.
// Envoy: source/common/network/resolver_impl.cc:46 [listeners-0b3fbe45], :94 [listeners-879926ba] — "IP resolver
// can't handle port specifier type <n>", "Unknown address resolver: <name>".
func (c *Context) ipAddress(path func() string, a *corev3.Address, src, hint string) {
	if p := a.GetPipe(); p != nil {
		c.pipeAddress(func() string { return path() + ".pipe" }, p)
		return
	}
	sa := a.GetSocketAddress()
	if sa == nil {
		return
	}
	switch sa.GetResolverName() {
	case "", ipResolverName:
	case reverseConnResolver:
		return // reverse connection addresses have their own syntax (rc://...)
	default:
		c.envoyf(path()+".socket_address.resolver_name", resolverSource, "Unknown address resolver: %s (Envoy's resolvers are "+
			"%q, the default, and %q)", sa.GetResolverName(), ipResolverName, reverseConnResolver)
		return
	}
	if _, named := sa.GetPortSpecifier().(*corev3.SocketAddress_NamedPort); named {
		c.envoyf(path()+".socket_address.named_port", resolverSource, "IP resolver can't handle port specifier type %d "+
			"(named_port needs a custom resolver; use port_value)", sa.ProtoReflect().Descriptor().Fields().ByName("named_port").Number())
	}
	c.ipSocketAddress(func() string { return path() + ".socket_address" }, sa, src, hint)
}

// ipSocketAddress reports a socket address that is not an IP literal. Addresses with a resolver other than the IP
// resolver are left alone.
func (c *Context) ipSocketAddress(path func() string, sa *corev3.SocketAddress, src, hint string) {
	if sa == nil || (sa.GetResolverName() != "" && sa.GetResolverName() != ipResolverName) || sa.GetAddress() == "" {
		return
	}
	if _, err := netip.ParseAddr(sa.GetAddress()); err != nil {
		c.envoyf(path()+".address", src, "malformed IP address: %s%s", sa.GetAddress(), hint)
	}
}

// pipeAddress: a UNIX socket path fits sockaddr_un, has no NUL unless it is abstract ("@..."), and an abstract
// socket has no file mode.
// Envoy: source/common/network/address_impl.cc:405 [listeners-69fb636a], :424 [listeners-c3c6c746], :439
// [listeners-3622ad3c] (PipeInstance) — "Path "<p>" exceeds maximum UNIX domain socket path size of 108.", "Cannot
// set mode for Abstract AF_UNIX sockets", "UNIX domain socket pathname contains embedded null characters".
func (c *Context) pipeAddress(path func() string, p *corev3.Pipe) {
	const src = "source/common/network/address_impl.cc"
	name := p.GetPath()
	switch {
	case len(name) > maxPipePath:
		c.envoyf(path()+".path", src, "Path \"%s\" exceeds maximum UNIX domain socket path size of %d.", name, maxPipePath+1)
	case strings.HasPrefix(name, "@"):
		if p.GetMode() != 0 {
			c.envoyf(path()+".mode", src, "Cannot set mode for Abstract AF_UNIX sockets")
		}
	case strings.IndexByte(name, 0) >= 0:
		c.envoyf(path()+".path", src, "UNIX domain socket pathname contains embedded null characters")
	}
}

// listenerAddresses: a listener binds its addresses.
func listenerAddresses(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok {
		return
	}
	c.ipAddress(func() string { return c.at("address") }, l.GetAddress(), resolverSource, " (a listener binds an IP address, not a host name)")
	for i, extra := range l.GetAdditionalAddresses() {
		c.ipAddress(func() string { return index(c.at("additional_addresses"), i) + ".address" }, extra.GetAddress(), resolverSource,
			" (a listener binds an IP address, not a host name)")
	}
}

// adminAddress: the admin interface binds its address.
func adminAddress(c *Context, m protoreflect.Message) {
	if a, ok := m.Interface().(*bootstrapv3.Admin); ok {
		c.ipAddress(func() string { return c.at("address") }, a.GetAddress(), resolverSource, " (admin binds an IP address, not a host name)")
	}
}

// statsdAddress: the statsd sinks send to an address resolved once, without DNS (use tcp_cluster_name for a name).
func statsdAddress(c *Context, m protoreflect.Message) {
	var a *corev3.Address
	switch s := m.Interface().(type) {
	case *metricsv3.StatsdSink:
		a = s.GetAddress()
	case *metricsv3.DogStatsdSink:
		a = s.GetAddress()
	}
	c.ipAddress(func() string { return c.at("address") }, a, resolverSource, " (statsd sinks do not resolve host names; use tcp_cluster_name)")
}

// xrayDaemon: the X-Ray tracer sends UDP segments to an IP address (checked when Envoy builds the driver at load).
// Envoy: source/extensions/tracers/xray/daemon_broker.cc:35 — "malformed IP address: <a>".
func xrayDaemon(c *Context, m protoreflect.Message) {
	if x, ok := m.Interface().(*tracev3.XRayConfig); ok && c.tracerBuilt() {
		c.ipSocketAddress(func() string { return c.at("daemon_endpoint") }, x.GetDaemonEndpoint(), resolverSource,
			" (the X-Ray daemon endpoint is not resolved by DNS)")
	}
}

// bindConfigSources: the upstream bind config Envoy builds at load — a static cluster's own, or the cluster
// manager's when a static cluster has none (createUpstreamLocalAddressSelector reads nothing else) — names local IP
// addresses, with a source address when it has others. An address of the IP resolver that is not an IP literal fails
// in resolveProtoSocketAddress ("malformed IP address"); other resolvers are left to ipAddress's rules. (Envoy's
// own "upstream binding config has invalid IP addresses" is raised only for an address that is still unset after
// parsing, which the earlier checks make unreachable.)
// Envoy: source/common/upstream/upstream_impl.cc:339 [clusters-24cd82f3] — "Can't specify both `extra_source_addresses` and
// `additional_source_addresses` in the <owner>'s upstream binding config", :350 [clusters-195d72cd] — "<owner>'s upstream binding config
// has extra/additional source addresses but no source_address. ..."; source/common/network/utility.cc (via
// resolveProtoSocketAddress) — "malformed IP address: <a>".
func bindConfigSources(c *Context, m protoreflect.Message) {
	bc, ok := m.Interface().(*corev3.BindConfig)
	if !ok {
		return
	}
	owner := "Bootstrap"
	if anc := c.Ancestor("envoy.config.cluster.v3.Cluster"); anc != nil {
		cl, _ := anc.Interface().(*clusterv3.Cluster)
		owner = "Cluster " + cl.GetName()
	} else if parent, _ := c.Parent(); parent == nil || parent.Descriptor().FullName() != "envoy.config.bootstrap.v3.ClusterManager" ||
		!c.bootstrapBindConfigUsed() {
		return // not read at load: no static cluster uses the cluster manager's bind config
	}
	const src = "source/common/upstream/upstream_impl.cc"
	extra, additional := bc.GetExtraSourceAddresses(), bc.GetAdditionalSourceAddresses()
	if len(extra) > 0 && len(additional) > 0 {
		c.envoyf(c.at("additional_source_addresses"), src, "Can't specify both `extra_source_addresses` and "+
			"`additional_source_addresses` in the %s's upstream binding config", owner)
		return
	}
	if bc.GetSourceAddress() == nil && (len(extra) > 0 || len(additional) > 0) {
		c.envoyf(c.Path(), src, "%s's upstream binding config has extra/additional source addresses but no "+
			"source_address. Extra/additional addresses cannot be specified if source_address is not set.", owner)
		return
	}
	hint := " (" + owner + "'s upstream binding config takes IP addresses)"
	c.ipSocketAddress(func() string { return c.at("source_address") }, bc.GetSourceAddress(), resolverSource, hint)
	for i, e := range extra {
		c.ipSocketAddress(func() string { return index(c.at("extra_source_addresses"), i) + ".address" }, e.GetAddress(), resolverSource, hint)
	}
	for i, sa := range additional {
		c.ipSocketAddress(func() string { return index(c.at("additional_source_addresses"), i) }, sa, resolverSource, hint)
	}
}
