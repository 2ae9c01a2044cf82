//go:build !appnet_lean

package loadtime

import (
	thriftv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/thrift_proxy/v3"
	thrifthcv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/health_checkers/thrift/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.health_checkers.thrift.v3.Thrift", thriftHealthCheck)
}

// thriftHealthCheck: the Thrift health checker sends its request with an explicit transport and protocol.
// Envoy: source/extensions/health_checkers/thrift/thrift.cc:35 [health-checks-e324346a]
// (ThriftHealthChecker::ThriftHealthChecker) — "Unsupported transport or protocol in thrift health check
// configuration: <config>".
func thriftHealthCheck(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*thrifthcv3.Thrift)
	if !ok {
		return
	}
	field := ""
	switch {
	case t.GetTransport() == thriftv3.TransportType_AUTO_TRANSPORT:
		field = "transport"
	case t.GetProtocol() == thriftv3.ProtocolType_AUTO_PROTOCOL || t.GetProtocol() == thriftv3.ProtocolType_TWITTER:
		field = "protocol"
	default:
		return
	}
	c.envoyf(c.at(field), "source/extensions/health_checkers/thrift/thrift.cc", "Unsupported transport or protocol in thrift health "+
		"check configuration: transport %s, protocol %s (the transport is FRAMED, UNFRAMED or HEADER; the protocol BINARY, "+
		"LAX_BINARY or COMPACT)", t.GetTransport(), t.GetProtocol())
}
