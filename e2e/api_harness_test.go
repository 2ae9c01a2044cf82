package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// e2eSnapshotPeriod is linked into the test build of the agent (cli.statsSnapshotPeriod),
// so the delta timeline takes seconds instead of minutes.
const e2eSnapshotPeriod = time.Second

// binaries builds the agent (from the repository root, as `go build .`) and envoy-standin
// once per test binary; TestMain removes them.
func binaries(t *testing.T) (agent, envoy string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds the agent and envoy-standin")
	}
	agent, err := testenv.AgentBinary("-ldflags", "-X github.com/appnet/appnet-agent/internal/cli.statsSnapshotPeriod="+e2eSnapshotPeriod.String())
	if err == nil {
		envoy, err = testenv.StandinBinary()
	}
	if err != nil {
		t.Fatal(err)
	}
	return agent, envoy
}

// agentOpts shape one agent run.
type agentOpts struct {
	env        []string // extra variables (APPNET_*, STANDIN_*, ...)
	uds        bool     // management API on a socket in the run's directory
	bind       string   // APPNET_AGENT_HTTP_BIND_ADDRESS (default 127.0.0.1)
	adminHost  string   // where the Envoy bootstrap puts admin (default 127.0.0.1)
	noAPI      bool     // leave APPNET_AGENT_ADMIN_MODE unset
	noWaitUp   bool     // do not wait for the API to answer
	staleSock  bool     // leave a stale socket at the API path first
	port       int      // API port (default: a free one)
	dir        string   // run directory (default: a new temp dir)
	waitLive   bool     // wait until /status says HEALTHY
	keepOutput bool     // log the agent's output even on success
	bootstrap  string   // appended to the bootstrap (the existing ENVOY_CONFIG_FILE)
}

// agentRun is one agent process, over envoy-standin.
type agentRun struct {
	t       *testing.T
	cmd     *exec.Cmd
	env     []string
	dir     string
	record  string
	base    string // http://host:port or http://127.0.0.1 for the socket
	sock    string
	client  *http.Client
	out     testenv.SafeBuffer
	done    chan struct{}
	code    int
	started time.Time
}

// startAgent runs the agent with Envoy's admin on a free loopback port, the bootstrap given
// as an existing ENVOY_CONFIG_FILE, and stops it (SIGTERM, then SIGKILL) when the test ends.
func startAgent(t *testing.T, o agentOpts) *agentRun {
	t.Helper()
	agent, envoy := binaries(t)
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	adminHost := o.adminHost
	if adminHost == "" {
		adminHost = "127.0.0.1"
	}
	boot := filepath.Join(dir, "bootstrap.yaml")
	bootText := fmt.Sprintf("node: {id: e2e, cluster: e2e}\nadmin:\n  address:\n    socket_address: {address: %s, port_value: %d}\n", adminHost, testenv.FreePort(t)) + o.bootstrap
	if err := os.WriteFile(boot, []byte(bootText), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &agentRun{t: t, dir: dir, record: filepath.Join(dir, "record.jsonl"), done: make(chan struct{})}
	r.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir,
		"ENVOY_CONFIG_FILE=" + boot, "APPNET_ENVOY_PATH=" + envoy, "AWS_EC2_METADATA_DISABLED=true", "APPNET_MIN_DRAIN_TIME_S=0",
		"STANDIN_RECORD=" + r.record, "LISTENER_DRAIN_WAIT_TIME_S=5",
	}
	if !o.noAPI {
		if o.uds {
			r.sock = filepath.Join(dir, "admin.sock")
			r.env = append(r.env, "APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+r.sock)
			r.base = "http://127.0.0.1"
			r.client = testenv.UnixClient(r.sock)
			if o.staleSock {
				ln, err := net.Listen("unix", r.sock)
				if err != nil {
					t.Fatal(err)
				}
				ln.(*net.UnixListener).SetUnlinkOnClose(false)
				ln.Close()
			}
		} else {
			port := o.port
			if port == 0 {
				port = testenv.FreePort(t)
			}
			bind := o.bind
			if bind == "" {
				bind = "127.0.0.1"
			}
			r.env = append(r.env, "APPNET_AGENT_ADMIN_MODE=tcp", "APPNET_AGENT_HTTP_PORT="+strconv.Itoa(port))
			if bind != "default" {
				r.env = append(r.env, "APPNET_AGENT_HTTP_BIND_ADDRESS="+bind)
			}
			r.base = "http://127.0.0.1:" + strconv.Itoa(port)
			r.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		}
	}
	r.env = append(r.env, o.env...)
	r.cmd = exec.Command(agent)
	r.cmd.Env = r.env
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	r.started = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.stop()
		if t.Failed() || o.keepOutput || os.Getenv("API_E2E_LOGS") != "" {
			t.Logf("agent output:\n%s", r.out.String())
		}
	})
	if !o.noAPI && !o.noWaitUp {
		r.waitUp()
	}
	if o.waitLive {
		r.waitStatus("HEALTHY", 15*time.Second, func(s api.Status) bool { return s.HealthStatus == api.Healthy })
	}
	return r
}

