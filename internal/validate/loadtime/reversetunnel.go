package loadtime

import (
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Reverse connection addresses: source/extensions/bootstrap/reverse_tunnel/downstream_socket_interface/
// reverse_connection_resolver.cc, the resolver Envoy calls for a listener address whose resolver_name is
// envoy.resolvers.reverse_connection when it builds the listener at load.

const reverseResolverSource = "source/extensions/bootstrap/reverse_tunnel/downstream_socket_interface/reverse_connection_resolver.cc"

func init() {
	register("envoy.config.core.v3.SocketAddress", reverseConnectionAddress)
}

// reverseConnectionAddress: "rc://<node>:<cluster>:<tenant>@<remote cluster>:<count>" at port 0.
// Envoy: reverse_connection_resolver.cc:15 [bootstrap-9c9a0c9f], :22 [bootstrap-fc997e5d] (resolve), :52
// [bootstrap-b77e07ae], :60 [bootstrap-86bf5c72], :66 [bootstrap-a1d7e9fe], :69 [bootstrap-615c9130], :75
// [bootstrap-748720df], :81 [bootstrap-0dd3a7e9] (extractReverseConnectionConfig).
func reverseConnectionAddress(c *Context, m protoreflect.Message) {
	sa, ok := m.Interface().(*corev3.SocketAddress)
	if !ok || sa.GetResolverName() != "envoy.resolvers.reverse_connection" || c.Ancestor("envoy.config.listener.v3.Listener") == nil {
		return
	}
	if msg := reverseAddressProblem(sa.GetAddress(), sa.GetPortValue()); msg != "" {
		c.envoyf(c.at("address"), reverseResolverSource, "%s", msg)
	}
}

func reverseAddressProblem(addr string, port uint32) string {
	const format = "Expected: rc://src_node_id:src_cluster_id:src_tenant_id@cluster_name:count"
	rest, ok := strings.CutPrefix(addr, "rc://")
	switch {
	case !ok:
		return "Address must start with 'rc://' for reverse connection resolver. Expected format: rc://src_node_id:src_cluster_id:src_tenant_id@cluster_name:count"
	case port != 0:
		return "Only port 0 is supported for reverse connections. Got port: " + strconv.FormatUint(uint64(port), 10)
	}
	parts := strings.Split(rest, "@")
	if len(parts) != 2 {
		return "Invalid reverse connection address format. " + format
	}
	src := strings.Split(parts[0], ":")
	switch {
	case len(src) != 3:
		return "Invalid source info format. Expected: src_node_id:src_cluster_id:src_tenant_id"
	case src[0] == "":
		return "Source node ID cannot be empty"
	case src[1] == "":
		return "Source cluster ID cannot be empty"
	}
	cl := strings.Split(parts[1], ":")
	if len(cl) != 2 {
		return "Invalid cluster config format: " + parts[1] + ". Expected: cluster_name:count"
	}
	if !simpleAtoiUint32(cl[1]) {
		return "Invalid connection count: " + cl[1]
	}
	return ""
}

// simpleAtoiUint32 mirrors absl::SimpleAtoi into a uint32: optional surrounding whitespace and '+' sign.
func simpleAtoiUint32(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}
