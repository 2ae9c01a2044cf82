package startup

import (
	"runtime/debug"
	"testing"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
)

func TestDoneRestoresCollection(t *testing.T) {
	if !paused {
		t.Skip("GOGC or GOMEMLIMIT set: the pause is disabled")
	}
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("GC percent during start-up = %d, want -1 (paused)", got)
	}
	Done()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GC percent after Done = %d, want 100", got)
	}
	Done() // idempotent
}
