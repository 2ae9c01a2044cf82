package loadtime

import (
	"net/netip"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Listener options: the listener manager's checks of a listener's kind and address (listener_manager_impl.cc
// addOrUpdateListener), and the listener's own (listener_impl.cc: the constructor, validateConfig,
// buildConnectionBalancer) and its listener filters' (listener_manager_impl.cc create*ListenerFilterFactoryList).

const listenerManagerSource = "source/common/listener_manager/listener_manager_impl.cc"

func init() {
	register("envoy.config.listener.v3.Listener", listenerKind, listenerSocketTypes, listenerIPv4Compat, listenerMPTCP,
		listenerBalancer, listenerFilterDiscovery)
}

// listenerDisplayName is the name Envoy uses in its messages: the listener's name (Envoy makes up a UUID for a
// listener without one, which cannot be predicted; the messages then say "(unnamed)").
func listenerDisplayName(l *listenerv3.Listener) string {
	if l.GetName() == "" {
		return "(unnamed)"
	}
	return l.GetName()
}

// listenerKind: an API listener is not an internal listener, and official server builds have no API listener at
// all (only Envoy Mobile links the envoy.http_api_listener extension; a warning, as a custom build may link it);
// every other listener needs an address unless it is internal.
// Envoy: source/common/listener_manager/listener_manager_impl.cc:527 [listeners-9e2e124d] — "error adding listener
// named '<n>': api_listener and internal_listener cannot be both set"; :536 (row listeners-9d74915f, a warning) — "... missing the
// API listener extension"; :552 [listeners-924c8640] — "... address is necessary".
func listenerKind(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok {
		return
	}
	switch {
	case l.GetApiListener() != nil && l.GetInternalListener() != nil:
		c.envoyf(c.at("api_listener"), listenerManagerSource, "error adding listener named '%s': api_listener and "+
			"internal_listener cannot be both set", listenerDisplayName(l))
	case l.GetApiListener() != nil:
		// Whether the factory is linked is a build option: official server images lack it, a custom build may not.
		c.envoyWarnf(c.at("api_listener"), listenerManagerSource, "error adding listener named '%s': missing the API "+
			"listener extension (envoy.http_api_listener is linked into Envoy Mobile, not into official server builds; "+
			"a server's listeners need an address)", listenerDisplayName(l))
	case l.GetInternalListener() == nil && l.GetAddress() == nil:
		c.envoyf(c.at("address"), listenerManagerSource, "error adding listener named '%s': address is necessary",
			listenerDisplayName(l))
	}
}

// socketType is Network::Utility::protobufAddressSocketType: UDP socket addresses are datagram sockets, everything
// else (TCP, pipes, internal addresses) stream sockets.
func socketType(a *corev3.Address) string {
	if a.GetSocketAddress().GetProtocol() == corev3.SocketAddress_UDP {
		return "datagram"
	}
	return "stream"
}

// listenerSocketTypes: every address of a listener has the socket type of the first.
// Envoy: source/common/listener_manager/listener_impl.cc:372 [listeners-6e434da3] — "listener <n>: has different
// socket type. The listener only support same socket type for all the addresses."
func listenerSocketTypes(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok || l.GetInternalListener() != nil || l.GetAddress() == nil {
		return
	}
	want := socketType(l.GetAddress())
	for i, extra := range l.GetAdditionalAddresses() {
		if extra.GetAddress() != nil && socketType(extra.GetAddress()) != want {
			c.envoyf(index(c.at("additional_addresses"), i)+".address", listenerSource, "listener %s: has different socket "+
				"type. The listener only support same socket type for all the addresses.", listenerDisplayName(l))
			return
		}
	}
}

// listenerIPv4Compat: ipv4_compat only makes sense on "::" or an IPv4-mapped IPv6 address. Envoy checks the flag
// of each additional address against the listener's first address, and so does this rule.
// Envoy: source/common/listener_manager/listener_impl.cc:524 [listeners-6b5d9df7] (checkIpv4CompatAddress) —
// "Only IPv6 address '::' or valid IPv4-mapped IPv6 address can set ipv4_compat: <address>".
func listenerIPv4Compat(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok || l.GetInternalListener() != nil {
		return
	}
	first := l.GetAddress().GetSocketAddress()
	if first == nil || (first.GetResolverName() != "" && first.GetResolverName() != ipResolverName) {
		return
	}
	compat := first.GetIpv4Compat()
	for _, extra := range l.GetAdditionalAddresses() {
		compat = compat || extra.GetAddress().GetSocketAddress().GetIpv4Compat()
	}
	if !compat {
		return
	}
	addr, err := netip.ParseAddr(first.GetAddress())
	if err != nil {
		return // reported as a malformed address
	}
	// The first address is v6only unless its own ipv4_compat is set; only then can it map IPv4.
	if addr.Is6() && (addr.IsUnspecified() || (first.GetIpv4Compat() && addr.Is4In6())) {
		return
	}
	shown := netip.AddrPortFrom(addr, uint16(first.GetPortValue())).String()
	report := func(path string) {
		c.envoyf(path, listenerSource, "Only IPv6 address '::' or valid IPv4-mapped IPv6 address can set ipv4_compat: %s", shown)
	}
	if first.GetIpv4Compat() {
		report(c.at("address.socket_address.ipv4_compat"))
	}
	for i, extra := range l.GetAdditionalAddresses() {
		if extra.GetAddress().GetSocketAddress().GetIpv4Compat() {
			report(index(c.at("additional_addresses"), i) + ".address.socket_address.ipv4_compat")
		}
	}
}

// listenerMPTCP: multipath TCP needs a TCP listener on IP addresses.
// Envoy: source/common/listener_manager/listener_impl.cc:534 [listeners-080289c1], :539 [listeners-856b52f6]
// (validateConfig) — "listener <n>: enable_mptcp can only be used with TCP listeners", "listener <n>: enable_mptcp
// can only be used with IP addresses".
func listenerMPTCP(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok || !l.GetEnableMptcp() {
		return
	}
	if l.GetInternalListener() == nil && socketType(l.GetAddress()) == "datagram" {
		c.envoyf(c.at("enable_mptcp"), listenerSource, "listener %s: enable_mptcp can only be used with TCP listeners",
			listenerDisplayName(l))
		return
	}
	ip := l.GetInternalListener() == nil && l.GetAddress().GetSocketAddress() != nil
	for _, extra := range l.GetAdditionalAddresses() {
		ip = ip && extra.GetAddress().GetSocketAddress() != nil
	}
	if !ip {
		c.envoyf(c.at("enable_mptcp"), listenerSource, "listener %s: enable_mptcp can only be used with IP addresses",
			listenerDisplayName(l))
	}
}

// listenerBalancer: an extend_balance connection balancer is found by its config type, as it is; Envoy ships no
// connection balancer outside contrib (the DLB balancer), so any type the validator can decode finds none.
// Envoy: source/common/listener_manager/listener_impl.cc:859 [listeners-fac3bd0f] (buildConnectionBalancer, for
// stream listeners) — "Didn't find a registered implementation for type: '<type>'".
func listenerBalancer(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok || (l.GetInternalListener() == nil && socketType(l.GetAddress()) == "datagram") {
		return
	}
	ext := l.GetConnectionBalanceConfig().GetExtendBalance()
	if ext.GetTypedConfig() == nil {
		return
	}
	if typ, missing := rawNoFactory(ext.GetTypedConfig().GetTypeUrl(), "envoy.network.connection_balance"); missing ||
		extensionName(typ) == "" {
		c.envoyf(c.at("connection_balance_config.extend_balance.typed_config"), listenerSource,
			"Didn't find a registered implementation for type: '%s' (Envoy's only connection balancer extension is the "+
				"contrib DLB balancer; use exact_balance)", typ)
	}
}

// listenerFilterDiscovery: listener filters configured by discovery. A UDP listener (not QUIC) takes none; a TCP or
// QUIC listener's needs a default config to apply without warming, and each type URL it accepts must be a
// listener filter of the listener's kind.
// Envoy: source/common/listener_manager/listener_manager_impl.cc:149 [listeners-51afdae3], :159
// [listeners-cf3d5ee9], :202 [listeners-48563591], :239 [listeners-e3f349ba], :247 [listeners-92c0187a] — "Error:
// listener filter config <n> applied without warming but has no default config.", "Error: no listener factory found
// for a required type URL <type>.", "UDP listener filter: <n> is configured with unsupported dynamic configuration".
func listenerFilterDiscovery(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok {
		return
	}
	category := "envoy.filters.listener"
	switch {
	case isQUIC(l):
		category = "envoy.filters.quic_listener"
	case isUDP(l):
		category = ""
	}
	for i, f := range l.GetListenerFilters() {
		cd := f.GetConfigDiscovery()
		if cd == nil {
			continue
		}
		p := func() string { return index(c.at("listener_filters"), i) + ".config_discovery" }
		if category == "" {
			c.envoyf(p(), listenerManagerSource, "UDP listener filter: %s is configured with unsupported dynamic configuration", f.GetName())
			continue
		}
		if cd.GetApplyDefaultConfigWithoutWarming() && cd.GetDefaultConfig() == nil {
			c.envoyf(p()+".apply_default_config_without_warming", listenerManagerSource,
				"Error: listener filter config %s applied without warming but has no default config.", f.GetName())
		}
		for j, url := range cd.GetTypeUrls() {
			if typ, missing := rawNoFactory(url, category); missing {
				c.envoyf(index(p()+".type_urls", j), listenerManagerSource, "Error: no listener factory found for a "+
					"required type URL %s. (this listener takes %s extensions)", typ, category)
			}
		}
	}
}
