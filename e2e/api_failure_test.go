package e2e

// End-to-end tests of failure paths: Envoy admin unreachable, slow, garbage or huge; a port in use. The agent binary is built from the repository
// root and supervises envoy-standin; the tests follow the reference agent's scenarios 8–9 and
// 14–30 as H1–H7 amend them (docs/GLOSSARY.md); see harness_api_test.go.

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
)

// TestE2EFailurePaths: Envoy's admin unreachable, slow, garbage or huge — the API answers
// with a clear error in time, and the agent stays up.
func TestE2EFailurePaths(t *testing.T) {
	t.Parallel()
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		// Envoy binds 127.0.0.2; the agent talks to 127.0.0.1, where nothing listens.
		r := startAgent(t, agentOpts{adminHost: "127.0.0.2"})
		s := r.waitStatus("UNREACHABLE", 5*time.Second, func(s api.Status) bool { return s.EnvoyState == api.Unreachable })
		if s.HealthStatus != api.Unhealthy || !strings.Contains(s.HealthCheckError, "refused") {
			t.Errorf("%+v", s)
		}
		start := time.Now()
		for path, want := range map[string]string{
			"GET /stats/prometheus?usedonly&filter=metrics_extension": "Failed to fetch stats from Envoy:",
			"GET /stats/prometheus":                                   "Failed to fetch stats from Envoy:",
			"POST /enableLogging?level=debug":                         "Unable to set logging level to [debug]",
			"POST /drain_listeners?inboundonly":                       "Unable to drain Envoy listeners",
		} {
			method, p, _ := strings.Cut(path, " ")
			if code, body, _ := r.call(method, p); code != 500 || !strings.HasPrefix(body, want) {
				t.Errorf("%s: %d %q", path, code, body)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("errors took %v", d)
		}
		if r.exited() {
			t.Error("the agent exited")
		}
	})
	t.Run("slow", func(t *testing.T) {
		t.Parallel()
		r := startAgent(t, agentOpts{env: []string{"STANDIN_DELAY=30s"}})
		s := r.waitStatus("a timed-out poll", 6*time.Second, func(s api.Status) bool {
			return strings.Contains(s.HealthCheckError, "deadline exceeded")
		})
		if s.HealthStatus != api.Unhealthy || !strings.Contains(s.HealthCheckError, "deadline exceeded") {
			t.Errorf("%+v", s)
		}
		start := time.Now()
		if code, body, _ := r.call("POST", "/drain_listeners?inboundonly"); code != 500 || body != "Unable to drain Envoy listeners\n" {
			t.Errorf("drain: %d %q", code, body)
		}
		if d := time.Since(start); d > 4*time.Second /* the mutation budget: 4 attempts of 1 s */ +2*time.Second {
			t.Errorf("drain answered after %v", d)
		}
		if code, _, _ := r.call("GET", api.PathStatus); code != 200 || r.exited() {
			t.Error("the agent does not answer any more")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		r := startAgent(t, agentOpts{env: []string{"STANDIN_GARBAGE=1"}})
		s := r.waitStatus("a poll", 5*time.Second, func(s api.Status) bool {
			return strings.Contains(s.HealthCheckError, "unexpected response body")
		})
		if s.HealthStatus != api.Unhealthy || s.EnvoyState != api.Unreachable {
			t.Errorf("%+v", s)
		}
		if code, body, _ := r.call("GET", "/stats/prometheus?usedonly&filter=metrics_extension"); code != 500 ||
			!strings.HasPrefix(body, "error processing prometheus stats: error parsing prometheus stats:") {
			t.Errorf("filtered: %d %q", code, body)
		}
		if r.exited() {
			t.Error("the agent exited")
		}
	})
	t.Run("100MB", func(t *testing.T) {
		t.Parallel()
		prom := filepath.Join(t.TempDir(), "big.prom")
		f, err := os.Create(prom)
		if err != nil {
			t.Fatal(err)
		}
		const size = 100 << 20
		line := []byte("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"c\"} 1\n")
		buf := make([]byte, 0, 1<<20)
		for len(buf)+len(line) <= cap(buf) {
			buf = append(buf, line...)
		}
		for written := 0; written < size; written += len(buf) {
			if _, err := f.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		fi, _ := os.Stat(prom)
		r := startAgent(t, agentOpts{env: []string{"STANDIN_PROM_FILE=" + prom}})
		res, err := r.client.Get(r.base + "/stats/prometheus")
		if err != nil {
			t.Fatal(err)
		}
		n, err := ioCopyDiscard(res)
		if res.StatusCode != 200 || err != nil || n != fi.Size() {
			t.Errorf("unfiltered: %d, %d of %d bytes, %v", res.StatusCode, n, fi.Size(), err)
		}
		if code, body, _ := r.call("GET", "/stats/prometheus?filter=metrics_extension"); code != 500 || !strings.Contains(body, "larger than 64 MiB") {
			t.Errorf("filtered: %d %q", code, tail(body, 200))
		}
		if code, _, _ := r.call("GET", api.PathStatus); code != 200 || r.exited() {
			t.Error("the agent does not answer any more")
		}
		// Streaming, not buffering: the agent never held the body.
		if hwm := peakRSS(r.cmd.Process.Pid); hwm > 80<<20 {
			t.Errorf("agent peak RSS %d MiB after a 100 MiB body", hwm>>20)
		} else {
			t.Logf("agent peak RSS %d MiB", hwm>>20)
		}
	})
}

// TestE2EPortInUse is scenario 19's last item: the agent exits 1, before starting Envoy.
func TestE2EPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := startAgent(t, agentOpts{port: ln.Addr().(*net.TCPAddr).Port, noWaitUp: true})
	code := r.wait(10 * time.Second)
	if code != 1 || len(envoyStarts(r.events())) != 0 || !strings.Contains(r.output(), "APPNET_AGENT_HTTP_PORT") {
		t.Errorf("exit %d, %d Envoy starts\n%s", code, len(envoyStarts(r.events())), r.output())
	}
}

func ioCopyDiscard(res *http.Response) (int64, error) {
	defer res.Body.Close()
	return io.Copy(io.Discard, res.Body)
}
