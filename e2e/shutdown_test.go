package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// drainWait is LISTENER_DRAIN_WAIT_TIME_S in these tests: its lower bound, to keep the
// deadline cases short.
const drainWait = 5 * time.Second

// TestGracefulShutdown is R3's normal path: a shutdown signal makes the agent POST
// /drain_listeners?graceful, wait until Envoy reports no downstream connections (at most
// LISTENER_DRAIN_WAIT_TIME_S), SIGTERM Envoy and exit 0. The delay from the agent's signal to
// Envoy's SIGTERM, both on the wall clock, shows which way the wait ended.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	const early = 4 * time.Second // before the 5 s drain deadline, with room for a loaded machine
	tests := []struct {
		name     string
		sig      syscall.Signal
		env      []string
		uds      bool
		min, max time.Duration // agent's signal → Envoy's SIGTERM
	}{
		{name: "no connections: SIGTERM early", sig: syscall.SIGTERM, max: early},
		{name: "connections stay: SIGTERM at the deadline", sig: syscall.SIGTERM, env: []string{"STANDIN_DOWNSTREAM_CX=3"},
			min: drainWait - 100*time.Millisecond, max: drainWait + early},
		{name: "connections close after 1s", sig: syscall.SIGTERM, env: []string{"STANDIN_DOWNSTREAM_CX=3", "STANDIN_DRAIN_CX_AFTER=1s"},
			min: 900 * time.Millisecond, max: time.Second + early},
		{name: "SIGINT", sig: syscall.SIGINT, max: early},
		{name: "SIGQUIT", sig: syscall.SIGQUIT, max: early},
		{name: "admin on UDS", sig: syscall.SIGTERM, env: []string{"ENVOY_ADMIN_MODE=uds"}, uds: true, max: early},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.uds {
				lockUDS(t)
			}
			a := newAgent(t, "LISTENER_DRAIN_WAIT_TIME_S=5")
			a.setenv(tc.env...)
			a.start()
			up := a.waitEnvoyUp(1)
			if tc.uds && up.Network != "unix" {
				a.fatalf("Envoy admin on %s %s, want the Unix socket", up.Network, up.Address)
			}
			sent := time.Now()
			a.signal(tc.sig)
			if code := a.wait(drainWait + 15*time.Second); code != 0 {
				a.fatalf("agent exit code %d, want 0", code)
			}
			evs := a.events()
			drains := filter(evs, isDrain)
			terms := filter(evs, isSignal(up.Pid, "SIGTERM"))
			switch {
			case len(drains) == 0:
				a.fatalf("no POST /drain_listeners")
			case drains[0].Query != "graceful":
				a.fatalf("drain query %q, want graceful", drains[0].Query)
			case len(terms) != 1:
				a.fatalf("Envoy got %d SIGTERMs, want 1", len(terms))
			case terms[0].Time.Before(drains[0].Time):
				a.fatalf("SIGTERM before the drain request")
			}
			if d := terms[0].Time.Sub(sent); d < tc.min || d > tc.max {
				a.fatalf("Envoy's SIGTERM %v after the agent's %v, want within [%v, %v]", d, tc.sig, tc.min, tc.max)
			}
			if n := len(envoyStarts(evs)); n != 1 {
				a.fatalf("%d Envoy starts, want 1 (no restart while stopping)", n)
			}
		})
	}
}

// TestShutdownEscalation: an Envoy ignoring SIGTERM is SIGKILLed after the 5 s grace (exit
// 137, as Run documents), and a second shutdown signal cuts short whichever wait is running.
func TestShutdownEscalation(t *testing.T) {
	t.Parallel()
	const grace = 5 * time.Second // supervise.DefaultKillGrace; not configurable
	const soon = 2500 * time.Millisecond
	tests := []struct {
		name string
		env  []string
		// second, when set, is the event after which the test sends another SIGTERM.
		second   func(envoyPid int) (string, func(event) bool)
		wantCode int
		// check gets the Envoy pid, when the second signal was sent (zero if none) and the
		// events.
		check func(a *agent, envoyPid int, second time.Time, evs []event)
	}{
		{
			name:     "Envoy ignores SIGTERM: SIGKILL after the grace",
			env:      []string{"STANDIN_IGNORE_SIGTERM=1"},
			wantCode: 128 + int(syscall.SIGKILL),
			check: func(a *agent, pid int, _ time.Time, evs []event) {
				term := filter(evs, isSignal(pid, "SIGTERM"))[0]
				if d := a.exitAt.Sub(term.Time); d < grace-100*time.Millisecond || d > grace+soon {
					a.fatalf("agent exited %v after Envoy's SIGTERM, want about %v", d, grace)
				}
				if !strings.Contains(a.stderr(), "sending SIGKILL") {
					a.fatalf("the agent did not log the SIGKILL")
				}
			},
		},
		{
			name: "second SIGTERM skips the drain wait",
			env:  []string{"STANDIN_DOWNSTREAM_CX=3", "LISTENER_DRAIN_WAIT_TIME_S=60"},
			second: func(int) (string, func(event) bool) {
				return "drain request", isDrain
			},
			wantCode: 0,
			check: func(a *agent, pid int, second time.Time, evs []event) {
				term := filter(evs, isSignal(pid, "SIGTERM"))[0]
				if d := term.Time.Sub(second); d > soon {
					a.fatalf("Envoy's SIGTERM %v after the second signal, want at once", d)
				}
			},
		},
		{
			name: "second SIGTERM skips the kill grace",
			env:  []string{"STANDIN_IGNORE_SIGTERM=1"},
			second: func(pid int) (string, func(event) bool) {
				return "Envoy's SIGTERM", isSignal(pid, "SIGTERM")
			},
			wantCode: 128 + int(syscall.SIGKILL),
			check: func(a *agent, _ int, second time.Time, _ []event) {
				if d := a.exitAt.Sub(second); d > soon {
					a.fatalf("agent exited %v after the second signal, want at once (grace is %v)", d, grace)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, "LISTENER_DRAIN_WAIT_TIME_S=5")
			a.setenv(tc.env...)
			a.start()
			pid := a.waitEnvoyUp(1).Pid
			first := time.Now()
			a.signal(syscall.SIGTERM)
			var second time.Time
			if tc.second != nil {
				what, keep := tc.second(pid)
				a.waitEvent(what, 1, 20*time.Second, keep)
				// The same signal within a second is the same request (issue 16, item 17).
				time.Sleep(time.Until(first.Add(repeatWindow + 100*time.Millisecond)))
				second = time.Now()
				a.signal(syscall.SIGTERM)
			}
			if code := a.wait(grace + 20*time.Second); code != tc.wantCode {
				a.fatalf("agent exit code %d, want %d", code, tc.wantCode)
			}
			evs := a.events()
			if len(filter(evs, isSignal(pid, "SIGTERM"))) == 0 {
				a.fatalf("Envoy got no SIGTERM")
			}
			tc.check(a, pid, second, evs)
			if a.owns(pid) {
				a.fatalf("Envoy %d still running after the agent exited", pid)
			}
		})
	}
}

