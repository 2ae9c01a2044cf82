package loadtime

import (
	"strings"

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
			if !monitors[t.GetName()] && !proactiveResources.has(t.GetName()) {
				c.envoyf(tp(), src, "Unknown trigger resource %s for overload action %s", t.GetName(), a.GetName())
			}
			if triggers[t.GetName()] {
				c.envoyf(tp(), src, "Duplicate trigger resource for overload action %s", a.GetName())
			}
			triggers[t.GetName()] = true
			c.overloadTrigger(tp, t)
		}
		c.overloadActionConfig(p, a)
	}
	c.loadShedPoints(om, monitors)
}

// proactiveResources are resources Envoy tracks without a monitor in resource_monitors; an action's trigger may
// name them (OverloadProactiveResources, named differently across releases).
var proactiveResources = staticSet[string]{"envoy.resource_monitors.global_downstream_max_connections",
	"envoy.proactive_resource_monitors.global_downstream_max_connections"}

// overloadTrigger: a scaled trigger's scaling threshold is below its saturation (a trigger with neither threshold
// nor scaled is PGV's).
// Envoy: source/server/overload_manager_impl.cc:52 [overload-46b95677] (ScaledTriggerImpl::create) —
// "scaling_threshold must be less than saturation_threshold".
func (c *Context) overloadTrigger(name func() string, t *overloadv3.Trigger) {
	const src = "source/server/overload_manager_impl.cc"
	path := strings.TrimSuffix(name(), ".name")
	if s := t.GetScaled(); s != nil && s.GetScalingThreshold() >= s.GetSaturationThreshold() {
		c.envoyf(path+".scaled.scaling_threshold", src, "scaling_threshold must be less than saturation_threshold")
	}
}

// overloadActionConfig: only reduce_timeouts takes a typed_config (its timers, each once); reset streams take
// none either.
// Envoy: source/server/overload_manager_impl.cc:175 [overload-35f75705] (parseTimerMinimums), :520
// [overload-0aca8b79] — "Found duplicate entry for timer type <t>", "Overload action \"<a>\" has an unexpected
// value for the typed_config field".
func (c *Context) overloadActionConfig(p func() string, a *overloadv3.OverloadAction) {
	const src = "source/server/overload_manager_impl.cc"
	switch a.GetName() {
	case "envoy.overload_actions.reduce_timeouts":
		cfg := &overloadv3.ScaleTimersOverloadActionConfig{}
		if a.GetTypedConfig() == nil || a.GetTypedConfig().UnmarshalTo(cfg) != nil {
			return
		}
		seen := map[overloadv3.ScaleTimersOverloadActionConfig_TimerType]bool{}
		for i, f := range cfg.GetTimerScaleFactors() {
			if seen[f.GetTimer()] {
				c.envoyf(index(p()+".typed_config.timer_scale_factors", i)+".timer", src, "Found duplicate entry for timer type %s", f.GetTimer())
			}
			seen[f.GetTimer()] = true
		}
	case "envoy.overload_actions.reset_high_memory_stream":
	default:
		if a.GetTypedConfig() != nil {
			c.envoyf(p()+".typed_config", src, "Overload action \"%s\" has an unexpected value for the typed_config field", a.GetName())
		}
	}
}

// loadShedPoints: each point is named once, with triggers on configured monitors, each once.
// Envoy: source/server/overload_manager_impl.cc:545 [overload-ae53ac44], :558 [overload-60797344], :364
// [overload-0e0d833b] — "Unknown trigger resource <r> for loadshed point <p>", "Duplicate loadshed point <p>",
// "Duplicate trigger resource for LoadShedPoint <p>".
func (c *Context) loadShedPoints(om *overloadv3.OverloadManager, monitors map[string]bool) {
	const src = "source/server/overload_manager_impl.cc"
	points := map[string]bool{}
	for i, pt := range om.GetLoadshedPoints() {
		p := func() string { return index(c.at("loadshed_points"), i) }
		triggers := map[string]bool{}
		for j, t := range pt.GetTriggers() {
			tp := func() string { return index(p()+".triggers", j) + ".name" }
			if !monitors[t.GetName()] {
				c.envoyf(tp(), src, "Unknown trigger resource %s for loadshed point %s", t.GetName(), pt.GetName())
			}
			if triggers[t.GetName()] {
				c.envoyf(tp(), src, "Duplicate trigger resource for LoadShedPoint %s", pt.GetName())
			}
			triggers[t.GetName()] = true
			c.overloadTrigger(tp, t)
		}
		if points[pt.GetName()] {
			c.envoyf(p()+".name", src, "Duplicate loadshed point %s", pt.GetName())
		}
		points[pt.GetName()] = true
	}
}