// stop ends the agent gracefully, or kills it after 15 s.
func (r *agentRun) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	// A second SIGTERM skips what is left of the drain wait (R3): tests need not wait for
	// drains they do not look at.
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		return
	case <-time.After(200 * time.Millisecond):
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// waitExit waits up to timeout for the agent to exit and reports whether it did (its code is
// then in r.code).
func (r *agentRun) waitExit(timeout time.Duration) bool {
	select {
	case <-r.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// alive reports whether the agent process still runs.
func (r *agentRun) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *agentRun) waitUp() {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := r.client.Get(r.base + api.PathStatus)
		if err == nil {
			res.Body.Close()
			return
		}
		if !r.alive() || time.Now().After(deadline) {
			r.t.Fatalf("the management API did not come up (exit %d): %v", r.code, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// call sends one request to the management API.
func (r *agentRun) call(method, path string) (int, string, http.Header) {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.base+path, nil)
	res, err := r.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		r.t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return res.StatusCode, string(b), res.Header
}

func (r *agentRun) status() (api.Status, []byte, http.Header) {
	r.t.Helper()
	code, body, hdr := r.call("GET", api.PathStatus)
	if code != 200 {
		r.t.Fatalf("/status: %d %s", code, body)
	}
	var s api.Status
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		r.t.Fatalf("/status: %v: %s", err, body)
	}
	return s, []byte(body), hdr
}

func (r *agentRun) waitStatus(what string, timeout time.Duration, cond func(api.Status) bool) api.Status {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, _, _ := r.status()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; last status %+v", what, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// apiEvent is one line of envoy-standin's record.
type apiEvent struct {
	Event  string   `json:"event"`
	PID    int      `json:"pid"`
	Time   string   `json:"time"`
	Argv   []string `json:"argv"`
	Method string   `json:"method"`
	Path   string   `json:"path"`
	Query  string   `json:"query"`
}

func (e apiEvent) when() time.Time { t, _ := time.Parse(time.RFC3339Nano, e.Time); return t }

func (r *agentRun) events(kind string) []apiEvent {
	r.t.Helper()
	var out []apiEvent
	for _, e := range testenv.ReadRecord[apiEvent](r.t, r.record, nil) {
		if kind == "" || e.Event == kind {
			out = append(out, e)
		}
	}
	return out
}

// adminCalls lists "METHOD /path?query" of Envoy admin requests whose path starts with
// prefix.
func (r *agentRun) adminCalls(prefix string) []string {
	var out []string
	for _, e := range r.events("admin") {
		if strings.HasPrefix(e.Path, prefix) {
			out = append(out, e.Method+" "+e.Path+"?"+e.Query)
		}
	}
	return out
}

// envoyStarts lists the Envoy processes started (not --version probes).
func (r *agentRun) envoyStarts() []apiEvent {
	var out []apiEvent
	for _, e := range r.events("start") {
		if len(e.Argv) > 1 && e.Argv[1] == "-c" {
			out = append(out, e)
		}
	}
	return out
}

// runProbe runs `appnet-agent -envoyReadiness` with the run's environment plus extra.
func (r *agentRun) runProbe(extra ...string) (int, string, time.Duration) {
	r.t.Helper()
	start := time.Now()
	code, out := probeWithEnv(r.t, append(append([]string(nil), r.env...), extra...))
	return code, out, time.Since(start)
}

// probeWithEnv runs `appnet-agent -envoyReadiness` with exactly env, bounded to a minute.
func probeWithEnv(t *testing.T, env []string) (int, string) {
	t.Helper()
	agent, _ := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agent, "-envoyReadiness")
	cmd.Env = env
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}
