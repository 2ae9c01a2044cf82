package loadtime

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Listener rules: source/common/listener_manager/listener_impl.cc and filter_chain_manager_impl.cc.

const (
	listenerSource    = "source/common/listener_manager/listener_impl.cc"
	filterChainSource = "source/common/listener_manager/filter_chain_manager_impl.cc"
	// maxMatchLeaves bounds the work of the overlap check; real listeners stay far below it.
	maxMatchLeaves = 100000
)

func init() {
	register("envoy.config.listener.v3.Listener", listenerFilterChains, listenerInternal, listenerQUIC, listenerMatchers)
}

// listenerName is what Envoy puts in its messages: the addresses, joined by commas.
func listenerName(l *listenerv3.Listener) string {
	addrs := []*corev3.Address{l.GetAddress()}
	for _, a := range l.GetAdditionalAddresses() {
		addrs = append(addrs, a.GetAddress())
	}
	var names []string
	for _, a := range addrs {
		switch {
		case a.GetPipe() != nil:
			names = append(names, a.GetPipe().GetPath())
		case a.GetSocketAddress() != nil:
			sa := a.GetSocketAddress()
			host := sa.GetAddress()
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			names = append(names, host+":"+strconv.Itoa(int(sa.GetPortValue())))
		case a.GetEnvoyInternalAddress() != nil:
			names = append(names, "envoy://"+a.GetEnvoyInternalAddress().GetServerListenerName())
		}
	}
	return strings.Join(names, ",")
}

func isUDP(l *listenerv3.Listener) bool {
	return l.GetAddress().GetSocketAddress().GetProtocol() == corev3.SocketAddress_UDP
}

func isQUIC(l *listenerv3.Listener) bool {
	return isUDP(l) && l.GetUdpListenerConfig().GetQuicOptions() != nil
}

// listenerFilterChains: TCP and QUIC listeners need a filter chain, QUIC chains a transport socket, and raw UDP
// listeners none (their listener filters do the work).
// Envoy: source/common/listener_manager/listener_impl.cc (validateFilterChains) — "error adding listener '<a>': no
// filter chains specified", "... no transport socket specified for connection oriented UDP listener",
// "... <n> filter chain(s) specified for connection-less UDP listener."
func listenerFilterChains(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok || l.GetApiListener() != nil {
		return // an API listener only carries an HCM for Envoy Mobile
	}
	chains := len(l.GetFilterChains())
	if l.GetDefaultFilterChain() != nil {
		chains++
	}
	switch {
	case !isUDP(l) || isQUIC(l):
		if chains == 0 {
			if isQUIC(l) {
				c.envoyf(c.Path(), listenerSource, "error adding listener '%s': no filter chains specified", listenerName(l))
			}
			return // a TCP listener without chains is an advisory (see Advisories)
		}
		if !isQUIC(l) {
			return
		}
		for i, fc := range l.GetFilterChains() {
			if fc.GetTransportSocket() == nil {
				c.envoyf(index(c.at("filter_chains"), i), listenerSource, "error adding listener '%s': no transport socket "+
					"specified for connection oriented UDP listener", listenerName(l))
			}
		}
	case chains > 0:
		c.envoyf(c.at("filter_chains"), listenerSource, "error adding listener '%s': %d filter chain(s) specified for "+
			"connection-less UDP listener.", listenerName(l), len(l.GetFilterChains()))
	}
}

