package e2e

// End-to-end tests of /enableLogging, /drain_listeners, remote clients, the Unix socket and -envoyReadiness. The agent binary is built from the repository
// root and supervises envoy-standin; the tests follow the reference agent's scenarios 8–9 and
// 14–30 as H1–H7 amend them (docs/GLOSSARY.md); see harness_api_test.go.

import (
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// loggingLevels lists the queries of the level changes Envoy received, in order.
func loggingLevels(r *agent) []string {
	var out []string
	for _, c := range r.adminCalls("/logging") {
		out = append(out, strings.TrimPrefix(c, "POST /logging?"))
	}
	return out
}

// TestE2EEnableLogging is scenarios 22–24 with H3: validation, auto-reset, and the level a
// restarted Envoy gets (-l), for temporary and permanent changes.
func TestE2EEnableLogging(t *testing.T) {
	t.Parallel()
	r := startAgent(t, agentOpts{waitLive: true, env: []string{"APPNET_AGENT_LOGGING_RESET_TIMEOUT=1", "APPNET_ENVOY_RESTART_COUNT=3"}})
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/enableLogging?level=debug", 400, "Only POST requests are supported\n"},
		{"POST", "/enableLogging", 400, "Invalid request\n"},
		{"POST", "/enableLogging?level=debug&foo=1", 400, "Invalid request\n"},
		{"POST", "/enableLogging?level=verbose", 400, "Invalid log level specified\n"},
		{"POST", "/enableLogging?level=info", 304, ""},
	} {
		if code, body, _ := r.call(tc.method, tc.path); code != tc.code || body != tc.body {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, code, body)
		}
	}
	if l := loggingLevels(r); len(l) != 0 {
		t.Fatalf("Envoy got %v", l)
	}
	// A temporary change (warning: a level the reference refused) and its reset.
	set := time.Now()
	if code, body, _ := r.call("POST", "/enableLogging?level=warning"); code != 200 || body != "Setting logging level from [info] to [warning]\n" {
		t.Fatalf("%d %q", code, body)
	}
	if code, _, _ := r.call("GET", "/enableLogging"); code != 304 {
		t.Errorf("while pending: %d", code)
	}
	testenv.WaitFor(t, 5*time.Second, "the reset", func() bool { return len(loggingLevels(r)) == 2 })
	if d := time.Since(set); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("reset after %v, want about 1 s", d)
	}
	if l := loggingLevels(r); l[0] != "level=warning" || l[1] != "level=info" {
		t.Errorf("Envoy got %v", l)
	}
	// A temporary level survives an Envoy restart, and is still reset.
	if code, _, _ := r.call("POST", "/enableLogging?level=trace"); code != 200 {
		t.Fatal(code)
	}
	r.restartEnvoy()
	if argv := envoyStarts(r.events())[1].Argv; !hasLevel(argv, "trace") {
		t.Errorf("restarted Envoy's argv %v, want -l trace", argv)
	}
	testenv.WaitFor(t, 5*time.Second, "the reset on the new Envoy", func() bool {
		l := loggingLevels(r)
		return len(l) == 4 && l[3] == "level=info"
	})
	// A permanent change is what the next Envoy starts with.
	if code, _, _ := r.call("POST", "/enableLogging?level=debug&permanent=true"); code != 200 {
		t.Fatal(code)
	}
	r.restartEnvoy()
	if argv := envoyStarts(r.events())[2].Argv; !hasLevel(argv, "debug") {
		t.Errorf("restarted Envoy's argv %v, want -l debug", argv)
	}
}

func hasLevel(argv []string, level string) bool {
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == "-l" {
			return argv[i+1] == level
		}
	}
	return false
}

