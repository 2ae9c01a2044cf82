package supervise

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// drainAndTerm returns the times of the recorded graceful drain request and of the first
// signal the stand-in caught.
func (h *harness) drainAndTerm() (drain, term time.Time, sig string) {
	h.t.Helper()
	for _, e := range h.events("admin") {
		if e.str("path") == "/drain_listeners" {
			if e.str("method") != "POST" || e.str("query") != "graceful" {
				h.t.Errorf("drain request %s %s?%s, want POST ?graceful", e.str("method"), e.str("path"), e.str("query"))
			}
			if drain.IsZero() {
				drain = e.time()
			}
		}
	}
	if sigs := h.events("signal"); len(sigs) > 0 {
		term, sig = sigs[0].time(), sigs[0].str("name")
	}
	return drain, term, sig
}

func TestShutdownDrainsThenTerminates(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_DOWNSTREAM_CX=3", "STANDIN_DRAIN_CX_AFTER=600ms")
	h.opts.RestartCount = 3
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	drain, term, sig := h.drainAndTerm()
	if drain.IsZero() || sig != "SIGTERM" {
		t.Fatalf("drain %v, signal %q", drain, sig)
	}
	wait := term.Sub(drain)
	t.Logf("drain request → SIGTERM: %v (connections gone after 600ms, deadline 5s)", wait)
	if wait < 600*time.Millisecond || wait > 4*time.Second {
		t.Errorf("SIGTERM %v after the drain request; want soon after 600ms, well before 5s", wait)
	}
	if n := len(h.events("start")); n != 1 {
		t.Errorf("%d starts: restarted during shutdown", n)
	}
	st := h.state()
	if st.Phase != PhaseStopped || st.Running || st.LastExitReason != "exited with code 0" {
		t.Errorf("state = %+v", st)
	}
}

func TestShutdownWithoutConnectionsIsQuick(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.DrainWait = 20 * time.Second
	h.run()
	h.waitLive()
	sent := time.Now()
	h.sigs <- syscall.SIGINT
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if d := time.Since(sent); d > 3*time.Second {
		t.Errorf("shutdown took %v with no connections", d)
	}
	if drain, term, _ := h.drainAndTerm(); drain.IsZero() || term.Before(drain) {
		t.Errorf("drain %v, SIGTERM %v", drain, term)
	}
}

func TestShutdownWaitsForTheDeadline(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_DOWNSTREAM_CX=1")
	h.opts.DrainWait = 1500 * time.Millisecond
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGQUIT
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	drain, term, _ := h.drainAndTerm()
	if wait := term.Sub(drain); wait < 1400*time.Millisecond || wait > 4*time.Second {
		t.Errorf("SIGTERM %v after the drain request, want ≈ 1.5s", wait)
	}
}

// TestShutdownAdminUnreachable: the drain request fails, and the deadline still applies.
func TestShutdownAdminUnreachable(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	bad := envoyadmin.New(envoyadmin.UDS(filepath.Join(t.TempDir(), "nobody.sock")))
	bad.BackoffMin = 10 * time.Millisecond
	defer bad.Close()
	h.opts.Admin = bad
	h.opts.DrainWait = 1500 * time.Millisecond
	h.run()
	h.waitLive()
	sent := time.Now()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	_, term, _ := h.drainAndTerm()
	if wait := term.Sub(sent); wait < 1400*time.Millisecond || wait > 4*time.Second {
		t.Errorf("SIGTERM %v after the signal, want ≈ 1.5s", wait)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "Draining Envoy listeners failed") || strings.Count(logs, "Cannot read Envoy's downstream connections") != 1 {
		t.Errorf("errors not logged exactly once each:\n%s", logs)
	}
}

