//go:build !appnet_lean

package loadtime

import (
	internalupstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/internal_upstream/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Transport socket extensions other than TLS, created with the cluster or listener that uses them.

func init() {
	register("envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport", internalUpstreamMetadata)
}

// internalUpstreamMetadata: the internal upstream socket passes on host or cluster metadata.
// Envoy: source/extensions/transport_sockets/internal_upstream/config.cc:66 [tls-3b0b485d] (Config::Config) — "metadata
// type is not supported: <kind>".
func internalUpstreamMetadata(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*internalupstreamv3.InternalUpstreamTransport)
	if !ok {
		return
	}
	for i, md := range t.GetPassthroughMetadata() {
		if k := md.GetKind(); k.GetRequest() != nil || k.GetRoute() != nil {
			c.envoyf(index(c.at("passthrough_metadata"), i)+".kind", "source/extensions/transport_sockets/internal_upstream/config.cc",
				"metadata type is not supported: %s (the kind is host or cluster)", map[bool]string{true: "request", false: "route"}[k.GetRequest() != nil])
		}
	}
}