// repeatWindow is supervise.DefaultRepeatWindow: the same signal again within it is the same
// shutdown request.
const repeatWindow = time.Second

// TestAgentKilledTakesEnvoyDown: SIGKILL gives the agent no chance to act, so only the
// parent-death signal (R4) can stop Envoy from running on as an orphan.
func TestAgentKilledTakesEnvoyDown(t *testing.T) {
	t.Parallel()
	a := newAgent(t)
	a.start()
	up := a.waitEnvoyUp(1)
	start := envoyStarts(a.events())[0]
	if start.Pdeathsig == nil || *start.Pdeathsig != int(syscall.SIGKILL) {
		a.fatalf("Envoy's parent-death signal is not SIGKILL (record: %+v)", start)
	}
	if !a.owns(up.Pid) {
		a.fatalf("Envoy %d is not running", up.Pid)
	}
	a.signal(syscall.SIGKILL)
	a.wait(10 * time.Second)
	if !testenv.Poll(5*time.Second, func() bool { return !a.owns(up.Pid) }) {
		a.fatalf("Envoy %d still running 5 s after the agent was killed", up.Pid)
	}
}

// TestOutputReaderGone (issue 16, item 2): the reader of the agent's stdout and stderr goes
// away (a log driver restarts, a `| tee` ends) while Envoy keeps printing. The agent must not
// die of SIGPIPE (141, taking Envoy down through the parent-death signal without a drain): it
// counts the lost lines and still drains Envoy on SIGTERM.
func TestOutputReaderGone(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "STANDIN_STDOUT_LINES=3000", "STANDIN_STDERR_LINES=3000", "STANDIN_LINE_INTERVAL=1ms")
	a.withAPI()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a.outTo, a.errTo = w, w
	a.start()
	w.Close()
	if _, err := r.Read(make([]byte, 1)); err != nil { // the agent has started writing
		t.Fatal(err)
	}
	r.Close()
	up := a.waitEnvoyUp(1)
	a.waitFor("Envoy's lines printed", 30*time.Second, func(evs []event) bool { return len(filter(evs, isEvent("lines_done"))) == 2 })
	a.waitMetrics("Envoy's 6000 lines counted as lost", 10*time.Second, func(fams testenv.Exposition) bool {
		v1, _ := fams.Value("appnet_agent_output_lines_lost_total", "stream", "stdout")
		v2, _ := fams.Value("appnet_agent_output_lines_lost_total", "stream", "stderr")
		return v1+v2 >= 6000
	})
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	if len(filter(a.events(), isDrain)) == 0 || len(filter(a.events(), isSignal(up.Pid, "SIGTERM"))) != 1 {
		a.fatalf("Envoy was not drained and stopped")
	}
}

// TestRepeatedSignalIsOneRequest (issue 16, item 17): a wrapper that sends SIGTERM to the
// agent and to its process group delivers it twice at once; that is one request, and the
// drain runs its course instead of being skipped as for a second signal.
func TestRepeatedSignalIsOneRequest(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "LISTENER_DRAIN_WAIT_TIME_S=20", "STANDIN_DOWNSTREAM_CX=3", "STANDIN_DRAIN_CX_AFTER=1500ms")
	a.start()
	up := a.waitEnvoyUp(1)
	a.waitHandedOver() // raw kills below: the hand-over's exec must be behind us (see signal)
	pid := a.agentPid()
	_ = syscall.Kill(pid, syscall.SIGTERM)
	// Sent at once, the second would often merge with the first while it is still pending;
	// a wrapper's second kill comes after some work, by when the first was taken.
	time.Sleep(100 * time.Millisecond)
	_ = syscall.Kill(-pid, syscall.SIGTERM) // the agent's group: the agent alone (Envoy has its own)
	if code := a.wait(40 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	evs := a.events()
	drains, terms := filter(evs, isDrain), filter(evs, isSignal(up.Pid, "SIGTERM"))
	if len(drains) == 0 || len(terms) != 1 {
		a.fatalf("%d drain requests, %d SIGTERMs to Envoy; want a drain and one SIGTERM", len(drains), len(terms))
	}
	if d := terms[0].Time.Sub(drains[0].Time); d < 1400*time.Millisecond {
		a.fatalf("Envoy's SIGTERM %v after the drain request, want after its connections closed (1.5 s): the repeated signal cut the drain short", d)
	}
}
