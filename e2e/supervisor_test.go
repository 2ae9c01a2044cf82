package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	lone := filepath.Join(t.TempDir(), "appnet-agent")
	data, err := os.ReadFile(agentBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	a := newAgent(t)
	a.prefix = []string{"/bin/sh", "-c", `exec "$0"`, lone} // the lone copy, in the agent's place
	a.start()
	a.waitEnvoyUp(1)
	want := "Supervising Envoy in this process, which keeps the Envoy API's code in memory: no executable " +
		filepath.Join(filepath.Dir(lone), "appnet-agent-supervisor")
	if !strings.Contains(a.stderr(), want) {
		a.fatalf("no line saying %q", want)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", a.cmd.Process.Pid)); exe != lone {
		a.fatalf("the agent's process runs %s, want %s", exe, lone)
	}
	if err := syscall.Kill(a.cmd.Process.Pid, syscall.SIGTERM); err != nil { // sh exec'd the lone agent
		t.Fatal(err)
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

// TestSignalDuringHandOver: a SIGTERM that arrives while the supervisor's packages are being
// initialised, after the agent exec'd it, is a clean shutdown request (exit 0, Envoy never
// started). The trace pipe (sigtermDuringTracedInit) holds the supervisor at a package of this
// module; that the shutdown signals stay blocked across the exec itself, until the supervisor
// subscribes, is not reached by this test (the pipe holds about 50 trace lines).
func TestSignalDuringHandOver(t *testing.T) {
	t.Parallel()
	ready := false
	sigtermDuringTracedInit(t, func(line string) bool {
		ready = ready || strings.Contains(line, "bootstrap ready")
		return ready && strings.HasPrefix(line, "init github.com/appnet/appnet-agent/")
	})
}