// restartEnvoy kills Envoy and waits for its replacement to be LIVE.
func (r *agent) restartEnvoy() {
	r.t.Helper()
	s, _, _ := r.status()
	n := len(envoyStarts(r.events()))
	pid, _ := strconv.Atoi(s.EnvoyPid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	r.waitStatus("Envoy's replacement", 10*time.Second, func(s api.Status) bool {
		return s.EnvoyPid != strconv.Itoa(pid) && s.HealthStatus == api.Healthy
	})
	testenv.WaitFor(r.t, 5*time.Second, "the start record", func() bool { return len(envoyStarts(r.events())) > n })
}

// TestE2EDrainListeners is scenario 25 with H4.
func TestE2EDrainListeners(t *testing.T) {
	t.Parallel()
	r := startAgent(t, agentOpts{})
	for _, tc := range []struct {
		path, body, envoy string
		code              int
	}{
		{"/drain_listeners?inboundonly=false", "OK\n", "POST /drain_listeners?inboundonly", 200},
		{"/drain_listeners?graceful", "OK\n", "POST /drain_listeners?graceful&inboundonly", 200},
		{"/drain_listeners", "Unexpected number of query parameters specified in request: [0]\n", "", 400},
	} {
		before := len(r.adminCalls("/drain_listeners"))
		code, body, _ := r.call("POST", tc.path)
		calls := r.adminCalls("/drain_listeners")[before:]
		if code != tc.code || body != tc.body || (tc.envoy == "" && len(calls) > 0) || (tc.envoy != "" && (len(calls) != 1 || calls[0] != tc.envoy)) {
			t.Errorf("%s: %d %q, Envoy got %v", tc.path, code, body, calls)
		}
	}
	if code, body, _ := r.call("GET", "/drain_listeners?inboundonly"); code != 400 || body != "Invalid method [GET] in request\n" {
		t.Errorf("GET: %d %q", code, body)
	}
}

// hostAddress is a non-loopback address of this machine, or "".
func hostAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// TestE2ERemoteMutationRefused is H6 on the default bind ([::]): a client reaching the agent
// on this host's own non-loopback address may read /status but not drain, change levels or shut it down,
// unless APPNET_AGENT_ALLOW_REMOTE_ADMIN=true.
func TestE2ERemoteMutationRefused(t *testing.T) {
	t.Parallel()
	host := hostAddress()
	if host == "" {
		t.Skip("no non-loopback address on this host (the check is unit-tested in TestRemoteMutationRefused)")
	}
	port := testenv.FreePort(t)
	r := startAgent(t, agentOpts{bind: "default", port: port})
	remote := "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	for method, path := range map[string]string{"GET": "/status"} {
		req, _ := http.NewRequest(method, remote+path, nil)
		res, err := r.client.Do(req)
		if err != nil {
			t.Fatalf("%s via %s: %v", path, host, err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("remote %s: %d", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/drain_listeners?inboundonly", "/enableLogging?level=debug", "/shutdown", "/quitquitquit"} {
		res, err := r.client.Post(remote+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("remote POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	if n := len(r.adminCalls("/drain_listeners")) + len(r.adminCalls("/logging")); n != 0 {
		t.Errorf("Envoy got %d mutations from a remote client", n)
	}
	time.Sleep(500 * time.Millisecond)
	if st, _, _ := r.status(); r.exited() || st.DrainPhase != "" {
		t.Errorf("a remote POST /shutdown shut the agent down")
	}
	if code, _, _ := r.call("POST", "/drain_listeners?inboundonly"); code != 200 {
		t.Errorf("loopback drain: %d", code)
	}
	port2 := testenv.FreePort(t)
	r2 := startAgent(t, agentOpts{bind: "default", port: port2, env: []string{"APPNET_AGENT_ALLOW_REMOTE_ADMIN=true"}})
	res, err := r2.client.Post("http://"+net.JoinHostPort(host, strconv.Itoa(port2))+"/drain_listeners?inboundonly", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("allowed remote drain: %d", res.StatusCode)
	}
}

// TestE2EUnixSocketAndReadiness is scenarios 19 and 30 with R6 and H6: the API on a socket
// (a stale one replaced, mode 0600), and -envoyReadiness over the socket and over TCP.
func TestE2EUnixSocketAndReadiness(t *testing.T) {
	t.Parallel()
	r := startAgent(t, agentOpts{uds: true, staleSock: true, waitLive: true})
	fi, err := os.Stat(r.sock)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi.Mode(), err)
	}
	code, out, d := r.probe("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S=1", "APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S=10")
	if code != 0 || d > 3*time.Second {
		t.Errorf("readiness over the socket: exit %d after %v\n%s", code, d, out)
	}
	if code, out, _ := r.probe("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S=0"); code != 0 {
		t.Errorf("single check over the socket: exit %d\n%s", code, out)
	}
	tcp := startAgent(t, agentOpts{bind: "default", waitLive: true})
	if code, out, _ := tcp.probe("APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S=0"); code != 0 {
		t.Errorf("readiness over TCP (wildcard bind): exit %d\n%s", code, out)
	}
}

// TestE2EReadinessFailures: an unhealthy agent gives exit 1 at the timeout; interval 0 is a
// single check (the reference panicked); no API configured is an immediate, clear 1.
func TestE2EReadinessFailures(t *testing.T) {
	t.Parallel()
	r := startAgent(t, agentOpts{env: []string{"STANDIN_READY_SEQUENCE=INITIALIZING"}})
	code, out, d := r.probe("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S=1", "APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S=2")
	if code != 1 || d < 1500*time.Millisecond || d > 5*time.Second || !strings.Contains(out, "Timed out after 2s") {
		t.Errorf("unhealthy: exit %d after %v\n%s", code, d, out)
	}
	code, out, d = r.probe("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S=0")
	if code != 1 || d > 2*time.Second || strings.Contains(out, "panic") {
		t.Errorf("interval 0: exit %d after %v\n%s", code, d, out)
	}
	r.setenv("APPNET_AGENT_ADMIN_MODE") // for the probe only: the running agent keeps its API
	if code, out, _ := r.probe(); code != 1 || !strings.Contains(out, "APPNET_AGENT_ADMIN_MODE") {
		t.Errorf("no API: exit %d\n%s", code, out)
	}
}
