package loadtime

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The types a QUIC listener's chains need: the QUIC transport socket and, last, the HTTP connection manager.
const (
	quicDownstream = "envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport"
	hcmTypeURL     = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)

func init() {
	register("envoy.config.listener.v3.Listener", quicFilterChains)
}

// quicFilterChains: each chain of a QUIC listener has the QUIC transport socket and ends with the HTTP connection
// manager, named by its exact type URL (a TypedStruct or another type URL prefix does not do).
// Envoy: source/common/listener_manager/listener_manager_impl.cc:1181 [listeners-02f1d41d], :1194
// [listeners-1adc49a1] — "error building filter chain for quic listener: wrong transport socket config specified
// for quic transport socket: <socket>. Use QuicDownstreamTransport instead.", "error building network filter chain
// for quic listener: requires http_connection_manager filter to be last in the chain."
func quicFilterChains(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*listenerv3.Listener)
	if !ok || !isQUIC(l) {
		return
	}
	check := func(path func() string, fc *listenerv3.FilterChain) {
		if ts := fc.GetTransportSocket().GetTypedConfig(); ts != nil {
			if typ := extensionType(ts.ProtoReflect()); typ != quicDownstream {
				c.envoyf(path()+".transport_socket", listenerManagerSource, "error building filter chain for quic listener: "+
					"wrong transport socket config specified for quic transport socket: %s. Use QuicDownstreamTransport instead.", typ)
			}
		}
		filters := fc.GetFilters()
		if len(filters) == 0 || filters[len(filters)-1].GetTypedConfig().GetTypeUrl() != hcmTypeURL {
			c.envoyf(path()+".filters", listenerManagerSource, "error building network filter chain for quic listener: "+
				"requires http_connection_manager filter to be last in the chain.")
		}
	}
	for i, fc := range l.GetFilterChains() {
		check(func() string { return index(c.at("filter_chains"), i) }, fc)
	}
	if fc := l.GetDefaultFilterChain(); fc != nil {
		check(func() string { return c.at("default_filter_chain") }, fc)
	}
}
