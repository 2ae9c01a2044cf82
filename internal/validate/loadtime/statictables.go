package loadtime

import "slices"

// The package's small fixed lookups are kept as static data: a composite literal of these types is laid out in the
// binary by the compiler, where a map literal is built by code at every start of the agent, before Envoy's (issue
// 19). They are searched linearly, which for a few dozen entries costs about what a map lookup does.

// staticSet is a fixed set of names.
type staticSet[K ~string] []K

func (s staticSet[K]) has(k K) bool { return slices.Contains(s, k) }

// staticEntry is one entry of a staticTable.
type staticEntry[K ~string, V any] struct {
	key   K
	value V
}

// staticTable is a fixed table of values by name; a name appears once.
type staticTable[K ~string, V any] []staticEntry[K, V]

// get returns the value of key, and whether the table has it.
func (t staticTable[K, V]) get(key K) (V, bool) {
	for _, e := range t {
		if e.key == key {
			return e.value, true
		}
	}
	var zero V
	return zero, false
}

// value returns the value of key, or V's zero value when the table lacks it (as indexing a map does).
func (t staticTable[K, V]) value(key K) V {
	v, _ := t.get(key)
	return v
}
