// Package startup pauses the garbage collector for the agent's start-up.
//
// Registering hundreds of Envoy API packages, parsing templates and the first protobuf decode
// allocate a few MB of long-lived data in a few milliseconds; collecting during that phase only
// burns CPU on the critical path of every container start. This package's init runs before those
// packages' (Go initialises ready packages in lexical import-path order, and this one depends on
// nothing but the runtime), so the pause also covers package initialisation. A memory limit keeps
// the heap bounded meanwhile. GOGC or GOMEMLIMIT in the environment disable the pause.
//
// Why this package is shaped as it is: docs/DESIGN.md.
package startup

import (
	"os"
	"runtime/debug"
)

// heapLimit bounds the heap while collection is paused; start-up needs about 30 MB.
const heapLimit = 256 << 20

var paused bool

func init() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(heapLimit)
	paused = true
}

// Done restores normal garbage collection; call it once the bootstrap is written.
func Done() {
	if !paused {
		return
	}
	paused = false
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1<<63 - 1)
}
