package loadtime_test

import "testing"

func TestOverloadActionRules(t *testing.T) { runRules(t, casesOverloadActionRules()) }

func casesOverloadActionRules() []ruleCase {
	const heap = "{name: envoy.resource_monitors.fixed_heap, typed_config: {'@type': type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig, max_heap_size_bytes: 1000000}}"
	actions := func(names ...string) string {
		var list string
		for i, n := range names {
			if i > 0 {
				list += ", "
			}
			list += "{name: " + n + ", triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.95}}]}"
		}
		return "overload_manager: {resource_monitors: [" + heap + "], actions: [" + list + "]}\n"
	}
	return []ruleCase{
		{"overload actions", actions("envoy.overload_actions.shrink_heap", "envoy.overload_actions.stop_accepting_requests",
			"envoy.overload_actions.disable_http_keepalive", "envoy.overload_actions.stop_accepting_connections",
			"envoy.overload_actions.reject_incoming_connections"), "", ""},
		{"unknown overload action", actions("envoy.overload_actions.shrink_heap", "envoy.overload_actions.stop_accepting_request"),
			"overload_manager.actions[1].name", "Unknown Overload Manager Action envoy.overload_actions.stop_accepting_request"},
	}
}

func init() { registerCases(casesOverloadActionRules) }
