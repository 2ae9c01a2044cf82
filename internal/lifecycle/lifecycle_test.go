package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/appnet/appnet-agent/internal/logging"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A part that panics and fails is restarted each time, with a growing back-off, every
// failure logged once (the panic with its stack), until the context ends.
func TestKeepRestartsAfterPanicsAndFailures(t *testing.T) {
	var out syncBuffer
	log := logging.New(&out, "info")
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	var delays []time.Duration
	var mu sync.Mutex
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		delays = append(delays, d)
		mu.Unlock()
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		keep(ctx, log, Part{Name: "test part", Run: func(ctx context.Context) error {
			switch runs.Add(1) {
			case 1:
				var m map[string]int
				//lint:ignore SA5000 the nil-map panic is what this test needs
				m["boom"] = 1
			case 2:
				return errors.New("listener closed")
			case 3:
				return nil // stopping without being asked is a failure too
			}
			cancel()
			<-ctx.Done()
			return nil
		}}, after)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Keep did not return after the context ended")
	}
	if runs.Load() != 4 {
		t.Fatalf("%d runs, want 4", runs.Load())
	}
	want := []time.Duration{RestartMin, 2 * RestartMin, 4 * RestartMin}
	if len(delays) != len(want) || delays[0] != want[0] || delays[1] != want[1] || delays[2] != want[2] {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	logs := out.String()
	for _, w := range []string{
		"The test part panicked; restarting it in 250ms. Envoy is not affected. This is a bug; the stack:",
		"lifecycle_test.go", // the stack names where it panicked
		`panic="assignment to entry in nil map"`,
		`The test part failed; restarting it in 500ms. Envoy is not affected. error="listener closed"`,
		`The test part failed; restarting it in 1s. Envoy is not affected. error="stopped on its own"`,
	} {
		if !strings.Contains(logs, w) {
			t.Errorf("logs lack %q:\n%s", w, logs)
		}
	}
	if n := strings.Count(logs, "panicked"); n != 1 {
		t.Errorf("the panic is logged %d times", n)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var last time.Duration
	n := 0
	after := func(d time.Duration) <-chan time.Time {
		last = d
		n++
		if n == 20 {
			cancel()
		}
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	keep(ctx, nil, Part{Name: "x", Run: func(context.Context) error { return errors.New("no") }}, after)
	if last != RestartMax {
		t.Fatalf("last delay %v, want %v", last, RestartMax)
	}
}

func TestGroupStopsEveryPart(t *testing.T) {
	g := NewGroup(nil)
	var running atomic.Int32
	for range 3 {
		g.Go(Part{Name: "p", Run: func(ctx context.Context) error {
			running.Add(1)
			<-ctx.Done()
			running.Add(-1)
			return nil
		}})
	}
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() != 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	g.Stop()
	g.Stop()
	if running.Load() != 0 {
		t.Fatalf("%d parts still running", running.Load())
	}
}

func TestBackoffDelay(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		b    Backoff
		want []time.Duration // Delay(0), Delay(1), ...
	}{
		{Backoff{RestartMin, RestartMax}, []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		{Backoff{100 * ms, time.Second}, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}},
		{Backoff{3 * time.Second, time.Second}, []time.Duration{time.Second, time.Second}}, // Min above Max: Max
		{Backoff{0, time.Second}, []time.Duration{0, 0, 0}},
	} {
		for n, want := range tc.want {
			if got := tc.b.Delay(n); got != want {
				t.Errorf("%+v.Delay(%d) = %v, want %v", tc.b, n, got, want)
			}
		}
	}
	if got := (Backoff{time.Second, 24 * time.Hour}).Delay(1000); got != 24*time.Hour {
		t.Errorf("a large n: %v, want the cap", got)
	}
}
