package supervise

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/lifecycle"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// startTestReaper starts a reaper for one test as the agent does (its part kept by a
// lifecycle group) and stops both (clearing the subreaper attribute) at the end.
func startTestReaper(t *testing.T) *Reaper {
	t.Helper()
	r, stop, err := startReaper(hclog.NewNullLogger())
	if err != nil {
		t.Skipf("cannot become a child subreaper here: %v", err)
	}
	t.Cleanup(stop)
	return r
}

// startReaper is the agent's wiring of a Reaper (internal/cli/run.go): NewReaper, its Part
// run by a lifecycle group; stop ends the part, then the reaper.
func startReaper(log hclog.Logger) (r *Reaper, stop func(), err error) {
	r, err = NewReaper(log)
	if err != nil {
		return nil, nil, err
	}
	g := lifecycle.Start(log, r.Part())
	return r, func() { g.Stop(); r.Stop() }, nil
}

// TestReaperReapsOrphansButNotOthersChildren makes orphans (a shell's background sleeps,
// re-parented to this process) while other goroutines run ordinary os/exec children, and
// checks that every orphan is reaped and that no exec.Cmd loses its exit status.
func TestReaperReapsOrphansButNotOthersChildren(t *testing.T) {
	startTestReaper(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var execErrs []error
	runs := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				err := exec.Command("sh", "-c", "exit 7").Run()
				mu.Lock()
				runs++
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
					execErrs = append(execErrs, err)
				}
				mu.Unlock()
			}
		}()
	}
	var orphans []int
	for range 10 {
		out, err := exec.Command("sh", "-c", "sleep 0.1 & echo $!").Output()
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatal(err)
		}
		orphans = append(orphans, pid)
	}
	testenv.WaitFor(t, 10*time.Second, "orphans reaped", func() bool {
		for _, pid := range orphans {
			if procState(pid) != "" {
				return false
			}
		}
		return true
	})
	cancel()
	wg.Wait()
	if len(execErrs) > 0 {
		t.Errorf("%d of %d exec.Cmd runs lost their status, e.g. %v", len(execErrs), runs, execErrs[0])
	}
	t.Logf("%d orphans reaped while %d exec.Cmd runs kept their status", len(orphans), runs)
}

// TestReaperWithSupervisor: Envoy's exit statuses all arrive although orphans of Envoy are
// reaped around them.
func TestReaperWithSupervisor(t *testing.T) {
	r := startTestReaper(t)
	h := newHarness(t, "STANDIN_LIFETIME=60ms", "STANDIN_EXIT_CODE=3", "STANDIN_SPAWN_ORPHAN=10ms")
	h.opts.Reaper = r
	h.opts.RestartCount = 8
	h.opts.BackoffInitial = -1
	h.run()
	if code := h.wait(60 * time.Second); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	if st := h.state(); st.Starts != 9 || st.LastExitReason != "exited with code 3" {
		t.Errorf("state = %+v", st)
	}
	orphans := h.events("orphan")
	if len(orphans) == 0 {
		t.Fatal("the stand-in spawned no orphan")
	}
	testenv.WaitFor(t, 10*time.Second, "orphans reaped", func() bool {
		for _, e := range orphans {
			if procState(e.num("child_pid")) != "" {
				return false
			}
		}
		return true
	})
	t.Logf("%d Envoy exits seen, %d orphans reaped", h.state().Starts, len(orphans))
}

// TestOrphanOutlivingEnvoyIsReaped: an orphan that left Envoy's process group (so the group
// kill does not reach it) and exits after Envoy is reaped by the agent.
func TestOrphanOutlivingEnvoyIsReaped(t *testing.T) {
	r := startTestReaper(t)
	dir := t.TempDir()
	pidFile := dir + "/orphan.pid"
	script := dir + "/envoy"
	// A fake "Envoy" whose child moves to its own session, outlives it, then exits.
	body := "#!/bin/sh\nsetsid sh -c 'echo $$ > " + pidFile + "; sleep 0.3' &\nsleep 0.1\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	h := newHarness(t)
	h.opts.Argv = []string{script}
	h.opts.Reaper = r
	h.run()
	h.wait(20 * time.Second)
	var pid int
	testenv.WaitFor(t, 5*time.Second, "the orphan's pid", func() bool {
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return pid > 0
	})
	testenv.WaitFor(t, 10*time.Second, "the orphan reaped", func() bool { return procState(pid) == "" })
}

func TestStopIsIdempotentAndNilSafe(t *testing.T) {
	var nilReaper *Reaper
	nilReaper.Stop()
	nilReaper.release(1)
	r := startTestReaper(t)
	r.Stop()
	r.Stop()
}

// TestReaperAsPID1 runs the test binary as PID 1 of a new PID namespace (unshare), where it
// starts a reaper and a supervisor whose Envoy leaves orphans, and checks no zombie remains.
func TestReaperAsPID1(t *testing.T) {
	bin := standin(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed")
	}
	if out, err := exec.Command("unshare", "-fp", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare -fp --mount-proc is not permitted here: %v %s", err, out)
	}
	cmd := exec.Command("unshare", "-fp", "--mount-proc", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=pid1", "SUPERVISE_STANDIN="+bin, "SUPERVISE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("helper output:\n%s", out)
	if err != nil {
		t.Fatalf("helper failed: %v", err)
	}
	if !strings.Contains(string(out), "no zombies") {
		t.Error("helper did not confirm")
	}
}

// TestReaperLooksPastAnUnwaitedChild: an os/exec child that nobody waits for stays a zombie
// that waitid keeps returning first; orphans behind it are still reaped.
func TestReaperLooksPastAnUnwaitedChild(t *testing.T) {
	startTestReaper(t)
	blocker := exec.Command("true")
	if err := blocker.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "the unwaited child to exit", func() bool { return procState(blocker.Process.Pid) == "Z" })
	out, err := exec.Command("sh", "-c", "sleep 0.1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	orphan, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	testenv.WaitFor(t, 10*time.Second, "the orphan behind it reaped", func() bool { return procState(orphan) == "" })
	// The unwaited child was left to its owner.
	if err := blocker.Wait(); err != nil {
		t.Errorf("the owner lost its child's status: %v", err)
	}
}

// TestReapListed drives the /proc fallback directly: it reaps a zombie orphan and leaves an
// os/exec child's zombie to its owner.
func TestReapListed(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("cannot become a child subreaper: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	r := &Reaper{log: hclog.NewNullLogger(), owned: map[int]bool{}}
	blocker := exec.Command("true")
	if err := blocker.Start(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", "sleep 0.05 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	orphan, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	for _, pid := range []int{orphan, blocker.Process.Pid} {
		testenv.WaitFor(t, 5*time.Second, "a zombie", func() bool { return procState(pid) == "Z" })
	}
	r.mu.Lock()
	r.reapListed()
	r.mu.Unlock()
	if st := procState(orphan); st != "" {
		t.Errorf("orphan state %q, want reaped", st)
	}
	if err := blocker.Wait(); err != nil {
		t.Errorf("the owner lost its child's status: %v", err)
	}
}
