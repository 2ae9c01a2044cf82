package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Binaries built once by TestMain.
var (
	agentBin   string
	standinBin string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode (builds and runs the agent binary)")
		os.Exit(0)
	}
	// Orphans whose reaper fails must not be reaped by someone else behind the test's back:
	// with this process a child subreaper, an orphan that escapes the agent ends up here,
	// where nothing reaps it, and TestOrphansAreReaped sees it. (Such zombies go when the
	// test binary exits.)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot become a child subreaper:", err)
		os.Exit(1)
	}
	code := 1
	if err := buildBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	testenv.RemoveBuilds()
	os.Exit(code)
}

// buildBinaries builds the agent and envoy-standin, concurrently (linking dominates and is
// mostly single-threaded).
func buildBinaries() error {
	var agentFlags []string
	if raceBuild {
		agentFlags = append(agentFlags, "-race")
	}
	var agentErr, standinErr error
	var wg sync.WaitGroup
	wg.Go(func() { agentBin, agentErr = testenv.AgentBinary(agentFlags...) })
	wg.Go(func() { standinBin, standinErr = testenv.StandinBinary() })
	wg.Wait()
	if agentErr != nil {
		return agentErr
	}
	return standinErr
}

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

	cmd    *exec.Cmd
	outF   *os.File
	errF   *os.File
	done   chan struct{}
	exitAt time.Time // set before done is closed
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

// start starts the agent in its own process group, with output to files (a pipe could be
// held open by a stray grandchild and hang Wait).
func (a *agent) start() {
	a.t.Helper()
	argv := append(slices.Clone(a.prefix), agentBin)
	argv = append(argv, a.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	for k, v := range a.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
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
// owner mark (Envoy has its own group; orphans may have outlived everything).
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
	a.outF.Close()
	a.errF.Close()
}

// ownedPids lists the live processes (host pids) carrying this test's owner mark.
func (a *agent) ownedPids() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && a.owns(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// owns reports whether pid is a live (not zombie) process of this test.
func (a *agent) owns(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false // gone, or a zombie's environ is unreadable/empty
	}
	mark := []byte(ownerVar + "=" + a.dir)
	return slices.ContainsFunc(bytes.Split(b, []byte{0}), func(kv []byte) bool { return bytes.Equal(kv, mark) }) &&
		!isZombie(pid)
}

func isZombie(pid int) bool {
	st, ok := readStatus(pid)
	return ok && (st.state == 'Z' || st.state == 'X')
}

// signal sends sig to the agent process only (not its group), also when a launcher (unshare,
// sh) runs it.
func (a *agent) signal(sig syscall.Signal) {
	a.t.Helper()
	if err := syscall.Kill(a.agentPid(), sig); err != nil {
		a.t.Fatalf("signalling the agent: %v", err)
	}
}

// agentPid is the agent's pid: the started process, or, under a launcher, the process below
// it that runs the agent binary.
func (a *agent) agentPid() int {
	a.t.Helper()
	if len(a.prefix) == 0 {
		return a.cmd.Process.Pid
	}
	var pid int
	if !testenv.Poll(10*time.Second, func() bool { pid = descendantRunning(a.cmd.Process.Pid, agentBin); return pid > 0 }) {
		a.fatalf("no process runs %s under the launcher %d", agentBin, a.cmd.Process.Pid)
	}
	return pid
}

// descendantRunning returns pid or a process below it whose executable is exe, 0 if none.
func descendantRunning(pid int, exe string) int {
	for _, p := range append([]int{pid}, descendants(pid)...) {
		if e, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); e == exe {
			return p
		}
	}
	return 0
}

// descendants lists the processes below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStatus(p); ok {
			children[st.ppid] = append(children[st.ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
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

// fatalf fails with the agent's output and the record, which is what one needs to see.
func (a *agent) fatalf(format string, args ...any) {
	a.t.Helper()
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

// event is one line of the stand-in's record file (see internal/envoystandin/doc.go).
type event struct {
	Event     string            `json:"event"`
	Pid       int               `json:"pid"`
	Time      time.Time         `json:"time"`
	Argv      []string          `json:"argv"`
	Pgid      int               `json:"pgid"`
	Pdeathsig *int              `json:"pdeathsig"`
	Env       map[string]string `json:"env_subset"`
	Network   string            `json:"network"`
	Address   string            `json:"address"`
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	Query     string            `json:"query"`
	Name      string            `json:"name"`
	Code      int               `json:"code"`
	Reason    string            `json:"reason"`
	ChildPid  int               `json:"child_pid"`
	Stream    string            `json:"stream"`
	Lines     int               `json:"lines"`
}

// isEnvoyStart is a start of Envoy proper, not the `envoy --version` FIPS probe.
func (e event) isEnvoyStart() bool {
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

func envoyStarts(evs []event) []event { return filter(evs, event.isEnvoyStart) }

func isEvent(name string) func(event) bool {
	return func(e event) bool { return e.Event == name }
}

func isSignal(pid int, name string) func(event) bool {
	return func(e event) bool { return e.Event == "signal" && e.Pid == pid && e.Name == name }
}

func isDrain(e event) bool {
	return e.Event == "admin" && e.Method == "POST" && e.Path == "/drain_listeners"
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

// procStatus is what /proc/PID/status says about a process.
type procStatus struct {
	pid, ppid int
	state     byte
	nspid     []int // pid in each nested pid namespace, outermost first
}

func readStatus(pid int) (procStatus, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}, false
	}
	st := procStatus{pid: pid}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "State":
			if v != "" {
				st.state = v[0]
			}
		case "PPid":
			st.ppid, _ = strconv.Atoi(v)
		case "NSpid":
			for f := range strings.FieldsSeq(v) {
				n, _ := strconv.Atoi(f)
				st.nspid = append(st.nspid, n)
			}
		}
	}
	return st, true
}

// pidNS is the pid namespace of pid, as the kernel names it ("pid:[4026531836]").
func pidNS(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	return s
}

// procsIn lists the processes in pid namespace ns, as seen from here.
func procsIn(ns string) []procStatus {
	var out []procStatus
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pidNS(pid) != ns {
			continue
		}
		if st, ok := readStatus(pid); ok {
			out = append(out, st)
		}
	}
	return out
}

// hostPid maps a pid inside namespace ns (its innermost pid) to the pid seen here; 0 if no
// such process exists.
func hostPid(ns string, inner int) int {
	for _, st := range procsIn(ns) {
		if len(st.nspid) > 0 && st.nspid[len(st.nspid)-1] == inner {
			return st.pid
		}
	}
	return 0
}
