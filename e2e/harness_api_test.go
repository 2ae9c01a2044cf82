package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// The agent's management API, as a client sees it, and the readiness probe.

// withAPI turns on the management API on a free loopback port.
func (a *agent) withAPI() {
	a.t.Helper()
	a.withTCPAPI(testenv.FreePort(a.t), "127.0.0.1")
}

// withTCPAPI turns on the management API on port, bound to bind ("default": the agent's
// default bind, APPNET_AGENT_HTTP_BIND_ADDRESS unset).
func (a *agent) withTCPAPI(port int, bind string) {
	a.setenv("APPNET_AGENT_ADMIN_MODE=tcp", "APPNET_AGENT_HTTP_PORT="+strconv.Itoa(port))
	if bind == "default" {
		a.setenv("APPNET_AGENT_HTTP_BIND_ADDRESS")
	} else {
		a.setenv("APPNET_AGENT_HTTP_BIND_ADDRESS=" + bind)
	}
	a.base = "http://127.0.0.1:" + strconv.Itoa(port)
	a.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
}

// withUDS turns on the management API on a socket in the run's directory; with stale, a
// stale socket is left at that path first.
func (a *agent) withUDS(stale bool) {
	a.t.Helper()
	a.sock = filepath.Join(a.dir, "admin.sock")
	a.setenv("APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+a.sock)
	a.base = "http://127.0.0.1"
	a.client = testenv.UnixClient(a.sock)
	if stale {
		ln, err := net.Listen("unix", a.sock)
		if err != nil {
			a.t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close()
	}
}

// givenBootstrap gives the agent an existing bootstrap (ENVOY_CONFIG_FILE) whose admin
// listens on adminHost at the run's admin port, followed by more (YAML), instead of App Mesh
// variables to render.
func (a *agent) givenBootstrap(adminHost, more string) {
	a.t.Helper()
	text := fmt.Sprintf("node: {id: e2e, cluster: e2e}\nadmin:\n  address:\n    socket_address: {address: %s, port_value: %d}\n", adminHost, a.port) + more
	if err := os.WriteFile(a.boot, []byte(text), 0o600); err != nil {
		a.t.Fatal(err)
	}
	a.setenv("AWS_REGION", "APPMESH_RESOURCE_ARN", "ENVOY_ADMIN_ACCESS_PORT", "ENVOY_ADMIN_ACCESS_LOG_FILE", "LISTENER_DRAIN_WAIT_TIME_S=5")
}

// agentOpts shape startAgent's run.
type agentOpts struct {
	env       []string // extra variables (APPNET_*, STANDIN_*, ...)
	uds       bool     // management API on a socket in the run's directory
	staleSock bool     // with uds: leave a stale socket at the API path first
	bind      string   // APPNET_AGENT_HTTP_BIND_ADDRESS (default 127.0.0.1; "default": unset)
	port      int      // API port (default: a free one)
	adminHost string   // where the Envoy bootstrap puts admin (default 127.0.0.1)
	noWaitUp  bool     // do not wait for the API and Envoy's admin to answer
	waitLive  bool     // wait until /status says HEALTHY
	bootstrap string   // more of the bootstrap (YAML), after node and admin
}

// startAgent starts the agent with a given bootstrap (Envoy's admin on a free loopback port)
// and the management API on, and waits until the API answers and Envoy's admin listens.
func startAgent(t *testing.T, o agentOpts) *agent {
	t.Helper()
	a := newAgent(t)
	a.givenBootstrap(cmp.Or(o.adminHost, "127.0.0.1"), o.bootstrap)
	if o.uds {
		a.withUDS(o.staleSock)
	} else {
		port := o.port
		if port == 0 {
			port = testenv.FreePort(t)
		}
		a.withTCPAPI(port, cmp.Or(o.bind, "127.0.0.1"))
	}
	a.setenv(o.env...)
	a.start()
	if !o.noWaitUp {
		a.waitUp()
		// Envoy's admin too: the API answers before Envoy listens, and a first call that
		// reaches Envoy must not race its start.
		a.waitEnvoyUp(1)
	}
	if o.waitLive {
		a.waitStatus("HEALTHY", 15*time.Second, func(s api.Status) bool { return s.HealthStatus == api.Healthy })
	}
	return a
}

// waitUp waits until the management API answers at all.
func (a *agent) waitUp() {
	a.t.Helper()
	if !testenv.Poll(15*time.Second, func() bool {
		res, err := a.client.Get(a.base + api.PathStatus)
		if err == nil {
			res.Body.Close()
		}
		return err == nil || a.exited()
	}) || a.exited() {
		a.fatalf("the management API did not come up")
	}
}

// get calls the agent's API and returns the status and body (0 and the error when it did
// not answer).
func (a *agent) get(method, path string) (int, string) {
	return a.do(a.client, method, path)
}

// slowGet is get with a client that waits up to a minute: the agent's own bounds (e.g. two
// 5 s attempts for a stats dump) must answer first.
func (a *agent) slowGet(method, path string) (int, string) {
	slow := *a.client
	slow.Timeout = time.Minute
	return a.do(&slow, method, path)
}

func (a *agent) do(client *http.Client, method, path string) (int, string) {
	code, body, _, err := a.request(client, method, path)
	if err != nil {
		return 0, err.Error()
	}
	return code, body
}

func (a *agent) request(client *http.Client, method, path string) (int, string, http.Header, error) {
	req, err := http.NewRequest(method, a.base+path, nil)
	if err != nil {
		return 0, "", nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", nil, fmt.Errorf("reading: %w", err)
	}
	return res.StatusCode, string(b), res.Header, nil
}

// call sends one request to the management API and fails the test if it gets no answer.
func (a *agent) call(method, path string) (int, string, http.Header) {
	a.t.Helper()
	code, body, hdr, err := a.request(a.client, method, path)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, body, hdr
}

// status reads /status, failing the test unless it is a 200 with a JSON status.
func (a *agent) status() (api.Status, []byte, http.Header) {
	a.t.Helper()
	code, body, hdr := a.call("GET", api.PathStatus)
	if code != 200 {
		a.t.Fatalf("/status: %d %s", code, body)
	}
	var s api.Status
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		a.t.Fatalf("/status: %v: %s", err, body)
	}
	return s, []byte(body), hdr
}

// tryStatus reads /status; ok is false when the agent did not answer with a JSON status.
func (a *agent) tryStatus() (api.Status, bool) {
	code, body := a.get("GET", api.PathStatus)
	var s api.Status
	if code != 200 || json.Unmarshal([]byte(body), &s) != nil {
		return s, false
	}
	return s, true
}

// waitStatus polls /status until cond holds.
func (a *agent) waitStatus(what string, timeout time.Duration, cond func(api.Status) bool) api.Status {
	a.t.Helper()
	var s api.Status
	if !testenv.Poll(timeout, func() bool {
		var ok bool
		s, ok = a.tryStatus()
		return ok && cond(s)
	}) {
		a.fatalf("no %s within %v; last /status %+v", what, timeout, s)
	}
	return s
}

// watchStatus records every /status answer until stop is called, polling every 20 ms.
func (a *agent) watchStatus() (stop func() []api.Status) {
	var mu sync.Mutex
	var seen []api.Status
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if s, ok := a.tryStatus(); ok {
				mu.Lock()
				seen = append(seen, s)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return func() []api.Status {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

// probe runs `appnet-agent -envoyReadiness` with the agent's environment plus extra, and
// returns its exit code, output and duration.
func (a *agent) probe(extra ...string) (code int, out string, took time.Duration) {
	a.t.Helper()
	r := runCommand(a.t, "", append(a.environ(), extra...), "-envoyReadiness")
	return r.code, r.stdout + r.stderr, r.elapsed
}

// errorLines are the agent's [error] lines on stderr.
func (a *agent) errorLines() []string {
	var out []string
	for _, l := range strings.Split(a.stderr(), "\n") {
		if strings.Contains(l, "][error] [AppNet Agent] ") {
			out = append(out, l)
		}
	}
	return out
}
