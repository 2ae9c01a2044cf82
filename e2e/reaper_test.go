package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

var (
	unshareOnce sync.Once
	unsharePath string
	unshareErr  error
)

// requireUnshare skips the test unless `unshare -fp --mount-proc` works here: it needs
// util-linux and root (or user namespaces), and some sandboxes forbid new namespaces.
func requireUnshare(t *testing.T) string {
	t.Helper()
	unshareOnce.Do(func() {
		if unsharePath, unshareErr = exec.LookPath("unshare"); unshareErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, unsharePath, "-fp", "--mount-proc", "true").CombinedOutput(); err != nil {
			unshareErr = fmt.Errorf("%s -fp --mount-proc true: %v %s", unsharePath, err, out)
		}
	})
	if unshareErr != nil {
		t.Skipf("cannot run the agent as PID 1 of a new pid namespace: %v", unshareErr)
	}
	return unsharePath
}

// TestOrphansAreReaped (R4): a process Envoy leaves behind is reparented to the agent — as
// PID 1 of a pid namespace (a container), or as child subreaper otherwise — and the agent
// must reap it. The stand-in's orphan exits after 100 ms while the stand-in (which never
// waits for it) runs, so it is first a zombie of Envoy: this proves the check below can see
// zombies at all. Then Envoy is killed; the zombie passes to the agent and must go, while
// the agent goes on supervising (it restarts Envoy).
//
// Processes are inspected through this host's /proc, in the agent's pid namespace, mapping
// the stand-in's namespace pids with NSpid: nothing runs inside the namespace but the agent.
func TestOrphansAreReaped(t *testing.T) {
	t.Parallel()
	for _, pid1 := range []bool{true, false} {
		name := "agent is a child subreaper"
		if pid1 {
			name = "agent is PID 1 (unshare -fp)"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, "STANDIN_SPAWN_ORPHAN=100ms", "APPNET_ENVOY_RESTART_COUNT=1")
			if pid1 {
				a.prefix = []string{requireUnshare(t), "-fp", "--mount-proc"}
			}
			a.start()
			agentPid := a.cmd.Process.Pid
			if pid1 {
				// unshare forks the namespace's PID 1, which execs the agent.
				if !testenv.Poll(10*time.Second, func() bool { agentPid = childOf(a.cmd.Process.Pid); return agentPid > 0 }) {
					a.fatalf("unshare started no child")
				}
			}
			ns := pidNS(agentPid)
			if st, _ := readStatus(agentPid); pid1 && st.nspid[len(st.nspid)-1] != 1 {
				a.fatalf("agent is pid %v in its namespace, want 1", st.nspid)
			}

			orphanEv := a.waitEvent("Envoy's orphan", 1, 20*time.Second, isEvent("orphan"))
			envoy, orphan := hostPid(ns, orphanEv.Pid), hostPid(ns, orphanEv.ChildPid)
			if envoy == 0 || orphan == 0 {
				a.fatalf("Envoy %d or its orphan %d (namespace pids) not found", orphanEv.Pid, orphanEv.ChildPid)
			}
			zombieOf := func(pid, parent int) bool {
				st, ok := readStatus(pid)
				return ok && st.state == 'Z' && st.ppid == parent
			}
			if !testenv.Poll(10*time.Second, func() bool { return zombieOf(orphan, envoy) }) {
				a.fatalf("the orphan %d never showed as a zombie of Envoy %d", orphan, envoy)
			}

			if err := syscall.Kill(envoy, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			a.waitEnvoyUp(2) // still supervising
			gone := func() bool {
				st, ok := readStatus(orphan)
				return !ok || pidNS(orphan) != ns || st.nspid[len(st.nspid)-1] != orphanEv.ChildPid
			}
			if !testenv.Poll(10*time.Second, gone) {
				st, _ := readStatus(orphan)
				a.fatalf("the orphan %d was not reaped: state %c, parent %d (agent %d)", orphan, st.state, st.ppid, agentPid)
			}
			// Nothing else is left unreaped either (Envoy's own zombie is reaped by the
			// supervisor, a moment after its exit).
			noZombieChild := func() bool {
				return !slices.ContainsFunc(procsIn(ns), func(st procStatus) bool { return st.state == 'Z' && st.ppid == agentPid })
			}
			if !testenv.Poll(10*time.Second, noZombieChild) {
				a.fatalf("zombie children of the agent remain: %+v", procsIn(ns))
			}
			if a.exited() {
				a.fatalf("agent exited")
			}
		})
	}
}

// childOf returns a child of pid, 0 if it has none.
func childOf(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var child int
		if _, err := fmt.Sscan(e.Name(), &child); err != nil {
			continue
		}
		if st, ok := readStatus(child); ok && st.ppid == pid {
			return child
		}
	}
	return 0
}
