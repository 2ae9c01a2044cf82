package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/supervise"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// runHealth runs a poller against f until the test ends.
func runHealth(t *testing.T, f *fakeEnvoy, mod func(o *HealthOptions)) *Health {
	t.Helper()
	admin := adminFor(t, f.srv).With(200*time.Millisecond, 1)
	o := HealthOptions{Admin: admin, Interval: time.Hour, Fast: 10 * time.Millisecond, DisconnectedTimeout: time.Hour}
	if mod != nil {
		mod(&o)
	}
	h := NewHealth(o)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { h.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return h
}

func started(pid, starts int) supervise.Snapshot {
	return supervise.Snapshot{Phase: supervise.PhaseRunning, PID: pid, Running: true, Starts: starts, Restarts: starts - 1}
}

func waitStatus(t *testing.T, h *Health, what string, cond func(s Status) bool) Status {
	t.Helper()
	var s Status
	waitFor(t, 3*time.Second, what, func() bool { s = h.Status(); return cond(s) })
	return s
}

func TestHealthBeforeFirstPoll(t *testing.T) {
	f := newFakeEnvoy(t)
	h := runHealth(t, f, nil)
	time.Sleep(30 * time.Millisecond)
	s := h.Status()
	if s.HealthStatus != "" || s.EnvoyState != "" || s.EnvoyPid != "" || s.EnvoyReadinessState != NotInitialized || f.count("GET /ready") != 0 {
		t.Errorf("polled before Envoy started: %+v, calls %v", s, f.callList())
	}
}

func TestHealthLifecycle(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.readyBody = "PRE_INITIALIZING\n" })
	h := runHealth(t, f, nil)
	h.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseStarting})
	h.EnvoyChanged(started(42, 1))
	s := waitStatus(t, h, "a first poll", func(s Status) bool { return s.EnvoyState != "" })
	if s.HealthStatus != Unhealthy || s.EnvoyState != "PRE_INITIALIZING" || s.EnvoyReadinessState != NotInitialized ||
		s.InitialConfigUpdateStatus != "" || s.EnvoyPid != "42" || s.EnvoyRestartCount != "0" {
		t.Fatalf("not live: %+v", s)
	}
	// Envoy turns LIVE (with untidy whitespace): the fast polls notice at once.
	f.set(func(f *fakeEnvoy) { f.readyBody, f.readyCode = "  LIVE \n", 200 })
	s = waitStatus(t, h, "HEALTHY", func(s Status) bool { return s.HealthStatus == Healthy })
	want := Status{HealthStatus: Healthy, AgentUptime: s.AgentUptime, EnvoyPid: "42", EnvoyState: Live,
		EnvoyRestartCount: "0", ManagementServerConnectionStatus: Connected, EnvoyReadinessState: Initialized,
		InitialConfigUpdateStatus: UpdateSuccessful}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("healthy: %+v\nwant %+v", s, want)
	}
	// Envoy is killed: /status says so at once, with the exit, and the last pid.
	f.srv.Close()
	h.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRestarting, Starts: 1, Exited: true,
		LastExitCode: 137, LastExitReason: "killed by signal 9 (killed)", LastExit: time.Now()})
	s = waitStatus(t, h, "UNREACHABLE", func(s Status) bool { return s.EnvoyState == Unreachable })
	if s.HealthStatus != Unhealthy || s.EnvoyExitCode != "137" || s.LastExitReason != "killed by signal 9 (killed)" ||
		s.EnvoyPid != "42" || s.ManagementServerConnectionStatus != Connected || s.HealthCheckError == "" {
		t.Errorf("after the exit: %+v", s)
	}
}

