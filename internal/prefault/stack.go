package prefault

import "os"

// stackReserve is the stack a start-up's main goroutine grows to: 64 KiB for a render or run of
// either example environment (counted with a uprobe on runtime.copystack; docs/DESIGN.md).
// reserveStack's frame is sized so that one growth reaches it.
const stackReserve = 40 << 10

// reserveStack grows the calling goroutine's stack once, to the size the start-up reaches anyway,
// while the stack is still shallow. Go starts a goroutine on a small stack and doubles it when a
// call does not fit: each doubling copies the stack and adjusts every frame on it, which needs each
// function's stack maps — cold pages of the executable's tables at start-up. Grown from package
// initialisation (a few frames), the copy is cheap; grown later, in the middle of the Envoy API's
// registrations or a decode (dozens of frames), four doublings cost ~5% of the main thread's time.
// The collector is paused for the start-up (internal/startup), so nothing shrinks the stack again
// before the bootstrap is written. The result is returned only so that the frame is not optimised
// away.
//
//go:noinline
func reserveStack() byte {
	var frame [stackReserve]byte
	frame[len(frame)-1] = byte(len(os.Args))
	return frame[len(frame)-1-len(os.Args)%2]
}