// listenerInternal: internal listeners have no socket, and need the internal listener bootstrap extension.
// Envoy: source/common/listener_manager/listener_impl.cc — "error adding listener '<n>': address should not be used
// when an internal listener config is provided", "error adding listener named '<n>': has unsupported tcp listener
// feature", "... does not support socket option", "... InternalListener bootstrap extension is mandatory",
// "... use internal_listener field instead of address for internal listeners".
func listenerInternal(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok {
		return
	}
	if l.GetInternalListener() == nil {
		internal := l.GetAddress().GetEnvoyInternalAddress() != nil
		for _, a := range l.GetAdditionalAddresses() {
			internal = internal || a.GetAddress().GetEnvoyInternalAddress() != nil
		}
		if internal {
			c.envoyf(c.at("address"), listenerSource, "error adding listener named '%s': use internal_listener field "+
				"instead of address for internal listeners", l.GetName())
		}
		return
	}
	if l.GetAddress() != nil || len(l.GetAdditionalAddresses()) > 0 {
		c.envoyf(c.at("address"), listenerSource, "error adding listener '%s': address should not be used when an "+
			"internal listener config is provided", l.GetName())
	}
	if l.GetConnectionBalanceConfig().GetExactBalance() != nil || l.GetEnableMptcp() || l.GetEnableReusePort() != nil ||
		l.GetFreebind().GetValue() || l.GetTcpBacklogSize() != nil || l.GetTcpFastOpenQueueLength() != nil ||
		l.GetTransparent().GetValue() {
		c.envoyf(c.Path(), listenerSource, "error adding listener named '%s': has unsupported tcp listener feature", l.GetName())
	}
	if len(l.GetSocketOptions()) > 0 {
		c.envoyf(c.at("socket_options"), listenerSource, "error adding listener named '%s': does not support socket option", l.GetName())
	}
	const internalListener = "type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener"
	for _, ext := range c.bootstrap().GetBootstrapExtensions() {
		if ext.GetTypedConfig().GetTypeUrl() == internalListener || extensionType(ext.GetTypedConfig().ProtoReflect()) ==
			"envoy.extensions.bootstrap.internal_listener.v3.InternalListener" {
			return
		}
	}
	c.envoyf(c.at("internal_listener"), listenerSource, "error adding listener named '%s': InternalListener bootstrap "+
		"extension is mandatory", l.GetName())
}

// listenerQUIC: a QUIC listener cannot balance connections.
// Envoy: source/common/listener_manager/listener_impl.cc — "connection_balance_config is configured for QUIC
// listener which doesn't work with connection balancer."
func listenerQUIC(c *Context, m protoreflect.Message) {
	if l, ok := m.Interface().(*listenerv3.Listener); ok && isQUIC(l) && l.GetConnectionBalanceConfig() != nil {
		c.envoyf(c.at("connection_balance_config"), listenerSource,
			"connection_balance_config is configured for QUIC listener which doesn't work with connection balancer.")
	}
}

// listenerMatchers: Envoy must be able to tell filter chains apart.
// Envoy: source/common/listener_manager/filter_chain_manager_impl.cc (addFilterChains) — "error adding listener
// '<a>': filter chain '<n>' contains unimplemented fields", "... filter chain '<n>' has the same matching rules
// defined as '<m>'", "... partial wildcards are not supported in \"server_names\"", "... multiple filter chains with
// overlapping matching rules are defined", "... \"name\" field is required when using a listener matcher",
// "... \"name\" field is duplicated with value '<n>'", and CidrRange's "malformed IP address: <a>".
func listenerMatchers(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok {
		return
	}
	if l.GetFilterChainMatcher() != nil {
		names := map[string]bool{}
		for i, fc := range l.GetFilterChains() {
			p := func(leaf string) string { return index(c.at("filter_chains"), i) + leaf }
			switch {
			case fc.GetName() == "":
				c.envoyf(p(".name"), filterChainSource, "error adding listener '%s': \"name\" field is required when using a listener matcher", listenerName(l))
			case names[fc.GetName()]:
				c.envoyf(p(".name"), filterChainSource, "error adding listener '%s': \"name\" field is duplicated with value '%s'", listenerName(l), fc.GetName())
			}
			names[fc.GetName()] = true
		}
		return
	}
	var seen []*listenerv3.FilterChainMatch
	leaves := map[string]bool{}
	budget := maxMatchLeaves
	for i, fc := range l.GetFilterChains() {
		p := func(leaf string) string { return index(c.at("filter_chains"), i) + leaf }
		fcm := fc.GetFilterChainMatch()
		if fcm.GetAddressSuffix() != "" || fcm.GetSuffixLen() != nil {
			c.envoyf(p(".filter_chain_match"), filterChainSource, "error adding listener '%s': filter chain '%s' contains unimplemented fields", listenerName(l), fc.GetName())
			return
		}
		if j := slices.IndexFunc(seen, func(o *listenerv3.FilterChainMatch) bool { return proto.Equal(o, fcm) }); j >= 0 {
			c.envoyf(p(".filter_chain_match"), filterChainSource, "error adding listener '%s': filter chain '%s' has the same "+
				"matching rules defined as '%s'", listenerName(l), fc.GetName(), l.GetFilterChains()[j].GetName())
			return
		}
		seen = append(seen, fcm)
		dst, ok1 := c.cidrs(p, ".filter_chain_match.prefix_ranges", fcm.GetPrefixRanges())
		src, ok2 := c.cidrs(p, ".filter_chain_match.source_prefix_ranges", fcm.GetSourcePrefixRanges())
		direct, ok3 := c.cidrs(p, ".filter_chain_match.direct_source_prefix_ranges", fcm.GetDirectSourcePrefixRanges())
		if !ok1 || !ok2 || !ok3 {
			return
		}
		var servers []string
		for j, sn := range fcm.GetServerNames() {
			if strings.Contains(sn, "*") && !strings.HasPrefix(sn, "*.") {
				c.envoyf(index(p(".filter_chain_match.server_names"), j), filterChainSource,
					"error adding listener '%s': partial wildcards are not supported in \"server_names\"", listenerName(l))
				return
			}
			servers = append(servers, strings.TrimPrefix(strings.ToLower(sn), "*"))
		}
		if len(l.GetFilterChains()) == 1 {
			continue // a single chain overlaps nothing
		}
		ports := []string{strconv.Itoa(int(fcm.GetDestinationPort().GetValue()))}
		var srcPorts []string
		for _, sp := range fcm.GetSourcePorts() {
			srcPorts = append(srcPorts, strconv.Itoa(int(sp)))
		}
		// Envoy builds a tree keyed by each criterion in turn; two chains meeting in one leaf overlap.
		dims := [][]string{ports, orAny(dst), orAny(servers), {fcm.GetTransportProtocol()}, orAny(fcm.GetApplicationProtocols()),
			orAny(direct), {fcm.GetSourceType().String()}, orAny(src), orAny(srcPorts)}
		n := 1
		for _, d := range dims {
			n *= len(d)
		}
		if budget -= n; budget < 0 {
			return // too large to enumerate; Envoy will say
		}
		overlap := false
		product(dims, func(key string) {
			if leaves[key] {
				overlap = true
			}
			leaves[key] = true
		})
		if overlap {
			c.envoyf(p(".filter_chain_match"), filterChainSource, "error adding listener '%s': multiple filter chains with "+
				"overlapping matching rules are defined", listenerName(l))
			return
		}
	}
}