// The same signal again after RepeatWindow is a second request: it skips the drain wait.
func TestSecondSignalSkipsTheDrainWait(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_DOWNSTREAM_CX=1")
	h.opts.DrainWait = 60 * time.Second
	h.run()
	h.waitLive()
	first := time.Now()
	h.sigs <- syscall.SIGTERM
	testenv.WaitFor(t, 10*time.Second, "the drain request", func() bool { d, _, _ := h.drainAndTerm(); return !d.IsZero() })
	time.Sleep(time.Until(first.Add(DefaultRepeatWindow + 100*time.Millisecond)))
	if st := h.state(); st.Phase != PhaseDraining {
		t.Errorf("phase %s while draining", st.Phase)
	}
	second := time.Now()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if _, term, _ := h.drainAndTerm(); term.Sub(second) > 2*time.Second {
		t.Errorf("SIGTERM %v after the second signal", term.Sub(second))
	}
}

func TestEnvoyIgnoringSigtermIsKilled(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_IGNORE_SIGTERM=1")
	h.opts.KillGrace = 700 * time.Millisecond
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 137 {
		t.Fatalf("exit code %d, want 137", code)
	}
	_, term, sig := h.drainAndTerm()
	if sig != "SIGTERM" {
		t.Fatalf("signal %q", sig)
	}
	// term is when the stand-in caught SIGTERM, a little after the agent sent it and started
	// the grace: allow for that delay (it can only shorten what is measured here).
	if d := time.Since(term); d < 700*time.Millisecond-100*time.Millisecond {
		t.Errorf("killed %v after SIGTERM, before the grace", d)
	}
	if st := h.state(); !strings.HasPrefix(st.LastExitReason, "killed by signal 9") {
		t.Errorf("state = %+v", st)
	}
}

func TestSecondSignalSkipsTheKillGrace(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_IGNORE_SIGTERM=1")
	h.opts.KillGrace = time.Minute
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	testenv.WaitFor(t, 10*time.Second, "SIGTERM to Envoy", func() bool { _, _, s := h.drainAndTerm(); return s != "" })
	second := time.Now()
	h.sigs <- syscall.SIGINT
	if code := h.wait(30 * time.Second); code != 137 {
		t.Fatalf("exit code %d, want 137", code)
	}
	if d := time.Since(second); d > 3*time.Second {
		t.Errorf("SIGKILL took %v after the second signal", d)
	}
}

func TestShutdownByContext(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.Signals = nil
	h.run()
	h.waitLive()
	h.cancel()
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if drain, _, sig := h.drainAndTerm(); drain.IsZero() || sig != "SIGTERM" {
		t.Errorf("drain %v, signal %q", drain, sig)
	}
}

func TestEnvoyFailingDuringDrain(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=2s", "STANDIN_EXIT_CODE=5", "STANDIN_DOWNSTREAM_CX=1")
	h.opts.DrainWait = time.Minute
	h.opts.RestartCount = 5
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 5 {
		t.Fatalf("exit code %d, want Envoy's 5", code)
	}
	if n := len(h.events("start")); n != 1 {
		t.Errorf("%d starts: restarted during shutdown", n)
	}
}

func TestUncleanStopAfterSigterm(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_TERM_EXIT_CODE=3")
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
}

func TestShutdownWhileWaitingToRestart(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=1")
	h.opts.RestartCount = 5
	h.opts.BackoffInitial = time.Minute
	h.run()
	testenv.WaitFor(t, 20*time.Second, "the backoff", func() bool {
		st := h.state()
		return st.Starts == 2 && st.Phase == PhaseRestarting
	})
	h.sigs <- syscall.SIGTERM
	if code := h.wait(10 * time.Second); code != 1 {
		t.Errorf("exit code %d, want 1 (the failed Envoy's): a crash-looping Envoy is never reported as success", code)
	}
}

