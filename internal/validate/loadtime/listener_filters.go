//go:build !appnet_lean

package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Listener filter rules: the filters' configs, which Envoy builds with the listener.

func init() {
	register("envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol", proxyProtocolVersions)
}

// proxyProtocolVersions: the PROXY protocol filter must accept at least one of the two versions.
// Envoy: source/extensions/filters/listener/proxy_protocol/proxy_protocol.cc:196 [listeners-ed9144c0] — "Proxy
// Protocol filter is misconfigured: all proxy protocol versions are disallowed."
func proxyProtocolVersions(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*proxyprotocolv3.ProxyProtocol)
	if !ok {
		return
	}
	var v1, v2 bool
	for _, v := range p.GetDisallowedVersions() {
		v1 = v1 || v == corev3.ProxyProtocolConfig_V1
		v2 = v2 || v == corev3.ProxyProtocolConfig_V2
	}
	if v1 && v2 {
		c.envoyf(c.at("disallowed_versions"), "source/extensions/filters/listener/proxy_protocol/proxy_protocol.cc",
			"Proxy Protocol filter is misconfigured: all proxy protocol versions are disallowed.")
	}
}
