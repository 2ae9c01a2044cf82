package api

import (
	"runtime"
	"runtime/debug"
)

// releaseThreshold is the size of work after which the agent hands its free memory back to
// the kernel at once: a sidecar's memory limit counts what the Go runtime keeps for reuse,
// and the scavenger would return it only over minutes.
const releaseThreshold = 16 << 20

// releaseAfter returns free memory to the kernel after a scrape or snapshot of n bytes, when
// n is large enough to matter.
func releaseAfter(n int) {
	if n >= releaseThreshold {
		debug.FreeOSMemory()
	}
}

// collectAfter runs a collection between two memory-heavy steps of n bytes, when n is large
// enough to matter: the garbage of the first would otherwise stand beside the second's
// output until the pacer gets to it.
func collectAfter(n int) {
	if n >= releaseThreshold {
		runtime.GC()
	}
}