func orAny(v []string) []string {
	if len(v) == 0 {
		return []string{""}
	}
	return v
}

// product calls fn with every combination of one value per dimension, as one key.
func product(dims [][]string, fn func(string)) {
	var rec func(i int, key string)
	rec = func(i int, key string) {
		if i == len(dims) {
			fn(key)
			return
		}
		for _, v := range dims[i] {
			rec(i+1, key+"\x00"+v)
		}
	}
	rec(0, "")
}

// cidrs normalises prefix ranges the way CidrRange::asString does (address masked to its length).
// cidrs parses the ranges held in field below the filter chain at chain("").
func (c *Context) cidrs(chain func(string) string, field string, ranges []*corev3.CidrRange) ([]string, bool) {
	var out []string
	for i, r := range ranges {
		addr, err := netip.ParseAddr(r.GetAddressPrefix())
		if err != nil {
			c.envoyf(index(chain(field), i)+".address_prefix", filterChainSource, "malformed IP address: %s", r.GetAddressPrefix())
			return nil, false
		}
		bits := int(r.GetPrefixLen().GetValue()) // unset means 0, as in Envoy
		if bits > addr.BitLen() {
			bits = addr.BitLen()
		}
		pfx, err := addr.Prefix(bits)
		if err != nil {
			return nil, false
		}
		out = append(out, pfx.String())
	}
	return out, true
}

// Advisories reports what Envoy rejects but the bootstrap conformance corpus (testdata/conformance, case
// m47-resources-file-full) requires render to accept: a static TCP listener without any filter chain. The validate
// command prints these as warnings.
// Envoy: source/common/listener_manager/listener_impl.cc — "error adding listener '<a>': no filter chains specified".
func Advisories(b *bootstrapv3.Bootstrap, report func(path, message string)) {
	for i, l := range b.GetStaticResources().GetListeners() {
		if l.GetApiListener() == nil && !isUDP(l) && len(l.GetFilterChains()) == 0 && l.GetDefaultFilterChain() == nil {
			report(index("static_resources.listeners", i), "Envoy rejects this listener: \"error adding listener '"+
				listenerName(l)+"': no filter chains specified\" (Envoy: "+listenerSource+")")
		}
	}
}
