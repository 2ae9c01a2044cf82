package supervise

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// panickyWriter panics on its first Write, then records lines.
type panickyWriter struct {
	mu       sync.Mutex
	panicked bool
	lines    []string
}

func (w *panickyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.panicked {
		w.panicked = true
		panic("writer bug")
	}
	w.lines = append(w.lines, string(p))
	return len(p), nil
}

// Issue 7: a panic while copying Envoy's output is logged once, with its stack, and copying
// goes on, so Envoy never blocks on a pipe nobody reads.
func TestForwarderSurvivesAPanic(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SafeBuffer
	f := &forwarders{log: logging.New(&logs, "info")}
	dst := &panickyWriter{}
	f.start(r, dst, "stdout")
	for i := range 2000 { // far more than a pipe holds: a stalled copy would block here
		if _, err := w.WriteString("line " + strings.Repeat("x", 100) + " " + string(rune('a'+i%26)) + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	f.finish(10 * time.Second)
	dst.mu.Lock()
	n := len(dst.lines)
	dst.mu.Unlock()
	if n != 1999 {
		t.Errorf("%d lines copied after the panic, want 1999 (all but the one being written)", n)
	}
	if l := logs.String(); strings.Count(l, "Copying Envoy's stdout panicked; copying on.") != 1 || !strings.Contains(l, "forward_test.go") {
		t.Errorf("logs:\n%s", l)
	}
}
