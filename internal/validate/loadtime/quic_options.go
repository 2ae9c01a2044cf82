//go:build !appnet_lean

package loadtime

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	quiclbv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/quic/connection_id_generator/quic_lb/v3"
	spav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/quic/server_preferred_address/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Extensions of a QUIC listener's quic_options, which Envoy builds with the listener: the server preferred address
// (source/extensions/quic/server_preferred_address/) and the QUIC-LB connection ID generator
// (source/extensions/quic/connection_id_generator/quic_lb/quic_lb.cc). Values given inline are checked; files and
// environment variables are the host's.

const (
	fixedSPASource      = "source/extensions/quic/server_preferred_address/fixed_server_preferred_address_config.cc"
	dataSourceSPASource = "source/extensions/quic/server_preferred_address/datasource_server_preferred_address_config.cc"
	quicLBSource        = "source/extensions/quic/connection_id_generator/quic_lb/quic_lb.cc"
)

// quicIP parses an address as quic::QuicIpAddress::FromString does (inet_pton: an IPv4 or IPv6 literal, no zone).
func quicIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	return a, err == nil && a.Zone() == ""
}

func familyOf(a netip.Addr) string {
	if a.Is4() {
		return "v4"
	}
	return "v6"
}

// fixedPreferredAddress: the fixed server preferred address of each family is an IP literal; with the per-family
// config, the address is of the family, its port is 0 unless a DNAT address is given, and the DNAT address (which
// needs the address) is of the family with port 0.
// Envoy: fixed_server_preferred_address_config.cc:16 [listeners-d9ac90ea], :32 [listeners-85cbae3a], :38
// [listeners-ed28baea], :52 [listeners-24165946], :70 [listeners-3913f732], :80 [listeners-8db117b4] — "bad <f>
// server preferred address: <a>", "Invalid address <a>", "wrong address type for <f> server preferred address: <a>",
// "port must be 0 in this version of Envoy in address '<a>'", "'dnat_address' but not 'address' is set in server
// preferred address for <f>", "'address' port must be zero unless 'dnat_address' is set in address <a> for address
// family <f>".
func fixedPreferredAddress(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*spav3.FixedServerPreferredAddressConfig)
	if !ok {
		return
	}
	family := func(family, addrField, cfgField string, addr string, fc *spav3.FixedServerPreferredAddressConfig_AddressFamilyConfig) {
		if fc == nil {
			if _, ok := quicIP(addr); addr != "" && !ok {
				c.envoyf(c.at(addrField), fixedSPASource, "bad %s server preferred address: %s", family, addr)
			}
			return
		}
		at := func(f string) string { return c.at(cfgField + "." + f) }
		if fc.GetDnatAddress() != nil && fc.GetAddress() == nil {
			c.envoyf(at("dnat_address"), fixedSPASource, "'dnat_address' but not 'address' is set in server preferred address for %s", family)
			return
		}
		if sa := fc.GetAddress(); sa != nil {
			ap, ok := c.preferredSocketAddress(at("address"), sa, family)
			if ok && fc.GetDnatAddress() == nil && ap.Port() != 0 {
				c.envoyf(at("address.port_value"), fixedSPASource, "'address' port must be zero unless 'dnat_address' is set in "+
					"address %s for address family %s", ap, family)
			}
		}
		if sa := fc.GetDnatAddress(); sa != nil {
			if ap, ok := c.preferredSocketAddress(at("dnat_address"), sa, family); ok && ap.Port() != 0 {
				c.envoyf(at("dnat_address.port_value"), fixedSPASource, "port must be 0 in this version of Envoy in address '%s'", ap)
			}
		}
	}
	family("v4", "ipv4_address", "ipv4_config", cfg.GetIpv4Address(), cfg.GetIpv4Config())
	family("v6", "ipv6_address", "ipv6_config", cfg.GetIpv6Address(), cfg.GetIpv6Config())
}

