package loadtime

import (
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Overload manager rules: source/server/overload_manager_impl.cc.

func init() {
	register("envoy.config.overload.v3.OverloadManager", overloadNames)
}

// overloadNames: monitors and actions are named once, and triggers name configured monitors.
// Envoy: source/server/overload_manager_impl.cc — "Duplicate resource monitor <n>", "Duplicate overload action <n>",
// "Unknown trigger resource <r> for overload action <a>", "Duplicate trigger resource for overload action <a>",
// "Overload action \"<a>\" requires buffer_factory_config."
func overloadNames(c *Context, m protoreflect.Message) {
	om, ok := m.Interface().(*overloadv3.OverloadManager)
	if !ok {
		return
	}
	const src = "source/server/overload_manager_impl.cc"
	monitors := map[string]bool{}
	for i, rm := range om.GetResourceMonitors() {
		if monitors[rm.GetName()] {
			c.envoyf(index(c.at("resource_monitors"), i)+".name", src, "Duplicate resource monitor %s", rm.GetName())
		}
		monitors[rm.GetName()] = true
	}
	actions := map[string]bool{}
	for i, a := range om.GetActions() {
		p := func() string { return index(c.at("actions"), i) }
		if actions[a.GetName()] {
			c.envoyf(p()+".name", src, "Duplicate overload action %s", a.GetName())
		}
		actions[a.GetName()] = true
		if a.GetName() == "envoy.overload_actions.reset_high_memory_stream" && om.GetBufferFactoryConfig() == nil {
			c.envoyf(p()+".name", src, "Overload action \"%s\" requires buffer_factory_config.", a.GetName())
		}
		triggers := map[string]bool{}
		for j, t := range a.GetTriggers() {
			tp := func() string { return index(p()+".triggers", j) + ".name" }
			if !monitors[t.GetName()] {
				c.envoyf(tp(), src, "Unknown trigger resource %s for overload action %s", t.GetName(), a.GetName())
			}
			if triggers[t.GetName()] {
				c.envoyf(tp(), src, "Duplicate trigger resource for overload action %s", a.GetName())
			}
			triggers[t.GetName()] = true
		}
	}
}
