package loadtime

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// RuleNames names the rules when asked (not at registration): it must list exactly the rules of the table that
// Run applies, each once.
func TestRuleNamesAreTheRegisteredRules(t *testing.T) {
	want := map[string]bool{}
	for _, rs := range rulesByType() {
		for _, r := range rs {
			want[FuncName(r)] = true
		}
	}
	got := RuleNames()
	if !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("RuleNames() = %d names, the rule table holds %d:\n got %v\nwant %v", len(got), len(want), got, slices.Sorted(maps.Keys(want)))
	}
	if len(got) < 100 {
		t.Errorf("RuleNames() = %d names; the table should hold well over a hundred rules", len(got))
	}
}

// Run applies a type's rules in the order the init functions registered them (a later rule may rely on what an
// earlier one reported, and reports come out in that order): the table built from the registrations keeps it.
func TestRulesByTypeKeepRegistrationOrder(t *testing.T) {
	want := map[protoreflect.FullName][]uintptr{}
	for _, r := range registrations {
		want[r.name] = append(want[r.name], reflect.ValueOf(r.rule).Pointer())
	}
	got := rulesByType()
	if len(got) != len(want) {
		t.Errorf("rulesByType() has %d message types, the registrations %d", len(got), len(want))
	}
	for name, rs := range want {
		var ptrs []uintptr
		for _, r := range got[name] {
			ptrs = append(ptrs, reflect.ValueOf(r).Pointer())
		}
		if !slices.Equal(ptrs, rs) {
			t.Errorf("rulesByType()[%s] = %d rules %v, registered in the order %v", name, len(ptrs), ptrs, rs)
		}
	}
}
