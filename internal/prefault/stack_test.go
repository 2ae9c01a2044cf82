package prefault

import (
	"testing"
	"unsafe"
)

// TestReserveStackGrowsOnce checks that after reserveStack a goroutine can use most of the
// reserve without its stack being copied again: a local's address stays put. Without the
// reservation the same use moves it, so the test can fail.
func TestReserveStackGrowsOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reserve   bool
		wantMoved bool
	}{
		{"reserved", true, false},
		{"not reserved", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			moved := make(chan bool)
			go func() {
				if tc.reserve {
					reserveStack()
				}
				var marker byte
				before := uintptr(unsafe.Pointer(&marker))
				useStack(stackReserve * 3 / 4 / frameBytes) // ~30 KiB below this frame
				moved <- uintptr(unsafe.Pointer(&marker)) != before
			}()
			if got := <-moved; got != tc.wantMoved {
				t.Errorf("stack copied while using 3/4 of the reserve: %v, want %v", got, tc.wantMoved)
			}
		})
	}
}

const frameBytes = 1 << 10

// useStack takes depth frames of about frameBytes each.
//
//go:noinline
func useStack(depth int) byte {
	var frame [frameBytes]byte
	frame[depth%frameBytes] = byte(depth)
	if depth > 0 {
		frame[0] += useStack(depth - 1)
	}
	return frame[0]
}
