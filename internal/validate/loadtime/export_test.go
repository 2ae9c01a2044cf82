package loadtime

import "google.golang.org/protobuf/reflect/protoreflect"

// Exported for the external tests, which link every API package through package validate.

// Slots returns every message with extension slots, generated or extra, with its slots as the rules look them up.
func Slots() map[protoreflect.FullName]map[protoreflect.Name][]string {
	all := map[protoreflect.FullName]map[protoreflect.Name][]string{}
	for _, table := range [][]slotMessage{slotCategories, extraSlots} {
		for _, s := range table {
			all[s.message] = map[protoreflect.Name][]string{}
			for _, f := range slotsOf(s.message) {
				all[s.message][f.name] = f.cats
			}
		}
	}
	return all
}

// ExtensionsByType returns the extension table: config type → extension name.
func ExtensionsByType() map[string]string {
	all := make(map[string]string, len(extensionsByType))
	for _, info := range extensionsByType {
		all[info.configType] = info.name
	}
	return all
}