func TestSignalBeforeStartStartsNothing(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.sigs <- syscall.SIGTERM
	h.run()
	if code := h.wait(10 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if n := len(h.events("start")); n != 0 {
		t.Errorf("%d starts", n)
	}
}

// Issue 7: health checks fail first, and the drain lasts at least MinDrain even when no
// connection is left, for clients holding a stale endpoint list.
func TestShutdownFailsHealthFirstAndKeepsTheMinimumDrain(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.DrainWait = 20 * time.Second
	h.opts.MinDrain = 1500 * time.Millisecond
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var failAt, drainAt time.Time
	for _, e := range h.events("admin") {
		switch e.str("path") {
		case "/healthcheck/fail":
			if failAt.IsZero() {
				failAt = e.time()
			}
		case "/drain_listeners":
			if drainAt.IsZero() {
				drainAt = e.time()
			}
		}
	}
	_, term, _ := h.drainAndTerm()
	if failAt.IsZero() || drainAt.IsZero() || drainAt.Before(failAt) {
		t.Fatalf("healthcheck/fail at %v, drain at %v: want the first before the second", failAt, drainAt)
	}
	// Both times are the stand-in's own records.
	if wait := term.Sub(failAt); wait < 1400*time.Millisecond || wait > 10*time.Second {
		t.Errorf("SIGTERM %v after the shutdown began, want ≥ the 1.5s minimum drain", wait)
	}
	if !strings.Contains(h.logs.String(), "draining for the minimum time still") {
		t.Errorf("the minimum drain is not logged:\n%s", h.logs.String())
	}
}

// A second signal still skips the minimum drain.
func TestSecondSignalSkipsTheMinimumDrain(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.DrainWait = 60 * time.Second
	h.opts.MinDrain = 60 * time.Second
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	testenv.WaitFor(t, 10*time.Second, "the drain request", func() bool { d, _, _ := h.drainAndTerm(); return !d.IsZero() })
	h.sigs <- syscall.SIGINT // a different signal: another request however soon
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// Issue 16, item 17: the same signal twice at once (a wrapper that signals the agent and its
// process group) is one request: the drain runs its course, and so does the kill grace.
func TestRepeatedSignalIsOneRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		opts func(*Options)
		// repeat waits, after the first SIGTERM, until the repeat is due.
		repeat   func(h *harness)
		wantCode int
		// check gets the time the drain was asked and the time Envoy caught SIGTERM.
		check func(h *harness, drain, term time.Time)
	}{{
		name: "drain",
		env:  []string{"STANDIN_DOWNSTREAM_CX=3", "STANDIN_DRAIN_CX_AFTER=1s"},
		opts: func(o *Options) { o.DrainWait = 30 * time.Second },
		check: func(h *harness, drain, term time.Time) {
			if wait := term.Sub(drain); wait < 900*time.Millisecond {
				t.Errorf("SIGTERM %v after the drain request: the repeat cut the drain short", wait)
			}
			if logs := h.logs.String(); !strings.Contains(logs, "it is the same shutdown request") || strings.Contains(logs, "Another shutdown request") {
				t.Errorf("the repeat is not logged as such:\n%s", logs)
			}
		},
	}, {
		name: "kill grace",
		env:  []string{"STANDIN_IGNORE_SIGTERM=1"},
		opts: func(o *Options) {
			o.KillGrace = 700 * time.Millisecond
			o.RepeatWindow = time.Hour // the repeat below comes after the drain
		},
		repeat: func(h *harness) {
			testenv.WaitFor(t, 10*time.Second, "SIGTERM to Envoy", func() bool { _, _, s := h.drainAndTerm(); return s != "" })
		},
		wantCode: 137,
		check: func(_ *harness, _, term time.Time) {
			if d := time.Since(term); d < 600*time.Millisecond {
				t.Errorf("killed %v after SIGTERM: the repeat cut the grace short", d)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, append([]string{"STANDIN_LIFETIME=1h"}, tc.env...)...)
			tc.opts(&h.opts)
			h.run()
			h.waitLive()
			h.sigs <- syscall.SIGTERM
			if tc.repeat != nil {
				tc.repeat(h)
			}
			h.sigs <- syscall.SIGTERM
			if code := h.wait(30 * time.Second); code != tc.wantCode {
				t.Fatalf("exit code %d, want %d", code, tc.wantCode)
			}
			drain, term, _ := h.drainAndTerm()
			tc.check(h, drain, term)
		})
	}
}

// Issue 7, defect 11: a drain call that fails because the deadline passed is logged too.
func TestShutdownDrainCallCutByTheDeadlineIsLogged(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_DELAY_PATHS=/drain_listeners:30s")
	h.opts.DrainWait = 1500 * time.Millisecond
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "Draining Envoy listeners failed") || !strings.Contains(logs, "the drain deadline passed") {
		t.Errorf("the failed drain call is not logged:\n%s", logs)
	}
}
