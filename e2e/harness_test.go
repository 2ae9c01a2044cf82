package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
	"github.com/appnet/appnet-agent/internal/testenv/record"
)

// The one harness of this package: an agent run (this file), its management API
// (harness_api_test.go) and what /proc says about its processes (proc_test.go).

// ownerVar marks every process of one test: the agent's environment carries it, Envoy
// inherits it, and so do the stand-in's orphans (which lose only STANDIN_*). Cleanup and
// liveness checks use it so that a recycled pid is never mistaken for ours.
const ownerVar = "E2E_OWNER"

// agent is one run of the agent binary.
type agent struct {
	t      *testing.T
	dir    string // temp dir: TMPDIR, bootstrap, record, agent output
	boot   string // ENVOY_CONFIG_FILE (empty file) unless the test changes it
	rec    string // STANDIN_RECORD
	port   int    // Envoy's TCP admin port
	env    map[string]string
	args   []string // agent flags
	prefix []string // launcher, e.g. unshare
	// outTo and errTo, when set, are the agent's stdout and stderr instead of the files
	// agent.stdout and agent.stderr (a pipe whose reader a test controls).
	outTo, errTo *os.File

	// The management API, once withAPI or withUDS turned it on.
	base   string // http://127.0.0.1:PORT, or http://127.0.0.1 on the socket
	sock   string // the API's Unix socket, if any
	client *http.Client

	cmd      *exec.Cmd
	outF     *os.File
	errF     *os.File
	done     chan struct{}
	exitAt   time.Time // set before done is closed
	reported bool      // fatalf printed the agent's output already
}

// newAgent prepares a run with the minimal App Mesh environment plus env ("K=V" sets,
// "K" alone unsets).
func newAgent(t *testing.T, env ...string) *agent {
	t.Helper()
	dir := t.TempDir()
	a := &agent{
		t:    t,
		dir:  dir,
		boot: filepath.Join(dir, "bootstrap.yaml"),
		rec:  filepath.Join(dir, "record.jsonl"),
		port: testenv.FreePort(t),
		done: make(chan struct{}),
	}
	if err := os.WriteFile(a.boot, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a.env = map[string]string{
		"PATH":                        "/usr/local/bin:/usr/bin:/bin",
		"AWS_REGION":                  "us-west-2",
		"APPMESH_RESOURCE_ARN":        "mesh/m/virtualNode/n",
		"APPNET_ENVOY_PATH":           standinBin,
		"ENVOY_CONFIG_FILE":           a.boot,
		"TMPDIR":                      dir,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"APPNET_MIN_DRAIN_TIME_S":     "0", // no minimum drain unless a test asks (TestMinimumDrain)
		"ENVOY_ADMIN_ACCESS_PORT":     strconv.Itoa(a.port),
		"ENVOY_ADMIN_ACCESS_LOG_FILE": filepath.Join(dir, "admin_access.log"),
		"STANDIN_RECORD":              a.rec,
		ownerVar:                      dir,
	}
	a.setenv(env...)
	return a
}

func (a *agent) setenv(env ...string) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			a.env[k] = v
		} else {
			delete(a.env, kv)
		}
	}
}

// environ is the agent's environment as "K=V" lines.
func (a *agent) environ() []string {
	var out []string
	for k, v := range a.env {
		out = append(out, k+"="+v)
	}
	return out
}

