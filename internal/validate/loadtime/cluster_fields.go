package loadtime

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// More cluster rules: the cluster factory (source/common/upstream/cluster_factory_impl.cc) and the transport
// socket matcher (source/common/upstream/transport_socket_match_impl.cc), which Envoy runs when it creates a
// static cluster.

// clusterHostnameHashing: only STRICT_DNS clusters know the host names to hash on.
// Envoy: source/common/upstream/cluster_factory_impl.cc:72 [clusters-44da4e6f] (ClusterFactoryImplBase::create) —
// "Cannot use hostname for consistent hashing loadbalancing for cluster of type: '<name>'" (the factory's name:
// envoy.cluster.static for STATIC...; empty for a cluster_type found by its config type).
func clusterHostnameHashing(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || !cl.GetCommonLbConfig().GetConsistentHashingLbConfig().GetUseHostnameForHashing() ||
		cl.GetType() == clusterv3.Cluster_STRICT_DNS && cl.GetClusterType() == nil {
		return
	}
	c.envoyf(c.at("common_lb_config.consistent_hashing_lb_config.use_hostname_for_hashing"), "source/common/upstream/cluster_factory_impl.cc",
		"Cannot use hostname for consistent hashing loadbalancing for cluster of type: '%s' (only STRICT_DNS clusters hash on host names)",
		clusterFactoryName(cl))
}

// clusterFactoryName is the name Envoy's cluster factory lookup uses for a cluster (empty when a cluster_type is
// found by the type of its typed_config).
func clusterFactoryName(cl *clusterv3.Cluster) string {
	if ct := cl.GetClusterType(); ct != nil {
		if typ := extensionType(ct.GetTypedConfig().ProtoReflect()); typ != "" && typ != "google.protobuf.Struct" {
			return ""
		}
		return ct.GetName()
	}
	switch cl.GetType() {
	case clusterv3.Cluster_STRICT_DNS:
		return "envoy.cluster.strict_dns"
	case clusterv3.Cluster_LOGICAL_DNS:
		return "envoy.cluster.logical_dns"
	case clusterv3.Cluster_ORIGINAL_DST:
		return "envoy.cluster.original_dst"
	case clusterv3.Cluster_EDS:
		return "envoy.cluster.eds"
	}
	return "envoy.cluster.static"
}

// clusterHealthChecks: a cluster runs at most one health checker.
// Envoy: source/common/upstream/cluster_factory_impl.cc:136 [clusters-849ecad6] — "Multiple health checks not
// supported".
func clusterHealthChecks(c *Context, m protoreflect.Message) {
	if cl, ok := m.Interface().(*clusterv3.Cluster); ok && len(cl.GetHealthChecks()) > 1 {
		c.envoyf(index(c.at("health_checks"), 1), "source/common/upstream/cluster_factory_impl.cc",
			"Multiple health checks not supported (a cluster takes one health check)")
	}
}

// clusterSocketMatchNames: with a transport_socket_matcher, the matcher's actions name the transport sockets of
// transport_socket_matches, so the names are unique (the API requires them to be non-empty).
// Envoy: source/common/upstream/transport_socket_match_impl.cc:208 [clusters-65f767f5]
// (setupTransportSocketMatcher) — "Duplicate transport socket name '<n>' found in transport_socket_matches".
func clusterSocketMatchNames(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || cl.GetTransportSocketMatcher() == nil || len(cl.GetTransportSocketMatches()) < 2 {
		return
	}
	seen := make(map[string]bool, len(cl.GetTransportSocketMatches()))
	for i, tm := range cl.GetTransportSocketMatches() {
		if seen[tm.GetName()] {
			c.envoyf(index(c.at("transport_socket_matches"), i)+".name", "source/common/upstream/transport_socket_match_impl.cc",
				"Duplicate transport socket name '%s' found in transport_socket_matches", tm.GetName())
		}
		seen[tm.GetName()] = true
	}
}

// Transport sockets that pass ALPN through to the socket they wrap (source/extensions/transport_sockets/common/
// passthrough.h) have a transport_socket field; the TLS and QUIC sockets negotiate ALPN; raw_buffer does not.
var alpnSockets = staticTable[string, bool]{
	{"envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", true},
	{"envoy.extensions.transport_sockets.quic.v3.QuicUpstreamTransport", true},
	{"envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer", false},
}

// withoutALPN reports a transport socket that certainly cannot negotiate ALPN: none (raw_buffer), raw_buffer, or a
// pass-through socket around one. A socket this cannot tell is assumed to negotiate it.
func withoutALPN(ts *corev3.TransportSocket, depth int) bool {
	if ts == nil {
		return true
	}
	typ := extensionType(ts.GetTypedConfig().ProtoReflect())
	if supports, known := alpnSockets.get(typ); known {
		return !supports
	}
	if depth > 4 || ts.GetTypedConfig() == nil || typ != typeName(ts.GetTypedConfig().GetTypeUrl()) {
		return false // a TypedStruct or a deep nesting: do not guess
	}
	msg, err := anypb.UnmarshalNew(ts.GetTypedConfig(), proto.UnmarshalOptions{})
	if err != nil {
		return false
	}
	fd := msg.ProtoReflect().Descriptor().Fields().ByName("transport_socket")
	if fd == nil || fd.Message() == nil || fd.Message().FullName() != "envoy.config.core.v3.TransportSocket" {
		return false
	}
	inner, _ := msg.ProtoReflect().Get(fd).Message().Interface().(*corev3.TransportSocket)
	if !msg.ProtoReflect().Has(fd) {
		inner = nil
	}
	return withoutALPN(inner, depth+1)
}

// clusterALPN: auto_config picks HTTP/1.1 or HTTP/2 by ALPN, which needs a transport socket that negotiates it, for
// the cluster's socket and for every socket of transport_socket_matches (unless the runtime key
// config.do_not_validate_alpn_support is above 0).
// Envoy: source/common/upstream/upstream_impl.cc:1592 [clusters-757e1498] — "ALPN configured for cluster <c> which
// has a non-ALPN transport socket: <config>"; :1599 [clusters-1a13b737] — "ALPN configured for cluster <c> which has
// a non-ALPN transport socket matcher: <config>".
func clusterALPN(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || c.httpOptions(cl).GetAutoConfig() == nil {
		return
	}
	const src = "source/common/upstream/upstream_impl.cc"
	if withoutALPN(cl.GetTransportSocket(), 0) {
		c.envoyf(c.at("typed_extension_protocol_options"), src,
			"ALPN configured for cluster %s which has a non-ALPN transport socket (raw_buffer): auto_config needs TLS", cl.GetName())
		return
	}
	if n, _ := c.runtimeInteger("config.do_not_validate_alpn_support"); n > 0 {
		return
	}
	for i, tm := range cl.GetTransportSocketMatches() {
		if tm.GetTransportSocket() != nil && withoutALPN(tm.GetTransportSocket(), 0) {
			c.envoyf(index(c.at("transport_socket_matches"), i)+".transport_socket", src,
				"ALPN configured for cluster %s which has a non-ALPN transport socket matcher: transport socket '%s' is raw_buffer, "+
					"and auto_config needs TLS on every socket", cl.GetName(), tm.GetName())
		}
	}
}
