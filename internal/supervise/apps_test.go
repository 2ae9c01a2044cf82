package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeApps is the task's application as a test scripts it: running until stop is called.
type fakeApps struct {
	mu      sync.Mutex
	running []string
	err     error
	polls   int
}

func (f *fakeApps) RunningApps(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	return slices.Clone(f.running), f.err
}

func (f *fakeApps) set(running []string, err error) {
	f.mu.Lock()
	f.running, f.err = running, err
	f.mu.Unlock()
}

// phases records every phase the supervisor reports, in order, without repeats.
func (h *harness) recordPhases() func() []Phase {
	var mu sync.Mutex
	var seen []Phase
	prev := h.opts.OnChange
	h.opts.OnChange = func(s Snapshot) {
		mu.Lock()
		if len(seen) == 0 || seen[len(seen)-1] != s.Phase {
			seen = append(seen, s.Phase)
		}
		mu.Unlock()
		if prev != nil {
			prev(s)
		}
	}
	return func() []Phase {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// TestShutdownWaitsForTheApplication: with the task's application known, only the inbound
// listeners drain, and Envoy gets its SIGTERM only once the application has stopped, not at
// the end of the (here immediate) drain; the phase says so meanwhile.
func TestShutdownWaitsForTheApplication(t *testing.T) {
	apps := &fakeApps{running: []string{"app"}}
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.Apps, h.opts.AppExitWait, h.opts.AppPoll = apps, 20*time.Second, 50*time.Millisecond
	phases := h.recordPhases()
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	const appRuns = 1500 * time.Millisecond
	time.Sleep(appRuns)
	if st := h.state(); st.Phase != PhaseWaitingForApp || !st.Running {
		t.Errorf("with the application running: phase %s, Envoy running %v; want %s and running", st.Phase, st.Running, PhaseWaitingForApp)
	}
	stopped := time.Now()
	apps.set(nil, nil)
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	drain, term, sig := h.drainAndTerm()
	if sig != "SIGTERM" {
		t.Fatalf("Envoy's signal %q", sig)
	}
	if q := h.events("admin"); !slices.ContainsFunc(q, func(e event) bool {
		return e.str("path") == "/drain_listeners" && e.str("query") == "graceful&inboundonly"
	}) {
		t.Errorf("no inbound-only graceful drain among %v", q)
	}
	if term.Before(stopped.Add(-50 * time.Millisecond)) {
		t.Errorf("SIGTERM %v before the application stopped", stopped.Sub(term))
	}
	if d := term.Sub(drain); d < appRuns-100*time.Millisecond {
		t.Errorf("SIGTERM %v after the drain request, want at least the %v the application ran", d, appRuns)
	}
	want := []Phase{PhaseStarting, PhaseRunning, PhaseDraining, PhaseWaitingForApp, PhaseStopping, PhaseStopped}
	if got := phases(); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	if !strings.Contains(h.logs.String(), "Waiting for the application to stop; Envoy's outbound listeners keep serving it: running=app") {
		t.Errorf("the wait is not logged with what it waits for:\n%s", h.logs.String())
	}
}

// TestApplicationWaitDeadline: an application that never stops holds Envoy until
// DrainWait+AppExitWait after the shutdown began, not longer; a failing read of the task
// metadata is logged once and does not end the wait.
func TestApplicationWaitDeadline(t *testing.T) {
	apps := &fakeApps{running: []string{"app", "worker"}}
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.DrainWait, h.opts.AppExitWait, h.opts.AppPoll = 5*time.Second, 1*time.Second, 20*time.Millisecond
	h.opts.Apps = apps
	h.run()
	h.waitLive()
	sent := time.Now()
	h.sigs <- syscall.SIGTERM
	time.Sleep(500 * time.Millisecond)
	apps.set(nil, errors.New("task metadata: connection refused"))
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	_, term, _ := h.drainAndTerm()
	// Drain: no connections, so it ends at once; then the wait runs to 5 s + 1 s.
	if d := term.Sub(sent); d < 5900*time.Millisecond || d > 10*time.Second {
		t.Errorf("SIGTERM %v after the shutdown began, want about 6s (LISTENER_DRAIN_WAIT_TIME_S 5 + APPNET_APP_EXIT_WAIT_S 1)", d)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "Cannot read the task metadata"); n != 1 {
		t.Errorf("the failing read is logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "The wait for the application is over; stopping Envoy while application containers still run: running=\"app, worker\"") {
		t.Errorf("the deadline is not logged with what still runs:\n%s", logs)
	}
}

// TestSecondSignalSkipsTheApplicationWait: another signal during the wait stops Envoy now.
func TestSecondSignalSkipsTheApplicationWait(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.Apps, h.opts.AppExitWait = &fakeApps{running: []string{"app"}}, time.Minute
	h.run()
	h.waitLive()
	h.sigs <- syscall.SIGTERM
	h.waitPhase(PhaseWaitingForApp)
	sent := time.Now()
	h.sigs <- syscall.SIGINT
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if _, term, _ := h.drainAndTerm(); term.Sub(sent) > 3*time.Second {
		t.Errorf("SIGTERM %v after the second signal", term.Sub(sent))
	}
}

// TestNoApplicationRunning: with none running (the application stopped first, as ECS does
// with dependsOn), the shutdown is as quick as without one.
func TestNoApplicationRunning(t *testing.T) {
	apps := &fakeApps{}
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.Apps, h.opts.AppExitWait = apps, time.Minute
	h.run()
	h.waitLive()
	sent := time.Now()
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if d := time.Since(sent); d > 3*time.Second {
		t.Errorf("shutdown took %v with no application running", d)
	}
	if !strings.Contains(h.logs.String(), "No application container is running; stopping Envoy") {
		t.Errorf("log:\n%s", h.logs.String())
	}
}

// waitPhase waits until the supervisor reports phase p.
func (h *harness) waitPhase(p Phase) {
	t := h.t
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for h.state().Phase != p {
		if time.Now().After(deadline) {
			t.Fatalf("phase %s never reached; state %+v", p, h.state())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRequestShutdown: RequestShutdown starts the graceful shutdown (drain, SIGTERM, 0);
// only the first request counts, and a second does not hurry it.
func TestRequestShutdown(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_DOWNSTREAM_CX=1", "STANDIN_DRAIN_CX_AFTER=1s")
	h.run()
	h.waitLive()
	sent := time.Now()
	if !h.sup.RequestShutdown("POST /shutdown") {
		t.Fatal("the first request was refused")
	}
	if h.sup.RequestShutdown("POST /quitquitquit") {
		t.Error("a second request counted")
	}
	if code := h.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	drain, term, sig := h.drainAndTerm()
	if drain.IsZero() || sig != "SIGTERM" || term.Sub(sent) < 900*time.Millisecond {
		t.Errorf("drain %v, %s %v after the request: the drain was cut short or skipped", drain, sig, term.Sub(sent))
	}
	if !strings.Contains(h.logs.String(), `Shutdown requested: cause="POST /shutdown"`) {
		t.Errorf("log:\n%s", h.logs.String())
	}
}

// TestRequestShutdownBeforeStart: a request made before Run means Envoy never starts.
func TestRequestShutdownBeforeStart(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.sup = nil
	sup := New(h.opts)
	sup.RequestShutdown("the application has exited")
	if code := sup.Run(context.Background()); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if n := len(h.events("start")); n != 0 {
		t.Errorf("%d Envoy starts", n)
	}
}

// TestOOMKillAttributed: Envoy dying of SIGKILL while the container's oom_kill count grew is
// reported as the OOM killer's (fake cgroup files); without the count growing, or with the
// agent's own SIGKILL, it is a plain signal 9.
func TestOOMKillAttributed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		grow     bool
		v1       bool
		want     string
		wantOOMs int
	}{
		{"v2 count grew", true, false, "killed by the kernel's OOM killer (limit 536870912 bytes)", 1},
		{"v1 count grew", true, true, "killed by the kernel's OOM killer (limit 536870912 bytes)", 1},
		{"count unchanged", false, false, "killed by signal 9 (killed)", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			events, limit := filepath.Join(root, "memory.events"), filepath.Join(root, "memory.max")
			format := "low 0\nhigh 0\nmax 3\noom 1\noom_kill %s\n"
			if tc.v1 {
				if err := os.Mkdir(filepath.Join(root, "memory"), 0o755); err != nil {
					t.Fatal(err)
				}
				events, limit = filepath.Join(root, "memory", "memory.oom_control"), filepath.Join(root, "memory", "memory.limit_in_bytes")
				format = "oom_kill_disable 0\nunder_oom 0\noom_kill %s\n"
			}
			write := func(path, text string) {
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write(events, strings.Replace(format, "%s", "2", 1))
			write(limit, "536870912\n")
			h := newHarness(t, "STANDIN_LIFETIME=1500ms", "STANDIN_EXIT_SIGNAL=SIGKILL")
			h.opts.CgroupRoot = root
			h.run()
			h.waitLive()
			if tc.grow {
				write(events, strings.Replace(format, "%s", "3", 1))
			}
			if code := h.wait(30 * time.Second); code != 137 {
				t.Fatalf("exit code %d, want 137", code)
			}
			st := h.state()
			if st.LastExitReason != tc.want || st.OOMKills != tc.wantOOMs || st.LastExitSignal != 9 {
				t.Errorf("reason %q, OOM kills %d, signal %d; want %q, %d, 9", st.LastExitReason, st.OOMKills, st.LastExitSignal, tc.want, tc.wantOOMs)
			}
			logged := strings.Contains(h.logs.String(), "Envoy was killed by the kernel's OOM killer (limit 536870912 bytes)")
			if logged != tc.grow {
				t.Errorf("OOM line logged %v, want %v:\n%s", logged, tc.grow, h.logs.String())
			}
		})
	}
}

// TestAgentsOwnSIGKILLIsNoOOM: the agent's SIGKILL of an Envoy that ignores SIGTERM is not
// attributed to the OOM killer, even if the count grew meanwhile.
func TestAgentsOwnSIGKILLIsNoOOM(t *testing.T) {
	root := t.TempDir()
	events := filepath.Join(root, "memory.events")
	if err := os.WriteFile(events, []byte("oom_kill 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "STANDIN_LIFETIME=1h", "STANDIN_IGNORE_SIGTERM=1")
	h.opts.CgroupRoot, h.opts.KillGrace = root, 300*time.Millisecond
	h.run()
	h.waitLive()
	if err := os.WriteFile(events, []byte("oom_kill 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.sigs <- syscall.SIGTERM
	if code := h.wait(30 * time.Second); code != 137 {
		t.Fatalf("exit code %d", code)
	}
	if st := h.state(); st.OOMKills != 0 || strings.Contains(st.LastExitReason, "OOM") {
		t.Errorf("state %+v", st)
	}
}
