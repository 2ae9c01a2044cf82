package loadtime

import (
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Fields Envoy reads with PROTOBUF_GET_*_REQUIRED (source/common/protobuf/utility.h) that the API does not mark
// required: the macro throws when the field is unset. Of the 33 call sites in 1.38-dev, the others read fields
// that protoc-gen-validate requires (health check timeouts and thresholds, token bucket fill intervals, back-off
// base intervals, HttpUri timeouts, keepalive timeouts, Redis op_timeout, ZooKeeper thresholds), fields checked
// with has_ first (route timeouts, retry and TCP/UDP proxy back-offs, a fault's fixed delay within its oneof case),
// or OAuth2 token responses (traffic).

// requirement is a field Envoy's constructor of a message requires, and the code that reads it.
type requirement struct {
	field  protoreflect.Name
	reader string
}

// requiredUnvalidated maps a message to the field its Envoy constructor requires, with the code that reads it.
var requiredUnvalidated = staticTable[protoreflect.FullName, requirement]{
	// Route tables and the Dubbo proxy's routes share this message.
	{"envoy.config.route.v3.WeightedCluster.ClusterWeight", requirement{"weight", "source/common/router/weighted_cluster_specifier.cc:34"}},
	{"envoy.extensions.filters.network.thrift_proxy.v3.WeightedCluster.ClusterWeight", requirement{"weight",
		"source/extensions/filters/network/thrift_proxy/router/router_impl.cc:126"}},
	{"envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit", requirement{"max_connections",
		"source/extensions/filters/network/connection_limit/connection_limit.cc:17"}},
}

func init() {
	for _, r := range requiredUnvalidated {
		register(r.key, requiredField)
	}
}

// requiredField: the field Envoy reads as required is set.
// Envoy: source/common/protobuf/utility.cc:156 [core-78029cad] (ProtoExceptionUtil::throwMissingFieldException) —
// "Field '<field>' is missing in: <message>".
func requiredField(c *Context, m protoreflect.Message) {
	req, ok := requiredUnvalidated.get(m.Descriptor().FullName())
	if !ok {
		return
	}
	if fd := m.Descriptor().Fields().ByName(req.field); fd != nil && !m.Has(fd) {
		c.envoyf(c.at(string(req.field)), "source/common/protobuf/utility.cc", "Field '%s' is missing in: %s (read as "+
			"required by %s)", req.field, m.Descriptor().Name(), req.reader)
	}
}
