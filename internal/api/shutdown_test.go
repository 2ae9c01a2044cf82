package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/mgmtclient"
	"github.com/appnet/appnet-agent/internal/supervise"
)

// shutdownRecorder stands in for the supervisor's RequestShutdown.
type shutdownRecorder struct {
	mu     sync.Mutex
	causes []string
}

func (r *shutdownRecorder) request(cause string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.causes = append(r.causes, cause)
	return len(r.causes) == 1
}

func shutdownService(t *testing.T, f *fakeEnvoy, rec *shutdownRecorder, mod func(*testConfig)) http.Handler {
	t.Helper()
	c := testConfig{adminMode: "tcp"}
	if mod != nil {
		mod(&c)
	}
	var request func(string) bool
	if rec != nil {
		request = rec.request
	}
	svc := New(Options{Config: c.env(), Admin: adminFor(t, f.srv), Logger: hclog.NewNullLogger(), RequestShutdown: request})
	return svc.Handler()
}

// TestShutdownEndpoint: POST /shutdown and POST /quitquitquit start the agent's graceful
// shutdown, once; other methods, a body, and remote TCP clients are refused; Envoy is not
// called (the supervisor drains it).
func TestShutdownEndpoint(t *testing.T) {
	f := newFakeEnvoy(t)
	rec := &shutdownRecorder{}
	h := shutdownService(t, f, rec, nil)
	for _, tc := range []struct {
		method, target, remote string
		code                   int
		body                   string
	}{
		{"GET", "/shutdown", local, 405, "Invalid method [GET] in request; /shutdown takes POST\n"},
		{"POST", "/shutdown", "192.0.2.7:5555", 403, "/shutdown is only allowed from loopback clients; set APPNET_AGENT_ALLOW_REMOTE_ADMIN=true to allow remote clients\n"},
		{"POST", "/quitquitquit", "[2001:db8::1]:5555", 403, "/quitquitquit is only allowed from loopback clients"},
		{"POST", "/shutdown", local, 200, "OK: graceful shutdown started; the agent exits once Envoy has stopped\n"},
		{"POST", "/quitquitquit", "[::1]:5555", 200, "OK: the graceful shutdown is under way already\n"},
		{"POST", "/shutdown?now", local, 200, "OK: the graceful shutdown is under way already\n"},
	} {
		code, body, hdr := do(h, tc.method, tc.target, tc.remote)
		if code != tc.code || !strings.HasPrefix(body, tc.body) {
			t.Errorf("%s %s from %s: %d %q, want %d %q", tc.method, tc.target, tc.remote, code, body, tc.code, tc.body)
		}
		if code == 405 && hdr.Get("Allow") != "POST" {
			t.Errorf("405 without Allow: POST")
		}
	}
	if strings.Join(rec.causes, "|") != "POST /shutdown|POST /quitquitquit|POST /shutdown" {
		t.Errorf("requests %q", rec.causes)
	}
	if n := len(f.callList()); n != 0 {
		t.Errorf("Envoy was called: %v", f.callList())
	}
	req, _ := http.NewRequest("POST", "/shutdown", strings.NewReader("now"))
	req.RemoteAddr = local
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	if code, body := rr.Code, rr.Body.String(); code != 400 || !strings.Contains(body, "Body size [3]") {
		t.Errorf("with a body: %d %q", code, body)
	}
	if code, _, _ := do(shutdownService(t, f, nil, nil), "POST", "/shutdown", local); code != 503 {
		t.Errorf("without a supervisor: %d, want 503", code)
	}
	if code, _, _ := do(shutdownService(t, f, &shutdownRecorder{}, func(c *testConfig) { c.allowRemote = true }), "POST", "/shutdown", "192.0.2.7:5555"); code != 200 {
		t.Errorf("remote with APPNET_AGENT_ALLOW_REMOTE_ADMIN: %d", code)
	}
}

// TestShutdownOverTheSocket: over the Unix socket anyone who may connect may ask, and the
// shared client sees the answer; /metrics counts the requests under their paths.
func TestShutdownOverTheSocket(t *testing.T) {
	f := newFakeEnvoy(t)
	sock := filepath.Join(t.TempDir(), "a.sock")
	rec := &shutdownRecorder{}
	c := testConfig{adminMode: "uds", udsPath: sock}
	cfg := c.env()
	svc := New(Options{Config: cfg, Admin: adminFor(t, f.srv), Logger: hclog.NewNullLogger(), RequestShutdown: rec.request})
	if err := svc.Listen(); err != nil {
		t.Fatal(err)
	}
	svc.Start()
	t.Cleanup(svc.Stop)
	client, err := mgmtclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if client.Address() != "unix socket "+sock {
		t.Errorf("address %q", client.Address())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := RequestShutdown(ctx, client); err != nil || len(rec.causes) != 1 {
		t.Fatalf("Shutdown = %v, requests %q", err, rec.causes)
	}
	fams := scrape(t, svc.Handler())
	expectValue(t, fams, 1, "appnet_agent_http_requests_total", "code", "200", "endpoint", "/shutdown")
	// A client that gets a refusal reports it.
	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRunning})
	st, err := FetchStatus(ctx, client)
	if err != nil || st.AgentUptime == "" {
		t.Errorf("Status = %+v, %v", st, err)
	}
}

// TestShutdownWithoutAgent: when nothing listens, the error is the connection's.
func TestShutdownWithoutAgent(t *testing.T) {
	cfg := testConfig{adminMode: "uds", udsPath: filepath.Join(t.TempDir(), "none.sock")}.env()
	c, err := mgmtclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := RequestShutdown(context.Background(), c); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("no agent: %v", err)
	}
}

// TestAppWaitAndOOMReported: the wait for the application is a drain phase of its own in
// /status and /metrics (and not healthy), and an OOM kill is counted and explained.
func TestAppWaitAndOOMReported(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newMetricsService(t, f, false)
	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRunning, PID: 42, Running: true, Starts: 2, Restarts: 1,
		Exited: true, LastExitCode: 137, LastExitSignal: 9, LastExitReason: "killed by the kernel's OOM killer (limit 536870912 bytes)", OOMKills: 1})
	fams := scrape(t, svc.Handler())
	expectValue(t, fams, 1, "appnet_agent_envoy_oom_kills_total")
	if st := svc.Health().Status(); st.LastExitReason != "killed by the kernel's OOM killer (limit 536870912 bytes)" || st.EnvoyExitCode != "137" {
		t.Errorf("status %+v", st)
	}
	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseWaitingForApp, PID: 43, Running: true, Starts: 2, Restarts: 1, OOMKills: 1})
	fams = scrape(t, svc.Handler())
	expectValue(t, fams, 1, "appnet_agent_drain_phase", "phase", "waiting_for_app_exit")
	expectValue(t, fams, 0, "appnet_agent_drain_phase", "phase", "draining")
	expectValue(t, fams, 0, "appnet_agent_healthy")
	if st := svc.Health().Status(); st.DrainPhase != DrainPhaseAppWait || st.HealthStatus == Healthy {
		t.Errorf("status while waiting for the application: %+v", st)
	}
}
