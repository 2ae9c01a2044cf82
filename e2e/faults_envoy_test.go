package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 7, fault injection: an Envoy that crash-loops, never becomes LIVE, or whose admin
// API misbehaves leaves the agent in a defined state, with /status telling the truth.

// TestCrashLoop: by exit code and by signal, each exit is restarted with back-off (the first
// at once, then 250 ms, 500 ms, ...) until the budget is spent; /status is never HEALTHY
// between the runs, and the agent exits with Envoy's code.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		env      []string
		wantCode int
	}{
		{"exit code 1", []string{"STANDIN_EXIT_CODE=1", "STANDIN_LIFETIME=300ms"}, 1},
		{"SIGABRT", []string{"STANDIN_EXIT_SIGNAL=SIGABRT", "STANDIN_LIFETIME=300ms"}, 128 + int(syscall.SIGABRT)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, append(tc.env, "APPNET_ENVOY_RESTART_COUNT=3")...)
			a.withAPI()
			a.start()
			stop := a.watchStatus()
			code := a.wait(60 * time.Second)
			seen := stop()
			if code != tc.wantCode {
				a.fatalf("exit code %d, want %d", code, tc.wantCode)
			}
			starts := envoyStarts(a.events())
			if len(starts) != 4 {
				a.fatalf("%d Envoy starts, want 4", len(starts))
			}
			// Back-off: lower bounds only (a loaded machine makes gaps longer, never shorter).
			for i, min := range []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond} {
				if gap := starts[i+1].Time.Sub(starts[i].Time); gap < min {
					a.fatalf("restart %d came %v after the previous start, want ≥ %v (plus Envoy's 300 ms life)", i+1, gap, min)
				}
			}
			// Between the runs, /status reports the exit and is not HEALTHY.
			reported := false
			for _, s := range seen {
				reported = reported || (s.EnvoyExitCode == strconv.Itoa(tc.wantCode) && s.HealthStatus == api.Unhealthy &&
					strings.HasPrefix(s.HealthCheckError, "Envoy is not running"))
			}
			if !reported {
				a.fatalf("/status never reported Envoy down with exit code %d: %+v", tc.wantCode, seen)
			}
		})
	}
}

// TestStatusFollowsOurEnvoyOnly (issue 7, defect 1): another process answers LIVE on Envoy's
// admin address while the agent's Envoy cannot bind it and crash-loops: /status is never
// HEALTHY and the readiness probe fails.
func TestStatusFollowsOurEnvoyOnly(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "APPNET_ENVOY_RESTART_COUNT=10")
	a.withAPI()
	// The impostor: a stand-in of its own on the same admin port, started first.
	impostor := newAgent(t)
	impostor.port = a.port
	impostor.setenv("ENVOY_ADMIN_ACCESS_PORT=" + strconv.Itoa(a.port))
	impostor.start()
	impostor.waitEnvoyUp(1)

	a.start()
	time.Sleep(500 * time.Millisecond)
	stop := a.watchStatus()
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		if code, _, _ := a.probe("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S=0"); code != 1 {
			a.fatalf("the readiness probe exited %d while our Envoy crash-loops, want 1", code)
		}
	}
	seen := stop()
	if len(seen) == 0 {
		a.fatalf("no /status answers")
	}
	explained := false
	for _, s := range seen {
		if s.HealthStatus == api.Healthy {
			a.fatalf("HEALTHY while another process answers on Envoy's admin port: %+v", s)
		}
		explained = explained || strings.Contains(s.HealthCheckError, "another process") || strings.Contains(s.HealthCheckError, "not running")
	}
	if !explained {
		a.fatalf("healthCheckError never says why: %+v", seen[len(seen)-1])
	}
}