func TestHealthDisconnection(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.connected = 0 })
	clock := &fakeClock{t: time.Date(2026, 11, 25, 21, 49, 31, 0, time.UTC)}
	h := runHealth(t, f, func(o *HealthOptions) { o.Now = clock.now; o.Interval = 10 * time.Millisecond })
	h.EnvoyChanged(started(7, 1))
	s := waitStatus(t, h, "NOT_CONNECTED", func(s Status) bool { return s.ManagementServerConnectionStatus == NotConnected })
	if s.HealthStatus != Healthy || s.ManagementServerDisconnectedTimestamp == nil ||
		!s.ManagementServerDisconnectedTimestamp.Equal(clock.now()) {
		t.Fatalf("within the timeout: %+v", s)
	}
	first := *s.ManagementServerDisconnectedTimestamp
	clock.add(59 * time.Minute)
	time.Sleep(50 * time.Millisecond) // more polls: the clock must not restart
	if s := h.Status(); s.HealthStatus != Healthy || !s.ManagementServerDisconnectedTimestamp.Equal(first) {
		t.Fatalf("59 minutes later: %+v", s)
	}
	clock.add(time.Minute)
	if s := h.Status(); s.HealthStatus != Unhealthy {
		t.Fatalf("after HC_DISCONNECTED_TIMEOUT_S: %+v", s)
	}
	f.set(func(f *fakeEnvoy) { f.connected = 1 })
	s = waitStatus(t, h, "CONNECTED", func(s Status) bool { return s.ManagementServerConnectionStatus == Connected })
	if s.ManagementServerDisconnectedTimestamp != nil || s.HealthStatus != Healthy {
		t.Errorf("reconnected: %+v", s)
	}
	// A missing stat counts as not connected, as in the reference.
	f.set(func(f *fakeEnvoy) { f.connected = -1 })
	waitStatus(t, h, "NOT_CONNECTED again", func(s Status) bool { return s.ManagementServerConnectionStatus == NotConnected })
}

func TestHealthRelayIgnoresControlPlane(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.connected = 0 })
	h := runHealth(t, f, func(o *HealthOptions) { o.Relay = true; o.DisconnectedTimeout = time.Nanosecond })
	h.EnvoyChanged(started(7, 1))
	s := waitStatus(t, h, "a LIVE poll", func(s Status) bool { return s.EnvoyState == Live })
	if s.HealthStatus != Healthy || s.ManagementServerConnectionStatus != "" || s.ManagementServerDisconnectedTimestamp != nil {
		t.Errorf("relay: %+v", s)
	}
}

func TestHealthUpdateFailed(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.listenerFailure = 1 })
	h := runHealth(t, f, nil)
	h.EnvoyChanged(started(7, 1))
	s := waitStatus(t, h, "UPDATE_FAILED", func(s Status) bool { return s.InitialConfigUpdateStatus != "" })
	if s.InitialConfigUpdateStatus != UpdateFailed || s.HealthStatus != Unhealthy || s.EnvoyReadinessState != Initialized {
		t.Fatalf("failed listener: %+v", s)
	}
	// A restarted Envoy whose listeners load is judged afresh.
	f.set(func(f *fakeEnvoy) { f.listenerFailure = 0 })
	h.EnvoyChanged(started(8, 2))
	s = waitStatus(t, h, "UPDATE_SUCCESSFUL", func(s Status) bool { return s.InitialConfigUpdateStatus == UpdateSuccessful })
	if s.HealthStatus != Healthy || s.EnvoyPid != "8" || s.EnvoyRestartCount != "1" {
		t.Errorf("after the restart: %+v", s)
	}
	if !strings.Contains(strings.Join(f.callList(), "\n"), "filter=%5E%28control_plane%5C.connected_state%7Clistener_manager%5C.listener_create_failure%29%24") {
		t.Errorf("the stats query does not ask for listener_create_failure: %v", f.callList())
	}
}

// TestHealthStatsFailWhileLive: the reference crashed when Envoy was LIVE and its
// stats never answered. Here Envoy is simply not known to be healthy. An answer that is not
// the stats counts as not connected, as in the reference (tolerated for
// HC_DISCONNECTED_TIMEOUT_S).
func TestHealthStatsFailWhileLive(t *testing.T) {
	for name, tc := range map[string]struct {
		script     func(f *fakeEnvoy)
		health     string
		connection string
	}{
		"slow":    {func(f *fakeEnvoy) { f.delay["/stats"] = time.Second }, Unhealthy, ""},
		"status":  {func(f *fakeEnvoy) { f.status["/stats"] = 500 }, Healthy, NotConnected},
		"garbage": {func(f *fakeEnvoy) { f.garbage = true }, Unhealthy, NotConnected},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeEnvoy(t)
			f.set(tc.script)
			h := runHealth(t, f, nil)
			h.EnvoyChanged(started(7, 1))
			s := waitStatus(t, h, "a poll", func(s Status) bool { return s.EnvoyState != "" })
			if s.HealthStatus != tc.health || s.ManagementServerConnectionStatus != tc.connection || s.HealthCheckError == "" {
				t.Errorf("%+v", s)
			}
		})
	}
}