// preferredSocketAddress parses a socket address as Network::Utility::protobufAddressToAddressNoThrow does (an IP
// literal and the port_value) and checks its family.
func (c *Context) preferredSocketAddress(path string, sa *corev3.SocketAddress, family string) (netip.AddrPort, bool) {
	a, err := netip.ParseAddr(sa.GetAddress())
	if err != nil {
		c.envoyf(path, fixedSPASource, "Invalid address %s", sa.GetAddress())
		return netip.AddrPort{}, false
	}
	if familyOf(a) != family {
		c.envoyf(path, fixedSPASource, "wrong address type for %s server preferred address: %s", family, sa.GetAddress())
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(sa.GetPortValue())), true
}

// dataSourcePreferredAddress: the data-source server preferred address of each family holds an IP literal of the
// family (surrounding blanks ignored); a port needs a DNAT address and must be a port number.
// Envoy: datasource_server_preferred_address_config.cc:25 [listeners-1a0a91eb], :30 [listeners-9cb1ad2c], :50
// [listeners-83dcd63d], :66 [listeners-ae0b8a70] — "bad <f> server preferred address: <a>", "wrong address family
// for <f> server preferred address: <a>", "port must be unset unless 'dnat_address' is set for address family <f>",
// "server preferred address <f> port was not a valid port: <p>".
func dataSourcePreferredAddress(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*spav3.DataSourceServerPreferredAddressConfig)
	if !ok {
		return
	}
	ip := func(path string, ds *corev3.DataSource, family string) bool {
		data, ok := inlineText(ds)
		if !ok {
			return true
		}
		a, ok := quicIP(strings.Trim(data, " \t\f\v\n\r"))
		switch {
		case !ok:
			c.envoyf(path, dataSourceSPASource, "bad %s server preferred address: %s", family, data)
		case familyOf(a) != family:
			c.envoyf(path, dataSourceSPASource, "wrong address family for %s server preferred address: %s", family, data)
		default:
			return true
		}
		return false
	}
	family := func(family, field string, fc *spav3.DataSourceServerPreferredAddressConfig_AddressFamilyConfig) {
		if fc == nil {
			return
		}
		at := func(f string) string { return c.at(field + "." + f) }
		if !ip(at("address"), fc.GetAddress(), family) {
			return
		}
		if fc.GetPort() != nil && fc.GetDnatAddress() == nil {
			c.envoyf(at("port"), dataSourceSPASource, "port must be unset unless 'dnat_address' is set for address family %s", family)
			return
		}
		if port, ok := inlineText(fc.GetPort()); ok && !simpleAtoiPort(port) {
			c.envoyf(at("port"), dataSourceSPASource, "server preferred address %s port was not a valid port: %s", family, port)
			return
		}
		if fc.GetDnatAddress() != nil {
			ip(at("dnat_address"), fc.GetDnatAddress(), family)
		}
	}
	family("v4", "ipv4_config", cfg.GetIpv4Config())
	family("v6", "ipv6_config", cfg.GetIpv6Config())
}

// simpleAtoiPort reports whether absl::SimpleAtoi reads s as an unsigned 32-bit number (ASCII blanks around it and
// a leading '+' allowed) that is a port.
func simpleAtoiPort(s string) bool {
	s = strings.TrimPrefix(strings.Trim(s, " \t\n\v\f\r"), "+")
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && n <= 65535
}

// QUIC-LB limits (quiche/quic/load_balancer/load_balancer_config.h).
const (
	quicLBKeyLen     = 16 // kLoadBalancerKeyLen
	quicLBConfigs    = 7  // kNumLoadBalancerConfigs
	quicLBMaxIDBytes = 18 // server ID plus nonce, after Envoy's length byte and worker byte
)

