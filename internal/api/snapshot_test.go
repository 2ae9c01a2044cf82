package api

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/promtext"
)

// fakeStats serves a counter that grows by 5 per scrape (from 100) and a gauge equal to the
// scrape number, like envoy-standin's {{scrape}} templates; restart starts a new Envoy.
type fakeStats struct {
	mu      sync.Mutex
	scrapes int
	fail    bool
	block   chan struct{} // when set, a fetch waits for it
}

func (f *fakeStats) restart() { f.mu.Lock(); f.scrapes = 0; f.mu.Unlock() }

func (f *fakeStats) fetch(ctx context.Context) (*promtext.Exposition, error) {
	f.mu.Lock()
	block, fail := f.block, f.fail
	f.scrapes++
	n := f.scrapes
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	if fail {
		return nil, errors.New("envoy admin: connection refused")
	}
	body := "# TYPE envoy_appmesh_C counter\nenvoy_appmesh_C " + strconv.Itoa(100+5*n) +
		"\n# TYPE envoy_appmesh_G gauge\nenvoy_appmesh_G " + strconv.Itoa(n) + "\n"
	return promtext.FilterExtension(strings.NewReader(body))
}

func deltaText(t *testing.T, s *Snapshotter) string {
	t.Helper()
	chunks, ok := s.Delta()
	if !ok {
		return "<none>"
	}
	return string(bytes.Join(chunks, nil))
}

// TestSnapshotTimeline is the reference's snapshot timeline (scenario 28) and scenario 29, with a
// hand-driven clock: snapshots happen when the test says.
func TestSnapshotTimeline(t *testing.T) {
	fs := &fakeStats{}
	s := NewSnapshotter(fs.fetch, time.Hour, nil, nil)
	ctx := context.Background()
	if got := deltaText(t, s); got != "<none>" {
		t.Fatalf("before the first snapshot: %q", got)
	}
	if err := s.Take(ctx); err != nil { // scrape 1: C=105, G=1
		t.Fatal(err)
	}
	first := deltaText(t, s)
	if first != "\n# TYPE C counter\nC 105\n\n# TYPE G gauge\nG 1\n" {
		t.Fatalf("first delta = cumulative values, got %q", first)
	}
	if deltaText(t, s) != first {
		t.Fatal("repeated reads differ")
	}
	_ = s.Take(ctx) // scrape 2: C=110 → 5, G=2
	if got := deltaText(t, s); got != "\n# TYPE C counter\nC 5\n\n# TYPE G gauge\nG 2\n" {
		t.Fatalf("second delta %q", got)
	}
	// Envoy restarts: the old delta is still served until the next snapshot, which holds
	// the new Envoy's cumulative values, not a negative difference.
	s.Reset()
	fs.restart()
	if got := deltaText(t, s); got != "\n# TYPE C counter\nC 5\n\n# TYPE G gauge\nG 2\n" {
		t.Fatalf("after reset %q", got)
	}
	_ = s.Take(ctx) // new Envoy's scrape 1: C=105
	if got := deltaText(t, s); got != "\n# TYPE C counter\nC 105\n\n# TYPE G gauge\nG 1\n" {
		t.Fatalf("first delta after restart %q", got)
	}
	_ = s.Take(ctx)
	if got := deltaText(t, s); got != "\n# TYPE C counter\nC 5\n\n# TYPE G gauge\nG 2\n" {
		t.Fatalf("steady delta %q", got)
	}
	// A failed snapshot keeps everything; the next success covers the longer window.
	fs.mu.Lock()
	fs.fail = true
	fs.mu.Unlock()
	if err := s.Take(ctx); err == nil {
		t.Fatal("failure not reported")
	}
	fs.mu.Lock()
	fs.fail = false
	fs.mu.Unlock()
	_ = s.Take(ctx) // scrapes 3 (failed) and 4: C from 110 to 120
	if got := deltaText(t, s); got != "\n# TYPE C counter\nC 10\n\n# TYPE G gauge\nG 4\n" {
		t.Fatalf("after a failed snapshot %q", got)
	}
}

// TestSnapshotStraddlingReset: a snapshot whose fetch started before an Envoy restart is
// discarded (the reference could store it), so the next delta is never a difference across the restart.
func TestSnapshotStraddlingReset(t *testing.T) {
	fs := &fakeStats{}
	s := NewSnapshotter(fs.fetch, time.Hour, nil, nil)
	ctx := context.Background()
	_ = s.Take(ctx)
	before := deltaText(t, s)
	fs.mu.Lock()
	fs.block = make(chan struct{})
	block := fs.block
	fs.mu.Unlock()
	done := make(chan error)
	go func() { done <- s.Take(ctx) }()
	time.Sleep(20 * time.Millisecond)
	s.Reset()
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := deltaText(t, s); got != before {
		t.Errorf("a straddling snapshot was used: %q", got)
	}
}

func TestSnapshotterRunTicks(t *testing.T) {
	fs := &fakeStats{}
	ticks := make(chan time.Time)
	var stopped atomic.Bool
	s := NewSnapshotter(fs.fetch, time.Minute, func(d time.Duration) (<-chan time.Time, func()) {
		if d != time.Minute {
			t.Errorf("period %v", d)
		}
		return ticks, func() { stopped.Store(true) }
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	if _, ok := s.Delta(); ok {
		t.Fatal("a snapshot before the first tick")
	}
	ticks <- time.Now()
	ticks <- time.Now() // the second send returns once the first tick's snapshot is done
	cancel()
	<-done
	if _, ok := s.Delta(); !ok || !stopped.Load() {
		t.Errorf("delta %v, ticker stopped %v", ok, stopped.Load())
	}
}