func TestHealthSchedule(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.readyBody = "INITIALIZING\n" })
	h := runHealth(t, f, func(o *HealthOptions) { o.Fast = 20 * time.Millisecond; o.Interval = time.Hour })
	h.EnvoyChanged(started(7, 1))
	time.Sleep(200 * time.Millisecond)
	if n := f.count("GET /ready"); n < 4 {
		t.Fatalf("only %d polls in 200 ms before LIVE (fast period 20 ms)", n)
	}
	f.set(func(f *fakeEnvoy) { f.readyBody = "LIVE\n" })
	waitStatus(t, h, "LIVE", func(s Status) bool { return s.EnvoyState == Live })
	n := f.count("GET /ready")
	time.Sleep(200 * time.Millisecond)
	if m := f.count("GET /ready"); m != n {
		t.Errorf("%d polls after LIVE with a one-hour period", m-n)
	}
	// An exit or start polls at once.
	h.EnvoyChanged(started(8, 2))
	waitFor(t, time.Second, "a poll on start", func() bool { return f.count("GET /ready") > n })
}

func TestHealthDrainPhase(t *testing.T) {
	f := newFakeEnvoy(t)
	h := runHealth(t, f, nil)
	h.EnvoyChanged(started(7, 1))
	if s := h.Status(); s.DrainPhase != "" {
		t.Fatalf("drain phase while running: %q", s.DrainPhase)
	}
	for _, tc := range []struct {
		phase supervise.Phase
		want  string
	}{{supervise.PhaseDraining, DrainPhaseDrain}, {supervise.PhaseStopping, DrainPhaseStop}, {supervise.PhaseStopped, DrainPhaseStopped}} {
		phase, want := tc.phase, tc.want
		snap := started(7, 1)
		snap.Phase = phase
		h.EnvoyChanged(snap)
		if s := h.Status(); s.DrainPhase != want {
			t.Errorf("%s: drainPhase %q, want %q", phase, s.DrainPhase, want)
		}
	}
}

func TestStatusFieldOrder(t *testing.T) {
	ts := time.Date(2026, 11, 25, 21, 49, 31, 123456789, time.UTC)
	s := Status{"HEALTHY", "7300s", "13", "LIVE", "0", "NOT_CONNECTED", &ts, "INITIALIZED", "UPDATE_SUCCESSFUL",
		"137", "killed by signal 9 (killed)", "DRAINING", "boom", 2}
	b, _ := json.Marshal(s)
	want := []string{"healthStatus", "agentUptime", "envoyPid", "envoyState", "envoyRestartCount",
		"managementServerConnectionStatus", "managementServerDisconnectedTimestamp", "envoyReadinessState",
		"initialConfigUpdateStatus", "envoyExitCode", "lastExitReason", "drainPhase", "healthCheckError", "bootstrapProblems"}
	if got := testenv.JSONKeys(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v\nwant %v", got, want)
	}
	if !strings.Contains(string(b), `"managementServerDisconnectedTimestamp":"2026-11-25T21:49:31.123456789Z"`) {
		t.Errorf("timestamp format: %s", b)
	}
}

func TestStatusHandler(t *testing.T) {
	f := newFakeEnvoy(t)
	h := runHealth(t, f, nil)
	rec := httptest.NewRecorder()
	statusHandler{h}.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/status?x=1", nil))
	body := rec.Body.Bytes()
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	want := []string{"healthStatus", "agentUptime", "envoyPid", "envoyState", "envoyRestartCount", "envoyReadinessState"}
	if got := testenv.JSONKeys(t, body); !reflect.DeepEqual(got, want) {
		t.Errorf("before the first poll: keys %v, want %v", got, want)
	}
	if !strings.HasPrefix(string(body), "{\n  \"healthStatus\": \"\",\n") || strings.HasSuffix(string(body), "\n") {
		t.Errorf("not 2-space indented without a trailing newline: %q", body)
	}
}