// quicLoadBalancer: the QUIC-LB server ID (given inline, maybe base64) has the expected length, is not empty, and
// fits with the nonce in a connection ID; the encryption parameters name a static generic secret (or come by SDS),
// whose key and configuration version Envoy checks when it loads a static one.
// Envoy: source/extensions/quic/connection_id_generator/quic_lb/quic_lb.cc:117 [listeners-ce641da5], :219
// [listeners-f781682c], :230 [listeners-d80e1300], :263 [listeners-f474fd6e], :152 [listeners-6840357d], :160
// [listeners-30ca406c], :167 [listeners-5bb62de8], :174 [listeners-f431f974], :180 [listeners-f39d595d] — "error
// generating quic::LoadBalancerConfig", "'expected_server_id_length' <n> does not match actual 'server_id' length
// <m>", "'server_id' length (<n>) and 'nonce_length_bytes' (<m>) combined must be 18 bytes or less.", "invalid
// encryption_parameters config", "Missing 'encryption_key'", "'encryption_key' length was <n>, but it must be
// length 16", "Missing 'configuration_version'", "'configuration_version' length was <n>, but it must be length 1
// byte", "'configuration_version' was <n>, but must be less than 7".
func quicLoadBalancer(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*quiclbv3.Config)
	if !ok {
		return
	}
	if id, ok := inlineText(cfg.GetServerId()); ok {
		if cfg.GetServerIdBase64Encoded() {
			id = decodeBase64NoPadding(id)
		}
		n, nonce := len(id), int(cfg.GetNonceLengthBytes())
		switch want := int(cfg.GetExpectedServerIdLength()); {
		case want > 0 && want != n:
			c.envoyf(c.at("expected_server_id_length"), quicLBSource, "'expected_server_id_length' %d does not match actual "+
				"'server_id' length %d", want, n)
		case n+nonce > quicLBMaxIDBytes:
			c.envoyf(c.at("server_id"), quicLBSource, "'server_id' length (%d) and 'nonce_length_bytes' (%d) combined must "+
				"be 18 bytes or less.", n, nonce)
		case n == 0:
			c.envoyf(c.at("server_id"), quicLBSource, "error generating quic::LoadBalancerConfig (the server ID is empty)")
		}
	}
	params := cfg.GetEncryptionParameters()
	if params == nil || params.GetSdsConfig() != nil {
		return
	}
	secret := c.staticGenericSecretValues(params.GetName())
	if secret == nil {
		c.envoyf(c.at("encryption_parameters"), quicLBSource, "invalid encryption_parameters config (no static generic "+
			"secret %q and no sds_config)", params.GetName())
		return
	}
	if msg := quicLBSecretProblem(secret); msg != "" {
		c.envoyf(c.at("encryption_parameters"), quicLBSource, "%s (in static secret %q)", msg, params.GetName())
	}
}

// quicLBSecretProblem is getAndValidateKeyAndVersion on a generic secret's inline values.
func quicLBSecretProblem(secrets map[string]*corev3.DataSource) string {
	keySource, ok := secrets["encryption_key"]
	if !ok {
		return "Missing 'encryption_key'"
	}
	if key, ok := inlineText(keySource); ok && len(key) != quicLBKeyLen {
		return fmt.Sprintf("'encryption_key' length was %d, but it must be length %d", len(key), quicLBKeyLen)
	}
	versionSource, ok := secrets["configuration_version"]
	if !ok {
		return "Missing 'configuration_version'"
	}
	version, ok := inlineText(versionSource)
	switch {
	case !ok:
	case len(version) != 1:
		return fmt.Sprintf("'configuration_version' length was %d, but it must be length 1 byte", len(version))
	case version[0] >= quicLBConfigs:
		return fmt.Sprintf("'configuration_version' was %d, but must be less than %d", version[0], quicLBConfigs)
	}
	return ""
}

// staticGenericSecretValues returns the values of the static generic secret of that name, or nil (Envoy's
// findStaticGenericSecretProvider looks among generic secrets only).
func (c *Context) staticGenericSecretValues(name string) map[string]*corev3.DataSource {
	for _, s := range c.bootstrap().GetStaticResources().GetSecrets() {
		if g := s.GetGenericSecret(); g != nil && s.GetName() == name {
			if g.GetSecrets() == nil {
				return map[string]*corev3.DataSource{}
			}
			return g.GetSecrets()
		}
	}
	return nil
}

// decodeBase64NoPadding is Envoy's Base64::decodeWithoutPadding: the standard alphabet, at most two '=' at the end,
// unused bits zero, and an empty result for anything else.
func decodeBase64NoPadding(s string) string {
	for range 2 {
		s = strings.TrimSuffix(s, "=")
	}
	if strings.ContainsAny(s, "\r\n") {
		return "" // Go's decoder skips line breaks; Envoy's does not
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return ""
	}
	return string(b)
}
