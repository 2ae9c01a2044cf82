package loadtime

import (
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.config.overload.v3.OverloadManager", overloadActionNames)
}

// wellKnownOverloadActions are the actions Envoy knows (OverloadActionNameValues::WellKnownActions in
// envoy/server/overload/overload_manager.h): the same seven in Envoy 1.35 to 1.38-dev, whose source refers to no
// other, and the seven the v1.40 API documents.
var wellKnownOverloadActions = staticSet[string]{
	"envoy.overload_actions.stop_accepting_requests",
	"envoy.overload_actions.disable_http_keepalive",
	"envoy.overload_actions.stop_accepting_connections",
	"envoy.overload_actions.reject_incoming_connections",
	"envoy.overload_actions.shrink_heap",
	"envoy.overload_actions.reduce_timeouts",
	"envoy.overload_actions.reset_high_memory_stream",
}

// overloadActionNames: an action is one Envoy knows; there are no custom actions.
// Envoy: source/server/overload_manager_impl.cc:489 [overload-c16041e3] (OverloadManagerImpl) — "Unknown Overload
// Manager Action <name>".
func overloadActionNames(c *Context, m protoreflect.Message) {
	om, ok := m.Interface().(*overloadv3.OverloadManager)
	if !ok {
		return
	}
	for i, a := range om.GetActions() {
		if !wellKnownOverloadActions.has(a.GetName()) {
			c.envoyf(index(c.at("actions"), i)+".name", "source/server/overload_manager_impl.cc",
				"Unknown Overload Manager Action %s", a.GetName())
			return // Envoy stops at the first
		}
	}
}
