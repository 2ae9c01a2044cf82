package loadtime

import (
	"maps"
	"slices"
	"testing"
)

// RuleNames names the rules when asked (not at registration): it must list exactly the rules of the table that
// Run applies, each once.
func TestRuleNamesAreTheRegisteredRules(t *testing.T) {
	want := map[string]bool{}
	for _, rs := range rules {
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