// start starts the agent in its own process group, with output to files (a pipe could be
// held open by a stray grandchild and hang Wait).
func (a *agent) start() {
	a.t.Helper()
	argv := append(slices.Clone(a.prefix), agentBin)
	argv = append(argv, a.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = a.environ()
	cmd.Dir = a.dir
	var err error
	if a.outF, err = os.Create(filepath.Join(a.dir, "agent.stdout")); err != nil {
		a.t.Fatal(err)
	}
	if a.errF, err = os.Create(filepath.Join(a.dir, "agent.stderr")); err != nil {
		a.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = a.outF, a.errF
	if a.outTo != nil {
		cmd.Stdout = a.outTo
	}
	if a.errTo != nil {
		cmd.Stderr = a.errTo
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	a.cmd = cmd
	a.t.Cleanup(a.cleanup)
	go func() {
		_ = cmd.Wait()
		a.exitAt = time.Now()
		close(a.done)
	}()
}

// cleanup kills the agent's process group, then every process that carries this test's
// owner mark (Envoy has its own group; orphans may have outlived everything). A failed
// test logs the agent's output, unless fatalf printed it already; E2E_AGENT_LOGS=1 logs it
// always.
func (a *agent) cleanup() {
	select {
	case <-a.done:
	default:
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			a.t.Errorf("agent %d survived SIGKILL", a.cmd.Process.Pid)
		}
	}
	for _, pid := range a.ownedPids() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if a.client != nil {
		a.client.CloseIdleConnections()
	}
	if (a.t.Failed() && !a.reported) || os.Getenv("E2E_AGENT_LOGS") != "" {
		a.t.Logf("agent output:\n%s", tail(a.output(), 6000))
	}
	a.outF.Close()
	a.errF.Close()
}

// signal sends sig to the agent process only (not its group), also when a launcher (unshare,
// sh) runs it.
//
// Once Envoy runs, it first waits for the agent's hand-over to the supervisor to end
// (waitHandedOver): during the exec and the supervisor's runtime start, a few milliseconds, a
// shutdown signal still has its default action (docs/OPERATIONS.md), as in the agent's own
// first milliseconds. signalNow does not wait.
func (a *agent) signal(sig syscall.Signal) {
	a.t.Helper()
	if len(envoyStarts(a.events())) > 0 {
		a.waitHandedOver()
	}
	a.signalNow(sig)
}

// signalNow sends sig to the agent at once.
func (a *agent) signalNow(sig syscall.Signal) {
	a.t.Helper()
	if err := syscall.Kill(a.agentPid(), sig); err != nil {
		a.t.Fatalf("signalling the agent: %v", err)
	}
}

// waitHandedOver waits (10 s at most) until the agent's process runs appnet-agent-supervisor
// past its package initialisation — Resume renames it after the agent (its comm is then no
// longer the supervisor's file name) — or runs without a supervisor next to the agent binary,
// or has exited.
func (a *agent) waitHandedOver() {
	a.t.Helper()
	supervisor := filepath.Join(filepath.Dir(agentBin), "appnet-agent-supervisor")
	if _, err := os.Stat(supervisor); err != nil {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.done:
			return
		default:
		}
		pid := a.agentPid()
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if exe == supervisor && strings.TrimSpace(string(comm)) != "appnet-agent-su" {
			return
		}
		time.Sleep(time.Millisecond)
	}
	a.fatalf("the agent did not hand over to %s within 10 s", supervisor)
}

// agentPid is the agent's pid: the started process, or, under a launcher, the process below
// it that runs the agent binary (or, once the bootstrap is written, the supervisor it execs).
func (a *agent) agentPid() int {
	a.t.Helper()
	if len(a.prefix) == 0 {
		return a.cmd.Process.Pid
	}
	var pid int
	supervisor := filepath.Join(filepath.Dir(agentBin), "appnet-agent-supervisor")
	if !testenv.Poll(10*time.Second, func() bool {
		pid = max(descendantRunning(a.cmd.Process.Pid, agentBin), descendantRunning(a.cmd.Process.Pid, supervisor))
		return pid > 0
	}) {
		a.fatalf("no process runs %s under the launcher %d", agentBin, a.cmd.Process.Pid)
	}
	return pid
}

func (a *agent) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// wait waits for the agent to exit and returns its exit code (-1 when killed by a signal).
func (a *agent) wait(timeout time.Duration) int {
	a.t.Helper()
	select {
	case <-a.done:
	case <-time.After(timeout):
		a.fatalf("agent still running after %v", timeout)
	}
	return a.cmd.ProcessState.ExitCode()
}

// run starts the agent and waits for its exit code.
func (a *agent) run(timeout time.Duration) int {
	a.t.Helper()
	a.start()
	return a.wait(timeout)
}

func (a *agent) stderr() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "agent.stderr"))
	return string(b)
}

// output is what the agent printed: stdout, then stderr.
func (a *agent) output() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "agent.stdout"))
	return string(b) + a.stderr()
}

