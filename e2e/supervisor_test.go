package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// The long-lived process (issue 19): appnet-agent renders and validates the bootstrap, then
// execs appnet-agent-supervisor, installed next to it, which links nothing of the Envoy API.

// TestLongLivedProcessIsTheSupervisor: after the bootstrap is written, the agent's process
// runs appnet-agent-supervisor under the agent's name, and Envoy inherits nothing of the
// hand-over (no variable, no descriptor).
func TestLongLivedProcessIsTheSupervisor(t *testing.T) {
	t.Parallel()
	a := newAgent(t)
	a.start()
	up := a.waitEnvoyUp(1)
	a.waitHandedOver() // Envoy starts before the exec
	pid := a.cmd.Process.Pid
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(exe) != "appnet-agent-supervisor" || filepath.Dir(exe) != filepath.Dir(agentBin) {
		a.fatalf("the agent's process runs %s, want appnet-agent-supervisor next to %s", exe, agentBin)
	}
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "appnet-agent" {
		a.fatalf("the process is named %q, want appnet-agent", comm)
	}
	envoy := up.Pid
	environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", envoy))
	if strings.Contains(string(environ), "APPNET_AGENT_HANDOFF_FD") {
		a.fatalf("Envoy inherited the hand-over variable")
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", envoy))
	for _, fd := range fds {
		if link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", envoy, fd.Name())); strings.Contains(link, "memfd:") {
			a.fatalf("Envoy inherited descriptor %s → %s", fd.Name(), link)
		}
	}
	if n := strings.Count(a.stderr(), "bootstrap ready"); n != 1 || strings.Contains(a.stderr(), "Supervising Envoy in this process") {
		a.fatalf("%d \"bootstrap ready\" lines, or the supervisor was not used", n)
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 0 {
		a.fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestAgentWithoutSupervisor: an agent installed without appnet-agent-supervisor says so, with
// the path it looked for, and supervises Envoy itself.
func TestAgentWithoutSupervisor(t *testing.T) {
	t.Parallel()
	lone := install(t, t.TempDir(), "appnet-agent")
	a := newAgent(t)
	a.prefix = []string{"/bin/sh", "-c", `exec "$0"`, lone} // the lone copy, in the agent's place
	a.start()
	a.waitEnvoyUp(1)
	want := "Supervising Envoy in this process, which keeps the Envoy API's code in memory: no executable " +
		filepath.Join(filepath.Dir(lone), "appnet-agent-supervisor")
	if !strings.Contains(a.stderr(), want) {
		a.fatalf("no line saying %q", want)
	}
	stopLone(a, lone)
}

// TestSupervisorThatCannotRun: a supervisor that cannot be executed (not a program) is found,
// but the exec fails after Envoy started: the agent says so and adopts that Envoy itself — the
// same Envoy, started once, drained on SIGTERM.
func TestSupervisorThatCannotRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lone := install(t, dir, "appnet-agent")
	if err := os.WriteFile(filepath.Join(dir, "appnet-agent-supervisor"), []byte("not a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := newAgent(t)
	a.prefix = []string{"/bin/sh", "-c", `exec "$0"`, lone}
	a.start()
	up := a.waitEnvoyUp(1)
	if !testenv.Poll(10*time.Second, func() bool {
		return strings.Contains(a.stderr(), "cannot exec "+filepath.Join(dir, "appnet-agent-supervisor"))
	}) {
		a.fatalf("no line saying the supervisor could not be exec'd")
	}
	time.Sleep(200 * time.Millisecond)
	if err := syscall.Kill(up.Pid, 0); err != nil {
		a.fatalf("Envoy %d is gone after the failed exec: %v", up.Pid, err)
	}
	stopLone(a, lone)
	checkDrainedOnce(a, a.stderr())
}

// install copies the installed binaries named (from agentBin's directory) into dir and returns the path of
// appnet-agent there: an installation with the others missing.
func install(t *testing.T, dir string, names ...string) string {
	t.Helper()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(agentBin), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "appnet-agent")
}

// stopLone checks that the agent's process still runs the agent binary at lone (sh exec'd it)
// and stops it with SIGTERM (exit 0).
func stopLone(a *agent, lone string) {
	a.t.Helper()
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", a.cmd.Process.Pid)); exe != lone {
		a.fatalf("the agent's process runs %s, want %s", exe, lone)
	}
	if err := syscall.Kill(a.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		a.t.Fatal(err)
	}
	if code := a.wait(20 * time.Second); code != 0 {
		a.fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestSupervisorByHand: appnet-agent-supervisor started by hand says what it is for, exit 2.
func TestSupervisorByHand(t *testing.T) {
	t.Parallel()
	res := runCommandPath(t, filepath.Join(filepath.Dir(agentBin), "appnet-agent-supervisor"), t.TempDir(), nil)
	if res.code != 2 || !strings.Contains(res.stderr, "is started by appnet-agent (run), which renders and validates the bootstrap first") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestSignalDuringHandOver: Envoy starts before the agent execs the supervisor; a SIGTERM that
// arrives while the supervisor's packages are being initialised drains that Envoy (exit 0): the
// same Envoy, started once, asked to drain, then SIGTERMed — never SIGKILLed, nor restarted.
// The trace pipe (sigtermDuringTracedInit) holds the supervisor at a package of this module,
// after its signal subscription. A signal during the exec itself and the Go runtime's start,
// before any package is initialised, is not reached (nor can it be handled: the runtime unblocks
// and acts on SIGTERM, SIGINT and SIGQUIT before package initialisation; docs/DESIGN.md).
func TestSignalDuringHandOver(t *testing.T) {
	t.Parallel()
	started := false
	sigtermDuringTracedInit(t, func(line string) bool {
		started = started || strings.Contains(line, "Envoy started")
		return started && strings.HasPrefix(line, "init github.com/appnet/appnet-agent/")
	}, checkDrainedOnce)
}

// checkDrainedOnce checks that the one Envoy started was drained and stopped by SIGTERM.
func checkDrainedOnce(a *agent, rest string) {
	evs := a.events()
	starts := envoyStarts(evs)
	if len(starts) != 1 {
		a.fatalf("%d Envoy starts, want 1 (no restart across the hand-over); output:\n%s", len(starts), tail(rest, 3000))
	}
	pid := starts[0].Pid
	switch {
	case len(filter(evs, isDrain)) == 0:
		a.fatalf("Envoy was not drained; output:\n%s", tail(rest, 3000))
	case len(filter(evs, isSignal(pid, "SIGTERM"))) != 1:
		a.fatalf("Envoy %d got no SIGTERM; output:\n%s", pid, tail(rest, 3000))
	case len(filter(evs, isSignal(pid, "SIGKILL"))) != 0:
		a.fatalf("Envoy %d got SIGKILL", pid)
	}
}

// TestEnvoySurvivesTheHandOver: the agent starts Envoy, then execs the supervisor, which
// adopts that Envoy: the same process (pid, parent) keeps running — its parent-death signal is
// bound to the thread that forked it, which is the thread that exec'd — with nothing logged
// twice, and /status reports it. A SIGTERM then drains it.
func TestEnvoySurvivesTheHandOver(t *testing.T) {
	t.Parallel()
	a := newAgent(t)
	a.withAPI()
	a.start()
	up := a.waitEnvoyUp(1)
	a.waitHandedOver()
	time.Sleep(300 * time.Millisecond) // a SIGKILL from a lost parent thread would have come
	agentPid := a.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", up.Pid))
	if err != nil {
		a.fatalf("Envoy %d is gone after the hand-over: %v", up.Pid, err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if fields[0] == "Z" || fields[1] != strconv.Itoa(agentPid) {
		a.fatalf("Envoy %d: state %s, parent %s; want running, the agent's child (%d)", up.Pid, fields[0], fields[1], agentPid)
	}
	evs := a.events()
	if starts := envoyStarts(evs); len(starts) != 1 || starts[0].Pid != up.Pid {
		a.fatalf("Envoy starts %+v, want one, pid %d", starts, up.Pid)
	}
	if n := len(filter(evs, isEvent("signal"))); n != 0 {
		a.fatalf("Envoy got %d signals across the hand-over", n)
	}
	st, _, _ := a.status()
	if st.EnvoyPid != strconv.Itoa(up.Pid) || st.EnvoyRestartCount != "0" {
		a.fatalf("/status says Envoy pid %s, %s restarts; want %d, 0", st.EnvoyPid, st.EnvoyRestartCount, up.Pid)
	}
	stderr := a.stderr()
	for _, line := range []string{"Executing command", "Envoy started", "Server started", "bootstrap ready"} {
		if n := strings.Count(stderr, line); n != 1 {
			a.fatalf("%q logged %d times, want once:\n%s", line, n, stderr)
		}
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 0 {
		a.fatalf("exit code %d after SIGTERM, want 0", code)
	}
	checkDrainedOnce(a, a.stderr())
}

// TestEnvoyExitDuringHandOver: an Envoy that exits at once, while the agent execs the
// supervisor, is a zombie the supervisor reaps and reports as any exit (the orphan reaper
// leaves it alone), and restarts within the budget.
func TestEnvoyExitDuringHandOver(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "STANDIN_LIFETIME=1ms", "STANDIN_EXIT_CODE=3", "APPNET_ENVOY_RESTART_COUNT=1")
	a.start()
	if code := a.wait(30 * time.Second); code != 3 {
		a.fatalf("exit code %d, want Envoy's 3", code)
	}
	starts := envoyStarts(a.events())
	stderr := a.stderr()
	if len(starts) != 2 {
		a.fatalf("%d Envoy starts, want 2 (the first, one restart)", len(starts))
	}
	for _, s := range starts {
		if !strings.Contains(stderr, fmt.Sprintf("Envoy process exited pid=%d status=\"exited with code 3\"", s.Pid)) {
			a.fatalf("Envoy %d's exit is not reported:\n%s", s.Pid, stderr)
		}
	}
	if strings.Contains(stderr, "Reaped orphaned process") || strings.Contains(stderr, "lost its exit status") {
		a.fatalf("the orphan reaper took Envoy's exit:\n%s", stderr)
	}
}

// TestEnvoyOutputDuringHandOver: what Envoy prints at once, while the agent execs the
// supervisor, waits in the pipes the supervisor takes over: every line arrives, once.
func TestEnvoyOutputDuringHandOver(t *testing.T) {
	t.Parallel()
	const lines = 3000
	a := newAgent(t, "STANDIN_STDOUT_LINES="+strconv.Itoa(lines), "STANDIN_STDERR_LINES="+strconv.Itoa(lines))
	runUntilLinesDone(a, 2)
	out, _ := os.ReadFile(filepath.Join(a.dir, "agent.stdout"))
	for _, c := range []struct {
		text string
		re   *regexp.Regexp
	}{{string(out), stdoutLine}, {a.stderr(), stderrLine}} {
		seen := make([]int, lines+1)
		for _, l := range strings.Split(c.text, "\n") {
			if m := c.re.FindStringSubmatch(l); m != nil {
				n, _ := strconv.Atoi(m[1])
				seen[n]++
			}
		}
		for n := 1; n <= lines; n++ {
			if seen[n] != 1 {
				a.fatalf("%s: line %d seen %d times, want once", c.re, n, seen[n])
			}
		}
	}
}