// TestEnvoyBehindAWrapper (issue 16, item 4): APPNET_ENVOY_PATH is a wrapper script that
// starts Envoy as its child (no exec), so the admin listener is held by a process below the
// one the agent started. That Envoy is trusted: /status turns HEALTHY, the readiness probe
// succeeds, and the agent says why it trusts it.
func TestEnvoyBehindAWrapper(t *testing.T) {
	t.Parallel()
	a := newAgent(t)
	wrapper := writeFile(t, a.dir, "envoy-wrapper.sh", "#!/bin/sh\n\"$STANDIN\" \"$@\"\necho wrapper done\n", 0o755)
	a.setenv("APPNET_ENVOY_PATH="+wrapper, "STANDIN="+standinBin)
	a.withAPI()
	a.start()
	up := a.waitEnvoyUp(1)
	s := a.waitStatus("HEALTHY", 20*time.Second, func(s api.Status) bool { return s.HealthStatus == api.Healthy })
	if s.EnvoyPid == strconv.Itoa(up.Pid) {
		a.fatalf("envoyPid %s is Envoy's own pid: the wrapper exec'ed, so nothing is tested", s.EnvoyPid)
	}
	if code, out, _ := a.probe("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S=0"); code != 0 {
		a.fatalf("the readiness probe exited %d, want 0:\n%s", code, out)
	}
	if !strings.Contains(a.stderr(), "admin_pid="+strconv.Itoa(up.Pid)) {
		a.fatalf("the agent does not say that Envoy (pid %d) below the wrapper serves the admin API", up.Pid)
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestEnvoyNeverLive: an Envoy stuck INITIALIZING keeps /status UNHEALTHY, fails the probe,
// and still shuts down cleanly.
func TestEnvoyNeverLive(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "STANDIN_READY_SEQUENCE=INITIALIZING")
	a.withAPI()
	a.start()
	a.waitEnvoyUp(1)
	s := a.waitStatus("INITIALIZING", 10*time.Second, func(s api.Status) bool { return s.EnvoyState == "INITIALIZING" })
	if s.HealthStatus != api.Unhealthy || s.EnvoyReadinessState != api.NotInitialized {
		a.fatalf("%+v", s)
	}
	if code, _, _ := a.probe("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S=1", "APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S=2"); code != 1 {
		a.fatalf("probe exit %d, want 1", code)
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestBrokenAdminAPI: an Envoy admin API that hangs, resets connections, answers garbage,
// huge bodies or drips: /status says UNHEALTHY with the reason, every endpoint answers an
// error within bounded time, memory stays bounded, and a shutdown still ends cleanly.
func TestBrokenAdminAPI(t *testing.T) {
	t.Parallel()
	all := "/ready,/stats,/drain_listeners,/logging,/healthcheck/fail"
	for _, tc := range []struct {
		name, env, reason string
		// passThrough: the unfiltered scrape streams Envoy's body unchanged (H5), so
		// garbage or a huge body reaches the client as a 200; otherwise it is a 500.
		passThrough bool
		// mutationsOK: Envoy answers the mutations 200 (with garbage): Envoy did them, and
		// the agent passes its answer on.
		mutationsOK bool
		// within bounds each answer (default 30 s).
		within time.Duration
	}{
		{"hangs", "STANDIN_DELAY=60s", "deadline exceeded", false, false, 0},
		{"resets", "STANDIN_RESET_PATHS=" + all, "connection reset", false, false, 0},
		{"garbage", "STANDIN_GARBAGE=1", "unexpected response body", true, true, 0},
		{"huge bodies", "STANDIN_HUGE_PATHS=/ready:104857600,/stats:104857600,/drain_listeners:104857600,/logging:104857600", "body larger than", true, false, 0},
		{"drips", "STANDIN_DRIP_PATHS=/ready:10s,/stats:10s,/drain_listeners:10s,/logging:10s", "deadline exceeded", false, false, 0},
		// Issue 16, item 11: a line every 2 s (within the 5 s per-read timeout), then silence
		// from 20 s on: the scrapes get their 500 at the 10 s decision (they used to get an
		// empty reply after 25 s).
		{"drips, then stalls", "STANDIN_DRIP_PATHS=/ready:2s,/stats:2s,/drain_listeners:2s,/logging:2s STANDIN_DRIP_STALL_AFTER=20s",
			"deadline exceeded", false, false, 16 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.within == 0 {
				tc.within = 30 * time.Second
			}
			a := newAgent(t, "LISTENER_DRAIN_WAIT_TIME_S=5", "ENABLE_STATS_SNAPSHOT=true")
			a.setenv(strings.Fields(tc.env)...)
			a.withAPI()
			a.start()
			a.waitEnvoyUp(1)
			s := a.waitStatus("a poll failing with "+tc.reason, 20*time.Second, func(s api.Status) bool {
				return strings.Contains(s.HealthCheckError, tc.reason)
			})
			if s.HealthStatus != api.Unhealthy {
				a.fatalf("/status %+v, want UNHEALTHY with %q", s, tc.reason)
			}
			unfiltered := struct{ method, path, prefix string }{"GET", "/stats/prometheus", "Failed to fetch stats from Envoy:"}
			if tc.passThrough {
				if code, _ := a.slowGet(unfiltered.method, unfiltered.path); code != 200 {
					a.fatalf("unfiltered scrape: %d, want Envoy's body passed through", code)
				}
				unfiltered.path = "" // checked
			}
			calls := []struct{ method, path, prefix string }{
				unfiltered,
				{"GET", "/stats/prometheus?usedonly&filter=metrics_extension", ""},
				{"GET", "/stats/prometheus?usedonly&filter=metrics_extension&delta", ""},
				{"POST", "/drain_listeners?inboundonly", "Unable to drain Envoy listeners"},
				{"POST", "/enableLogging?level=debug", "Unable to set logging level to [debug]"},
			}
			problems := make(chan string, len(calls))
			var wg sync.WaitGroup
			for _, call := range calls { // at once: each waits out the agent's own bounds
				if call.path == "" {
					continue
				}
				wg.Go(func() {
					start := time.Now()
					code, body := a.slowGet(call.method, call.path)
					d := time.Since(start)
					switch {
					case tc.mutationsOK && call.method == "POST":
						if code != 200 {
							problems <- fmt.Sprintf("%s %s: %d %.200q, want Envoy's 200 passed on", call.method, call.path, code, body)
						}
					case code != 500 || !strings.HasPrefix(body, call.prefix) || d > tc.within:
						problems <- fmt.Sprintf("%s %s: %d %.200q after %v, want a 500 starting %q", call.method, call.path, code, body, d, call.prefix)
					}
				})
			}
			wg.Wait()
			close(problems)
			for p := range problems {
				a.fatalf("%s", p)
			}
			if rss := peakRSS(a.cmd.Process.Pid); rss > 120<<20 {
				a.fatalf("agent peak RSS %d MiB", rss>>20)
			} else {
				t.Logf("agent peak RSS %d MiB", rss>>20)
			}
			if s, ok := a.tryStatus(); !ok || s.HealthStatus != api.Unhealthy {
				a.fatalf("/status after the calls: %+v %v", s, ok)
			}
			a.signal(syscall.SIGTERM)
			if code := a.wait(40 * time.Second); code != 0 {
				a.fatalf("exit code %d after SIGTERM, want 0", code)
			}
			for _, pid := range a.ownedPids() {
				a.fatalf("process %d still running after the agent exited", pid)
			}
		})
	}
}

// TestStraysAreKilled (issue 7, defect 11): a grandchild of Envoy that left Envoy's process
// group with setsid does not outlive Envoy, whether Envoy crashes or the agent stops it.
func TestStraysAreKilled(t *testing.T) {
	t.Parallel()
	for _, crash := range []bool{false, true} {
		name := "agent stops"
		if crash {
			name = "Envoy crashes"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, "STANDIN_SPAWN_ORPHAN=10m", "STANDIN_ORPHAN_SETSID=1", "APPNET_ENVOY_RESTART_COUNT=0")
			a.start()
			ev := a.waitEvent("the orphan", 1, 20*time.Second, isEvent("orphan"))
			if !a.owns(ev.ChildPid) {
				a.fatalf("the orphan %d is not running", ev.ChildPid)
			}
			if crash {
				if err := syscall.Kill(ev.Pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			} else {
				a.signal(syscall.SIGTERM)
			}
			a.wait(30 * time.Second)
			if !testenv.Poll(5*time.Second, func() bool { return !a.owns(ev.ChildPid) }) {
				a.fatalf("Envoy's setsid grandchild %d outlived it", ev.ChildPid)
			}
			if !strings.Contains(a.stderr(), "Killed processes Envoy left behind outside its process group count=1") {
				a.fatalf("the kill is not logged")
			}
		})
	}
}
