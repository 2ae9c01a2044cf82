package api

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/supervise"
)

// Issue 7, defect 1: another process answering LIVE on Envoy's admin address (a leftover
// Envoy, a second task on a shared host network) never makes /status HEALTHY.
func TestHealthIgnoresAnswersFromAnotherProcess(t *testing.T) {
	f := newFakeEnvoy(t) // answers LIVE, connected: the impostor
	var ours atomic.Bool
	h := runHealth(t, f, func(o *HealthOptions) {
		o.HolderIn = func(pid int) (int, error) {
			if ours.Load() && pid == 42 {
				return 42, nil
			}
			return 0, nil
		}
	})
	h.EnvoyChanged(started(42, 1))
	s := waitStatus(t, h, "a first poll", func(s Status) bool { return s.EnvoyState != "" })
	if s.HealthStatus != Unhealthy || s.EnvoyState != Unreachable ||
		s.HealthCheckError != "the admin address is answered by another process, not by Envoy (pid 42) or a process it started" {
		t.Fatalf("impostor: %+v", s)
	}
	time.Sleep(50 * time.Millisecond) // several fast polls later, still
	if s := h.Status(); s.HealthStatus != Unhealthy || s.EnvoyReadinessState != NotInitialized {
		t.Fatalf("impostor, later: %+v", s)
	}
	// Our Envoy takes the address over: trusted from then on, checked once.
	ours.Store(true)
	waitStatus(t, h, "HEALTHY", func(s Status) bool { return s.HealthStatus == Healthy })
}

// Issue 16, item 4: an Envoy started by a wrapper script (a descendant of the process the agent
// started holds the admin listener) is trusted, and each change of verdict is logged once.
func TestHealthTrustsEnvoyBelowAWrapper(t *testing.T) {
	f := newFakeEnvoy(t)
	var holder atomic.Int32 // 0 while another process answers
	var logs logBuffer
	h := runHealth(t, f, func(o *HealthOptions) {
		o.HolderIn = func(int) (int, error) { return int(holder.Load()), nil }
		o.Logger = logs.logger()
	})
	h.EnvoyChanged(started(42, 1))
	waitStatus(t, h, "the impostor seen", func(s Status) bool { return strings.Contains(s.HealthCheckError, "another process") })
	time.Sleep(50 * time.Millisecond) // several fast polls
	holder.Store(43)                  // the wrapper's child, Envoy, binds the admin address
	waitStatus(t, h, "HEALTHY", func(s Status) bool { return s.HealthStatus == Healthy })
	got := logs.String()
	if n := strings.Count(got, "another process"); n != 1 {
		t.Errorf("the foreign verdict logged %d times, want once:\n%s", n, got)
	}
	if !strings.Contains(got, "served by a process below the one the agent started") || !strings.Contains(got, "admin_pid=43") {
		t.Errorf("the wrapper verdict is not logged:\n%s", got)
	}
}

// While no Envoy process runs, /status is UNHEALTHY even though something answers LIVE,
// and nothing is asked.
func TestHealthWithoutAnEnvoyProcess(t *testing.T) {
	f := newFakeEnvoy(t)
	h := runHealth(t, f, nil)
	h.EnvoyChanged(started(42, 1))
	waitStatus(t, h, "HEALTHY", func(s Status) bool { return s.HealthStatus == Healthy })
	h.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRestarting, Starts: 1, Exited: true,
		LastExitCode: 1, LastExitReason: "exited with code 1", LastExit: time.Now()})
	if s := h.Status(); s.HealthStatus != Unhealthy {
		t.Fatalf("right after the exit, before any poll: %+v", s)
	}
	s := waitStatus(t, h, "the exit polled", func(s Status) bool { return s.EnvoyState == Unreachable })
	if s.HealthStatus != Unhealthy || s.HealthCheckError != "Envoy is not running (exited with code 1)" {
		t.Fatalf("after the exit: %+v", s)
	}
	n := f.count("GET /ready")
	h.Poll()
	time.Sleep(50 * time.Millisecond)
	if f.count("GET /ready") != n {
		t.Errorf("polled Envoy's admin address while no Envoy runs")
	}
}

// A shutdown makes /status UNHEALTHY at once, with the drain phase, while Envoy still runs.
func TestHealthUnhealthyFromTheStartOfAShutdown(t *testing.T) {
	f := newFakeEnvoy(t)
	h := runHealth(t, f, nil)
	h.EnvoyChanged(started(42, 1))
	waitStatus(t, h, "HEALTHY", func(s Status) bool { return s.HealthStatus == Healthy })
	snap := started(42, 1)
	snap.Phase = supervise.PhaseDraining
	h.EnvoyChanged(snap)
	if s := h.Status(); s.HealthStatus != Unhealthy || s.DrainPhase != DrainPhaseDrain || s.EnvoyState != Live {
		t.Fatalf("draining: %+v", s)
	}
}

// When ownership cannot be checked (no /proc), answers are trusted, and that is logged once.
func TestHealthTrustsWhenOwnershipIsUnknowable(t *testing.T) {
	f := newFakeEnvoy(t)
	var calls atomic.Int32
	h := runHealth(t, f, func(o *HealthOptions) {
		o.HolderIn = func(int) (int, error) { calls.Add(1); return 0, errors.New("no /proc") }
	})
	h.EnvoyChanged(started(42, 1))
	s := waitStatus(t, h, "HEALTHY", func(s Status) bool { return s.HealthStatus == Healthy })
	if strings.Contains(s.HealthCheckError, "another process") || calls.Load() != 1 {
		t.Fatalf("%+v after %d checks", s, calls.Load())
	}
}
