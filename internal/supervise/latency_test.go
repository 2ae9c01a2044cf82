package supervise

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestRestartLatency(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=0")
	h.opts.RestartCount = 10
	h.opts.BackoffInitial = -1 // every restart is immediate, like the first one
	var mu sync.Mutex
	var agent []time.Duration
	var lastExit time.Time
	h.opts.OnChange = func(s Snapshot) {
		mu.Lock()
		defer mu.Unlock()
		if s.Running && !lastExit.IsZero() {
			agent = append(agent, s.EnvoyStarted.Sub(lastExit))
			lastExit = time.Time{}
		}
		if s.Exited && !s.Running {
			lastExit = s.LastExit
		}
	}
	h.run()
	h.wait(60 * time.Second)
	starts, exits := h.events("start"), h.events("exit")
	if len(starts) != 11 || len(exits) != 11 {
		t.Fatalf("%d starts, %d exits", len(starts), len(exits))
	}
	var e2e []time.Duration
	for i := 1; i < len(starts); i++ {
		e2e = append(e2e, starts[i].time().Sub(exits[i-1].time()))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(agent) != 10 {
		t.Fatalf("%d agent figures", len(agent))
	}
	t.Logf("Envoy reaped → next Envoy exec'ed: median %v over %d restarts (min %v, max %v)",
		median(agent), len(agent), slices.Min(agent), slices.Max(agent))
	t.Logf("stand-in exit record → next stand-in start record: median %v (includes the stand-in's Go start-up)", median(e2e))
}

// BenchmarkRestartLatency reports the median Envoy exit → next start latency as the
// supervisor sees it, over 10 immediate restarts per iteration.
func BenchmarkRestartLatency(b *testing.B) {
	var all []time.Duration
	for range b.N {
		h := newHarness(b, "STANDIN_EXIT_CODE=0")
		h.opts.RestartCount = 10
		h.opts.BackoffInitial = -1
		var mu sync.Mutex
		var lastExit time.Time
		h.opts.OnChange = func(s Snapshot) {
			mu.Lock()
			defer mu.Unlock()
			if s.Running && !lastExit.IsZero() {
				all = append(all, s.EnvoyStarted.Sub(lastExit))
				lastExit = time.Time{}
			}
			if s.Exited && !s.Running {
				lastExit = s.LastExit
			}
		}
		h.run()
		h.wait(60 * time.Second)
	}
	b.ReportMetric(float64(median(all).Microseconds()), "µs/restart(median)")
}
