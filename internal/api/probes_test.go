package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/supervise"
)

// /ready follows /status: 503 with the reason until HEALTHY, 200 then, 503 again once the
// agent shuts down or Envoy goes. Other methods are refused.
func TestReadyProbe(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.readyBody = "INITIALIZING\n" })
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	url := "http://" + svc.Addr().String() + PathReady
	expect := func(code int, reason string) {
		t.Helper()
		var last string
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, body, _ := httpDo(t, "GET", url)
			if c == code && strings.Contains(body, reason) {
				return
			}
			if last = fmt.Sprint(c, " ", body); time.Now().After(deadline) {
				t.Fatalf("waiting for %d %q; last answer %s", code, reason, last)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	expect(503, "not ready: Envoy's health was not checked yet")
	// This process serves the fake Envoy's admin listener, as Envoy would.
	start := supervise.Snapshot{Phase: supervise.PhaseRunning, Running: true, PID: os.Getpid(), Starts: 1, RestartsLeft: 3}
	svc.EnvoyChanged(start)
	expect(503, "not ready: Envoy is INITIALIZING")
	f.set(func(f *fakeEnvoy) { f.readyBody = "LIVE\n" })
	svc.Health().Poll()
	expect(200, "ready: Envoy is LIVE and HEALTHY")
	if c, _, h := httpDo(t, "POST", url); c != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /ready: %d, Allow %q", c, h.Get("Allow"))
	}
	if c, _, _ := httpDo(t, "HEAD", url); c != 200 {
		t.Errorf("HEAD /ready: %d", c)
	}
	drain := start
	drain.Phase = supervise.PhaseDraining
	svc.EnvoyChanged(drain)
	expect(503, "not ready: the agent is shutting down (drainPhase DRAINING)")
}

// /live is 200 while Envoy starts, runs, is restarted within budget or drained; 503 once it
// exited with no restarts left, or stopped.
func TestLiveProbe(t *testing.T) {
	for _, tc := range []struct {
		name string
		sup  supervise.Snapshot
		code int
		want string
	}{
		{"before the first start", supervise.Snapshot{Phase: supervise.PhaseStarting, RestartsLeft: 3}, 200, "live: Envoy is starting"},
		{"running", supervise.Snapshot{Phase: supervise.PhaseRunning, Running: true, PID: 7, Starts: 1, RestartsLeft: 3}, 200, "live: Envoy is running (pid 7)"},
		{"restarting", supervise.Snapshot{Phase: supervise.PhaseRestarting, Starts: 1, Exited: true, LastExitReason: "exited with code 1", RestartsLeft: 2},
			200, "live: Envoy exited with code 1 and is being restarted (2 restarts left)"},
		{"draining", supervise.Snapshot{Phase: supervise.PhaseDraining, Running: false, Starts: 1, Exited: true}, 200, "live: the agent is shutting down Envoy (draining)"},
		{"budget spent", supervise.Snapshot{Phase: supervise.PhaseRestarting, Starts: 4, Exited: true, LastExitReason: "killed by signal 9 (killed)"},
			503, "not live: Envoy killed by signal 9 (killed) and no restarts are left (APPNET_ENVOY_RESTART_COUNT)"},
		{"stopped", supervise.Snapshot{Phase: supervise.PhaseStopped, Starts: 1, Exited: true}, 503, "not live: Envoy has stopped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEnvoy(t)
			svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
			svc.EnvoyChanged(tc.sup)
			code, body, _ := httpDo(t, "GET", "http://"+svc.Addr().String()+PathLive)
			if code != tc.code || !strings.HasPrefix(body, tc.want) {
				t.Errorf("got %d %q, want %d %q", code, body, tc.code, tc.want)
			}
		})
	}
}

// The read-only listener serves what changes nothing and refuses every mutating endpoint,
// whatever the method, without Envoy seeing a mutation; the management API, on its Unix
// socket, keeps them.
func TestScrapeListenerIsReadOnly(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) {
		f.pages = map[string]string{"/server_info": `{}`, "/config_dump": `{"configs":[]}`}
	})
	sock := t.TempDir() + "/api.sock"
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "uds"; c.udsPath = sock; c.scrape = true })
	base := "http://" + svc.ScrapeAddr().String()
	for _, p := range []string{PathStatus, PathReady, PathLive, PathMetrics, PathStats, "/envoy/server_info", "/envoy/config_dump"} {
		if code, body, _ := httpDo(t, "GET", base+p); code != 200 && !(p == PathReady && code == 503) {
			t.Errorf("GET %s on the scrape listener: %d %q", p, code, body)
		}
	}
	// Every mutating endpoint of the management API, today's and issue 20's, and the Envoy
	// admin pages that mutate, whichever method.
	mutating := []string{PathEnableLogging + "?level=debug", PathDrain + "?graceful", "/shutdown", "/quitquitquit",
		"/enableLogging", "//drain_listeners?inboundonly", "/status/../drain_listeners?graceful", "/logging?level=debug",
		"/healthcheck/fail", "/runtime_modify?x=1", "/reset_counters", "/cpuprofiler?enable=y", "/heapprofiler?enable=y"}
	for _, p := range mutating {
		for _, m := range []string{"POST", "GET", "PUT", "DELETE"} {
			code, body, _ := httpDo(t, m, base+p)
			if code != http.StatusForbidden || !strings.Contains(body, "read-only listener") {
				t.Errorf("%s %s on the scrape listener: %d %q, want 403", m, p, code, body)
			}
		}
	}
	for _, c := range f.callList() {
		if !strings.HasPrefix(c, "GET ") {
			t.Errorf("Envoy saw a mutation through the scrape listener: %s", c)
		}
	}
	// The same endpoints stay on the management API's socket.
	client := &http.Client{Transport: &http.Transport{DialContext: unixDialer(sock)}}
	defer client.CloseIdleConnections()
	res, err := client.Post("http://agent"+PathEnableLogging+"?level=debug", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("POST /enableLogging on the socket: %d", res.StatusCode)
	}
}

func unixDialer(path string) func(ctx context.Context, _, _ string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
}

// The scrape listener works without the management API.
func TestScrapeListenerAlone(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.scrape = true })
	if svc.Addr() != nil || svc.ScrapeAddr() == nil {
		t.Fatalf("management API %v, scrape listener %v", svc.Addr(), svc.ScrapeAddr())
	}
	if code, body, _ := httpDo(t, "GET", "http://"+svc.ScrapeAddr().String()+PathStatus); code != 200 {
		t.Errorf("/status: %d %s", code, body)
	}
	if code, _, _ := httpDo(t, "POST", "http://"+svc.ScrapeAddr().String()+PathDrain+"?graceful"); code != 403 {
		t.Errorf("/drain_listeners: %d", code)
	}
}
