package api

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/env"
)

// probeConfig points the probe at a management API (TCP port or socket path).
func probeConfig(mode string, port uint16, path string, interval, timeout time.Duration) *env.Config {
	cfg := testConfig{adminMode: mode, udsPath: path}.env()
	cfg.API.HTTPPort = port
	cfg.API.HTTPBindAddress = "::"
	cfg.Readiness.Interval, cfg.Readiness.Timeout = interval, timeout
	return cfg
}

func probe(t *testing.T, cfg *env.Config) (int, string, time.Duration) {
	t.Helper()
	var logs logBuffer
	start := time.Now()
	code := PollReadiness(context.Background(), cfg, logs.logger())
	return code, logs.String(), time.Since(start)
}

func tcpPort(addr net.Addr) uint16 { return uint16(addr.(*net.TCPAddr).Port) }

func TestReadinessTCPAndUDS(t *testing.T) {
	f := newFakeEnvoy(t)
	tcp := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	sock := filepath.Join(t.TempDir(), "a.sock")
	uds := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "uds"; c.udsPath = sock })
	for _, svc := range []*Service{tcp, uds} {
		svc.Health().EnvoyChanged(started(os.Getpid(), 1)) // the fake Envoy is this process
	}
	// Polling until HEALTHY: the first poll answers.
	for name, cfg := range map[string]*env.Config{
		"tcp": probeConfig("tcp", tcpPort(tcp.Addr()), "", time.Second, 10*time.Second),
		"uds": probeConfig("uds", 0, sock, time.Second, 10*time.Second),
	} {
		if code, logs, d := probe(t, cfg); code != 0 || d > 5*time.Second {
			t.Errorf("%s: exit %d after %v: %s", name, code, d, logs)
		}
	}
	// A single check (interval 0) when already healthy.
	if code, logs, _ := probe(t, probeConfig("tcp", tcpPort(tcp.Addr()), "", 0, 10*time.Second)); code != 0 {
		t.Errorf("single check: %d %s", code, logs)
	}
}

func TestReadinessUnhealthy(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.readyBody = "INITIALIZING\n" })
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	svc.Health().EnvoyChanged(started(os.Getpid(), 1)) // the fake Envoy is this process
	port := tcpPort(svc.Addr())
	code, logs, d := probe(t, probeConfig("tcp", port, "", 100*time.Millisecond, 500*time.Millisecond))
	if code != 1 || d < 400*time.Millisecond || d > 2*time.Second || !strings.Contains(logs, "Timed out after 500ms") ||
		!strings.Contains(logs, `"UNHEALTHY"`) {
		t.Errorf("exit %d after %v: %s", code, d, logs)
	}
	// Interval 0: one check, at once, never a panic (the reference's panicked).
	code, logs, d = probe(t, probeConfig("tcp", port, "", 0, 180*time.Second))
	if code != 1 || d > time.Second {
		t.Errorf("single check: exit %d after %v: %s", code, d, logs)
	}
}

func TestReadinessFailures(t *testing.T) {
	// Nothing listens.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := tcpPort(ln.Addr())
	ln.Close()
	if code, logs, _ := probe(t, probeConfig("tcp", port, "", 0, 0)); code != 1 || !strings.Contains(logs, "refused") {
		t.Errorf("nothing listening: %d %s", code, logs)
	}
	if code, logs, _ := probe(t, probeConfig("uds", 0, filepath.Join(t.TempDir(), "none.sock"), 0, 0)); code != 1 || !strings.Contains(logs, "none.sock") {
		t.Errorf("no socket: %d %s", code, logs)
	}
	cfg := probeConfig("tcp", port, "", 0, 0)
	cfg.API.AdminMode = nil
	if code, logs, _ := probe(t, cfg); code != 1 || !strings.Contains(logs, "APPNET_AGENT_ADMIN_MODE") {
		t.Errorf("no management API: %d %s", code, logs)
	}
	// A server that never answers: each request times out, and so does the probe.
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hung.Close()
	code, logs, d := probe(t, probeConfig("tcp", tcpPort(hung.Listener.Addr()), "", 200*time.Millisecond, 700*time.Millisecond))
	if code != 1 || d > 2*time.Second {
		t.Errorf("hung server: exit %d after %v: %s", code, d, logs)
	}
	// Not JSON, or a 429.
	for _, h := range []http.HandlerFunc{
		func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) },
		func(w http.ResponseWriter, r *http.Request) { tooMany(w) },
	} {
		srv := httptest.NewServer(h)
		if code, _, _ := probe(t, probeConfig("tcp", tcpPort(srv.Listener.Addr()), "", 0, 0)); code != 1 {
			t.Errorf("bad answer: exit %d", code)
		}
		srv.Close()
	}
}

func TestReadinessStopsOnCancel(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.readyBody = "INITIALIZING\n" })
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	code := PollReadiness(ctx, probeConfig("tcp", tcpPort(svc.Addr()), "", time.Second, time.Hour), nil)
	if code != 1 || time.Since(start) > 2*time.Second {
		t.Errorf("exit %d after %v", code, time.Since(start))
	}
}