// fatalf fails with the agent's output and the record, which is what one needs to see.
func (a *agent) fatalf(format string, args ...any) {
	a.t.Helper()
	a.reported = true
	rec, _ := os.ReadFile(a.rec)
	a.t.Fatalf("%s\n--- agent stderr:\n%s\n--- record:\n%s", fmt.Sprintf(format, args...),
		tail(a.stderr(), 6000), tail(string(rec), 6000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// event is one line of the stand-in's record file.
type event = record.Event

// isEnvoyStart is a start of Envoy proper, not the `envoy --version` FIPS probe.
func isEnvoyStart(e event) bool {
	return e.Event == "start" && !slices.Contains(e.Argv, "--version")
}

// events reads the record. Each line is one O_APPEND write, so only a line being written
// right now can be incomplete; it is left for the next read.
func (a *agent) events() []event {
	a.t.Helper()
	return testenv.ReadRecord[event](a.t, a.rec, func(line string, err error, writing bool) bool {
		a.t.Helper()
		if !writing {
			a.t.Fatalf("record line %q: %v", line, err)
		}
		return false // the last, partial line
	})
}

func filter(evs []event, keep func(event) bool) []event {
	var out []event
	for _, e := range evs {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

func envoyStarts(evs []event) []event { return filter(evs, isEnvoyStart) }

func isEvent(name string) func(event) bool {
	return func(e event) bool { return e.Event == name }
}

func isSignal(pid int, name string) func(event) bool {
	return func(e event) bool { return e.Event == "signal" && e.Pid == pid && e.Name == name }
}

func isDrain(e event) bool {
	return e.Event == "admin" && e.Method == "POST" && e.Path == "/drain_listeners"
}

// adminCalls lists "METHOD /path?query" of the Envoy admin requests whose path starts with
// prefix.
func (a *agent) adminCalls(prefix string) []string {
	var out []string
	for _, e := range filter(a.events(), isEvent("admin")) {
		if strings.HasPrefix(e.Path, prefix) {
			out = append(out, e.Method+" "+e.Path+"?"+e.Query)
		}
	}
	return out
}

// waitFor polls the record until cond holds. It fails at the deadline, or as soon as the
// agent has exited without cond holding (everything the stand-ins record happens before the
// agent's exit, so a last read then is complete).
func (a *agent) waitFor(what string, timeout time.Duration, cond func([]event) bool) []event {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		exited := a.exited()
		if evs := a.events(); cond(evs) {
			return evs
		}
		switch {
		case exited:
			a.fatalf("agent exited (code %d) before %s", a.cmd.ProcessState.ExitCode(), what)
		case time.Now().After(deadline):
			a.fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEvent waits for the n-th (1-based) event matching keep and returns it.
func (a *agent) waitEvent(what string, n int, timeout time.Duration, keep func(event) bool) event {
	a.t.Helper()
	evs := a.waitFor(what, timeout, func(evs []event) bool { return len(filter(evs, keep)) >= n })
	return filter(evs, keep)[n-1]
}

// waitEnvoyUp waits for the n-th Envoy's admin listener: from then on it answers the drain.
func (a *agent) waitEnvoyUp(n int) event {
	a.t.Helper()
	return a.waitEvent(fmt.Sprintf("Envoy #%d listening", n), n, 20*time.Second, isEvent("admin_listening"))
}

// cmdResult is one finished run of the agent binary (or another program) as a command.
type cmdResult struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// runCommand runs the agent binary with args in dir with exactly env (no inheritance) and
// waits for it (60 s at most: a hang fails the test, it does not stall it).
func runCommand(t *testing.T, dir string, env []string, args ...string) cmdResult {
	t.Helper()
	return runCommandPath(t, agentBin, dir, env, args...)
}

// runCommandPath is runCommand for another program (a script that runs the agent).
func runCommandPath(t *testing.T, program, dir string, env []string, args ...string) cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Dir, cmd.Env = dir, env
	if cmd.Env == nil {
		cmd.Env = []string{} // nil would inherit the test's environment
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := cmdResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not finish within 60 s:\n%s", program, args, res.stderr)
	}
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatal(err)
	}
	return res
}

// mustSucceed fails unless the run exited 0.
func (r cmdResult) mustSucceed(t *testing.T, what string) cmdResult {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstderr:\n%s\nstdout:\n%s", what, r.code, r.stderr, r.stdout)
	}
	return r
}
