package loadtime

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// The extension and slot tables are sorted slices searched by binary search (extensionOf, findSlots): an entry out
// of order or twice would be missed or shadowed without any other test noticing.
func TestExtensionTablesAreSorted(t *testing.T) {
	for name, table := range map[string][]slotMessage{"slotCategories": slotCategories, "extraSlots": extraSlots} {
		for i, s := range table {
			if i > 0 && table[i-1].message >= s.message {
				t.Errorf("%s: %s after %s: not sorted, or twice", name, s.message, table[i-1].message)
			}
			if !slices.IsSortedFunc(s.slots, func(a, b slotField) int { return strings.Compare(string(a.name), string(b.name)) }) ||
				len(slices.CompactFunc(slices.Clone(s.slots), func(a, b slotField) bool { return a.name == b.name })) != len(s.slots) {
				t.Errorf("%s: the slots of %s are not sorted by field, or one is there twice", name, s.message)
			}
		}
	}
	for i := 1; i < len(extensionsByType); i++ {
		if prev, e := extensionsByType[i-1], extensionsByType[i]; prev.configType >= e.configType {
			t.Errorf("extensionsByType: %s after %s: not sorted, or twice", e.configType, prev.configType)
		}
	}
}

// Every entry of the tables is what the lookups return, and nothing else is.
func TestExtensionLookups(t *testing.T) {
	for _, want := range extensionsByType {
		got, ok := extensionOf(want.configType)
		if !ok || got.configType != want.configType || got.name != want.name || !slices.Equal(got.categories, want.categories) {
			t.Errorf("extensionOf(%q) = %v, %t; want %v", want.configType, got, ok, want)
		}
		if extensionName(want.configType) != want.name {
			t.Errorf("extensionName(%q) = %q, want %q", want.configType, extensionName(want.configType), want.name)
		}
		for _, near := range []string{want.configType + "x", want.configType[:len(want.configType)-1]} {
			if got, ok := extensionOf(near); ok && got.configType != near {
				t.Errorf("extensionOf(%q) found %q", near, got.configType)
			}
		}
	}
	for _, typ := range []string{"", "a", "zzz", "google.protobuf.Struct"} {
		if info, ok := extensionOf(typ); ok || extensionName(typ) != "" {
			t.Errorf("extensionOf(%q) = %v, %t; want nothing", typ, info, ok)
		}
	}

	// slotsOf: the generated slots, an extra slot replacing a generated one of the same field.
	want := map[protoreflect.FullName]map[protoreflect.Name][]string{}
	for _, table := range [][]slotMessage{slotCategories, extraSlots} {
		for _, s := range table {
			if want[s.message] == nil {
				want[s.message] = map[protoreflect.Name][]string{}
			}
			for _, f := range s.slots {
				want[s.message][f.name] = f.cats
			}
		}
	}
	for msg, fields := range want {
		got := slotsOf(msg)
		if len(got) != len(fields) {
			t.Errorf("slotsOf(%s) = %d slots, want %d", msg, len(got), len(fields))
		}
		for i, f := range got {
			if i > 0 && got[i-1].name >= f.name {
				t.Errorf("slotsOf(%s): %s after %s", msg, f.name, got[i-1].name)
			}
			if cats, ok := fields[f.name]; !ok || !slices.Equal(cats, f.cats) {
				t.Errorf("slotsOf(%s): %s takes %v, want %v", msg, f.name, f.cats, cats)
			}
		}
	}
	if got := slotsOf("envoy.config.core.v3.Address"); got != nil {
		t.Errorf("slotsOf(Address) = %v, want no slots", got)
	}
}
