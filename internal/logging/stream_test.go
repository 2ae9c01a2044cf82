package logging

import (
	"strings"
	"sync"
	"syscall"
	"testing"
)

// flakyWriter fails while broken is set.
type flakyWriter struct {
	mu     sync.Mutex
	broken bool
	b      strings.Builder
}

func (f *flakyWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return 0, syscall.EPIPE
	}
	return f.b.Write(p)
}

func (f *flakyWriter) set(broken bool) { f.mu.Lock(); f.broken = broken; f.mu.Unlock() }

// Issue 16, item 2: a standard stream whose reader went away drops and counts lines, reports
// that once on the other stream, never fails its writer, and reports the loss when it works
// again.
func TestStreamCountsAndReportsOnce(t *testing.T) {
	var out, errs flakyWriter
	so, se := NewStreams(&out, &errs)
	out.set(true)
	for _, line := range []string{"a\n", "b\nc\n", "d"} {
		if n, err := so.Write([]byte(line)); err != nil || n != len(line) {
			t.Fatalf("Write(%q) = %d, %v; want success", line, n, err)
		}
	}
	if so.Lost() != 4 || se.Lost() != 0 {
		t.Errorf("lost stdout %d stderr %d, want 4 and 0", so.Lost(), se.Lost())
	}
	if got := errs.b.String(); strings.Count(got, "cannot write to stdout") != 1 || !strings.Contains(got, syscall.EPIPE.Error()) {
		t.Errorf("stderr = %q, want one report naming the error", got)
	}
	out.set(false)
	_, _ = so.Write([]byte("e\n"))
	if got := out.b.String(); got != "appnet-agent: stdout can be written again; 4 lines were lost meanwhile\ne\n" {
		t.Errorf("stdout = %q", got)
	}
	if !strings.Contains(errs.b.String(), "4 lines were lost") || so.Lost() != 4 {
		t.Errorf("stderr = %q, lost %d", errs.b.String(), so.Lost())
	}
}
