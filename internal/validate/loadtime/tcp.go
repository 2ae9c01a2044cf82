//go:build !appnet_lean

package loadtime

import (
	"strings"

	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TCP and UDP proxy rules: source/common/tcp_proxy/tcp_proxy.cc (Config::SharedConfig, Config,
// TunnelingConfigHelperImpl) and source/extensions/filters/udp/udp_proxy/config.cc, which build the proxies'
// configuration when a static listener's filters are created.

const (
	tcpProxySource = "source/common/tcp_proxy/tcp_proxy.cc"
	udpProxySource = "source/extensions/filters/udp/udp_proxy/config.cc"
)

func init() {
	register("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", tcpProxyOptions, tcpProxyTLVs)
	register("envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig", udpProxyOptions)
}

// tcpProxyOptions: access_log_options replaces the older access log fields, the back-off ceiling is not below its
// base, an upstream connect mode other than IMMEDIATE bounds early data, and a POST path needs POST.
// Envoy: source/common/tcp_proxy/tcp_proxy.cc:163, :168, :201,
// :274, :969 — "Only one of flush_access_log_on_connected or access_log_options can be specified.", "Only one of
// access_log_flush_interval or access_log_options can be specified.", "max_backoff_interval must be greater or
// equal to base_backoff_interval", "max_early_data_bytes must be set when upstream_connect_mode is not IMMEDIATE",
// "Can't set a post path when POST method isn't used".
func tcpProxyOptions(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*tcpproxyv3.TcpProxy)
	if !ok {
		return
	}
	if p.GetAccessLogOptions() != nil {
		c.olderAccessLogFields(tcpProxySource, "flush_access_log_on_connected", p.GetFlushAccessLogOnConnected(),
			p.GetAccessLogFlushInterval() != nil)
	}
	if b := p.GetBackoffOptions(); backOffInverted(b.GetBaseInterval(), b.GetMaxInterval()) {
		c.envoyf(c.at("backoff_options.max_interval"), tcpProxySource,
			"max_backoff_interval must be greater or equal to base_backoff_interval")
	}
	if p.GetUpstreamConnectMode() != tcpproxyv3.UpstreamConnectMode_IMMEDIATE && p.GetMaxEarlyDataBytes() == nil {
		c.envoyf(c.at("upstream_connect_mode"), tcpProxySource,
			"max_early_data_bytes must be set when upstream_connect_mode is not IMMEDIATE")
	}
	if t := p.GetTunnelingConfig(); t.GetPostPath() != "" && !t.GetUsePost() {
		c.envoyf(c.at("tunneling_config.post_path"), tcpProxySource, "Can't set a post path when POST method isn't used")
	}
}

// tcpProxyTLVs: a PROXY protocol TLV has a value or a format string, not both.
// Envoy: source/common/tcp_proxy/tcp_proxy.cc:371, :376 (parseTLVs) — "Invalid TLV configuration: only one of
// 'value' or 'format_string' may be set.", "Invalid TLV configuration: one of 'value' or 'format_string' must be
// set."
func tcpProxyTLVs(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*tcpproxyv3.TcpProxy)
	if !ok {
		return
	}
	for i, tlv := range p.GetProxyProtocolTlvs() {
		value, format := len(tlv.GetValue()) > 0, tlv.GetFormatString() != nil
		switch {
		case value && format:
			c.envoyf(index(c.at("proxy_protocol_tlvs"), i), tcpProxySource,
				"Invalid TLV configuration: only one of 'value' or 'format_string' may be set.")
		case !value && !format:
			c.envoyf(index(c.at("proxy_protocol_tlvs"), i), tcpProxySource,
				"Invalid TLV configuration: one of 'value' or 'format_string' must be set.")
		}
	}
}

// udpProxyOptions: per-packet load balancing excludes tunneling and session filters; a tunnel's POST path needs
// POST and starts with "/", its proxy port is a port, and its back-off ceiling is not below its base.
// Envoy: source/extensions/filters/udp/udp_proxy/config.cc:52, :58, :72, :93, :118, :123 — "Can't set a post path
// when POST method isn't used", "Path must start with '/'", "Port value not in range", "max_backoff_interval must
// be greater or equal to base_backoff_interval", "Only one of use_per_packet_load_balancing or tunneling_config can
// be used.", "Only one of use_per_packet_load_balancing or session_filters can be used."
func udpProxyOptions(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*udpproxyv3.UdpProxyConfig)
	if !ok {
		return
	}
	if p.GetUsePerPacketLoadBalancing() && p.GetTunnelingConfig() != nil {
		c.envoyf(c.at("tunneling_config"), udpProxySource, "Only one of use_per_packet_load_balancing or tunneling_config can be used.")
	}
	if p.GetUsePerPacketLoadBalancing() && len(p.GetSessionFilters()) > 0 {
		c.envoyf(c.at("session_filters"), udpProxySource, "Only one of use_per_packet_load_balancing or session_filters can be used.")
	}
	t := p.GetTunnelingConfig()
	if t == nil {
		return
	}
	switch path := t.GetPostPath(); {
	case path != "" && !t.GetUsePost():
		c.envoyf(c.at("tunneling_config.post_path"), udpProxySource, "Can't set a post path when POST method isn't used")
	case path != "" && !strings.HasPrefix(path, "/"):
		c.envoyf(c.at("tunneling_config.post_path"), udpProxySource, "Path must start with '/'")
	}
	if port := t.GetProxyPort(); port != nil && (port.GetValue() == 0 || port.GetValue() > 65535) {
		c.envoyf(c.at("tunneling_config.proxy_port"), udpProxySource, "Port value not in range")
	}
	if b := t.GetRetryOptions().GetBackoffOptions(); backOffInverted(b.GetBaseInterval(), b.GetMaxInterval()) {
		c.envoyf(c.at("tunneling_config.retry_options.backoff_options.max_interval"), udpProxySource,
			"max_backoff_interval must be greater or equal to base_backoff_interval")
	}
}
