package validate

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHostileDocumentsAreBounded (issue 7): deep nesting, alias bombs and huge scalars are
// refused or validated within bounded time and memory, never a hang, a crash or a panic.
func TestHostileDocumentsAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
	}{
		{"100k nested YAML sequences", strings.Repeat("[", 100000) + strings.Repeat("]", 100000)},
		{"100k nested JSON objects", strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)},
		{"100k nested flow mappings in metadata", "node: {metadata: " + strings.Repeat("{a: ", 100000) + "1" + strings.Repeat("}", 100000) + "}"},
		{"alias bomb", "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
			"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
			"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nnode: {metadata: {x: [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]}}\n"},
		{"3 MB scalar", "node: {id: \"" + strings.Repeat("x", 3<<20) + "\", cluster: c}\n"},
		{"3 MB of keys", "node: {metadata: {" + strings.Repeat("k: 1, ", 500000) + "}}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Bootstrap([]byte(tc.doc))
			d := time.Since(start)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%v in %v, %d MiB allocated", err != nil, d, alloc>>20)
			if d > 20*time.Second || alloc > 2<<30 {
				t.Fatalf("unbounded: %v and %d MiB for a %d-byte document", d, alloc>>20, len(tc.doc))
			}
		})
	}
}
