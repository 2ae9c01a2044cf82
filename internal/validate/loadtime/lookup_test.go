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

// A staticTable or staticSet answers for the first entry of a key: a key written twice would shadow the second
// silently, where a map literal would not compile.
func TestStaticTablesHaveUniqueKeys(t *testing.T) {
	keys := map[string][]string{
		"filterCommands": tableKeys(filterCommands), "directionalTypes": tableKeys(directionalTypes),
		"firstMatchSlots": tableKeys(firstMatchSlots), "laterCategories": tableKeys(laterCategories),
		"alpnSockets": tableKeys(alpnSockets), "ownLbPolicyCheck": tableKeys(ownLbPolicyCheck),
		"clusterTypeProvidesLB": tableKeys(clusterTypeProvidesLB), "nonStringInputs": tableKeys(nonStringInputs),
		"nonStringMatchers": tableKeys(nonStringMatchers), "requiredUnvalidated": tableKeys(requiredUnvalidated),
		"secretKinds": tableKeys(secretKinds), "bsslSigalgNames": tableKeys(bsslSigalgNames),
		"bsslSigalgPairs":   tableKeys(bsslSigalgPairs),
		"extensionCommands": extensionCommands, "knownFormatterTypes": knownFormatterTypes,
		"perRouteUnsupported": perRouteUnsupported, "terminalFilters": terminalFilters,
		"nonTerminalFilters": nonTerminalFilters, "protocolOptionsFilters": protocolOptionsFilters,
		"proactiveResources": proactiveResources, "wellKnownOverloadActions": wellKnownOverloadActions,
		"clusterFactoryNames": clusterFactoryNames, "certValidatorNames": certValidatorNames,
		"protocolOptionNames": protocolOptionNames, "bsslCipherAliases": bsslCipherAliases, "bsslCurves": bsslCurves,
	}
	for _, e := range filterCommands {
		keys["filterCommands "+string(e.key)] = e.value
	}
	for _, e := range laterCategories {
		keys["laterCategories "+e.key] = tableKeys(e.value)
	}
	for name, ks := range keys {
		seen := map[string]bool{}
		for _, k := range ks {
			if seen[k] {
				t.Errorf("%s: %q twice", name, k)
			}
			seen[k] = true
		}
		if len(ks) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	if v, ok := secretKinds.get("generic_secret"); !ok || v != "GenericSecret" || secretKinds.value("nope") != "" {
		t.Errorf("secretKinds.get(generic_secret) = %q, %t; value(nope) = %q", v, ok, secretKinds.value("nope"))
	}
	if !clusterFactoryNames.has("envoy.cluster.eds") || clusterFactoryNames.has("envoy.cluster") {
		t.Error("clusterFactoryNames.has answers wrong")
	}
}

func tableKeys[K ~string, V any](t staticTable[K, V]) []string {
	var keys []string
	for _, e := range t {
		keys = append(keys, string(e.key))
	}
	return keys
}
