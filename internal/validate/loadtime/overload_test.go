package loadtime_test

import "testing"

func TestOverloadLoadRules(t *testing.T) { runRules(t, casesOverloadLoadRules()) }

func casesOverloadLoadRules() []ruleCase {
	const heap = "{name: envoy.resource_monitors.fixed_heap, typed_config: {'@type': type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig, max_heap_size_bytes: 1000000}}"
	om := func(body string) string {
		return "overload_manager: {resource_monitors: [" + heap + "], " + body + "}\n"
	}
	action := func(name, trigger, extra string) string {
		return om("actions: [{name: " + name + ", triggers: [{name: envoy.resource_monitors.fixed_heap, " + trigger + "}]" + extra + "}]")
	}
	const timers = "type.googleapis.com/envoy.config.overload.v3.ScaleTimersOverloadActionConfig"
	const shrink = "envoy.overload_actions.shrink_heap"
	return []ruleCase{
		{"scaled trigger", action(shrink, "scaled: {scaling_threshold: 0.8, saturation_threshold: 0.95}", ""), "", ""},
		{"scaled trigger upside down", action(shrink, "scaled: {scaling_threshold: 0.95, saturation_threshold: 0.95}", ""),
			"overload_manager.actions[0].triggers[0].scaled.scaling_threshold", "scaling_threshold must be less than saturation_threshold"},
		{"proactive trigger", "overload_manager: {resource_monitors: [" + heap + "], actions: [{name: envoy.overload_actions.stop_accepting_requests, triggers: [{name: envoy.resource_monitors.global_downstream_max_connections, threshold: {value: 0.9}}]}]}\n", "", ""},
		{"reduce timeouts", action("envoy.overload_actions.reduce_timeouts", "threshold: {value: 0.9}",
			", typed_config: {'@type': "+timers+", timer_scale_factors: [{timer: HTTP_DOWNSTREAM_CONNECTION_IDLE, min_timeout: 2s}, {timer: HTTP_DOWNSTREAM_STREAM_IDLE, min_scale: {value: 10}}]}"), "", ""},
		{"reduce timeouts timer twice", action("envoy.overload_actions.reduce_timeouts", "threshold: {value: 0.9}",
			", typed_config: {'@type': "+timers+", timer_scale_factors: [{timer: HTTP_DOWNSTREAM_CONNECTION_IDLE, min_timeout: 2s}, {timer: HTTP_DOWNSTREAM_CONNECTION_IDLE, min_timeout: 3s}]}"),
			"overload_manager.actions[0].typed_config.timer_scale_factors[1].timer", "Found duplicate entry for timer type HTTP_DOWNSTREAM_CONNECTION_IDLE"},
		{"action with a typed config", action(shrink, "threshold: {value: 0.9}", ", typed_config: {'@type': "+timers+"}"),
			"overload_manager.actions[0].typed_config", "has an unexpected value for the typed_config field"},
		{"loadshed point", om("loadshed_points: [{name: envoy.load_shed_points.tcp_listener_accept, triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.95}}]}]"), "", ""},
		{"loadshed point on an unknown resource", om("loadshed_points: [{name: envoy.load_shed_points.tcp_listener_accept, triggers: [{name: envoy.resource_monitors.global_downstream_max_connections, threshold: {value: 0.95}}]}]"),
			"overload_manager.loadshed_points[0].triggers[0].name", "Unknown trigger resource envoy.resource_monitors.global_downstream_max_connections for loadshed point"},
		{"loadshed point twice", om("loadshed_points: [{name: p, triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.95}}]}, {name: p, triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.9}}]}]"),
			"overload_manager.loadshed_points[1].name", "Duplicate loadshed point p"},
		{"loadshed point trigger twice", om("loadshed_points: [{name: p, triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.95}}, {name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.9}}]}]"),
			"overload_manager.loadshed_points[0].triggers[1].name", "Duplicate trigger resource for LoadShedPoint p"},
		{"loadshed point scaled trigger upside down", om("loadshed_points: [{name: p, triggers: [{name: envoy.resource_monitors.fixed_heap, scaled: {scaling_threshold: 0.9, saturation_threshold: 0.5}}]}]"),
			"overload_manager.loadshed_points[0].triggers[0].scaled.scaling_threshold", "scaling_threshold must be less than saturation_threshold"},
	}
}

func init() { registerCases(casesOverloadLoadRules) }
