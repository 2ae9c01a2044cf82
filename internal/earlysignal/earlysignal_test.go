package earlysignal

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// helperVar selects, in a re-executed test binary, what the child does (see TestMain).
const helperVar = "EARLYSIGNAL_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperVar) {
	case "release-after-signal":
		// A signal that came during initialisation acts once released, as its default.
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(100 * time.Millisecond) // queued, not acted on
		Release()
		time.Sleep(10 * time.Second)
		os.Exit(3) // not reached
	case "hangup-subscribed":
		// Started with a subcommand: SIGHUP is subscribed until Release, not ignored. (This test
		// binary, a run, ignores SIGHUP, and its children inherit that: so a SIGHUP released here
		// would be ignored again rather than kill, and TestReleaseReraises checks the re-raise.)
		<-subscribed // as ForRun and Release wait
		if signal.Ignored(syscall.SIGHUP) {
			os.Exit(5)
		}
		os.Exit(0)
	case "run-broken-stdout":
		ForRun()
		_, err := fmt.Println("into a pipe nobody reads")
		if err == nil {
			os.Exit(4)
		}
		os.Exit(0) // the write failed; the process lives
	}
	os.Exit(m.Run())
}

func TestForRunQueuesShutdownSignals(t *testing.T) {
	ch := ForRun()
	if err := syscall.Kill(os.Getpid(), syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	receive(t, ch, syscall.SIGQUIT)
}

// receive waits for want on ch.
func receive(t *testing.T, ch chan os.Signal, want os.Signal) {
	t.Helper()
	select {
	case sig := <-ch:
		if sig != want {
			t.Errorf("got %v, want %v", sig, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %v", want)
	}
}

func helper(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperVar+"="+mode)
	return cmd
}

func TestReleaseReraises(t *testing.T) {
	cmd := helper(t, "release-after-signal")
	err := cmd.Run()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("helper ended with %v (%v), want killed by SIGTERM", cmd.ProcessState, err)
	}
}

// Issue 16, item 2: for run, a write to a stdout whose reader is gone fails with EPIPE; it does
// not kill the process with SIGPIPE.
func TestRunSurvivesBrokenStdout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := helper(t, "run-broken-stdout")
	cmd.Stdout = w
	err = cmd.Run()
	w.Close()
	if err != nil {
		t.Errorf("helper: %v (%v), want exit 0 after a failed write", err, cmd.ProcessState)
	}
}

// TestRunIgnoresHangupFromInit: this test binary runs with flags only, as the agent's run does, so SIGHUP has been
// ignored since package initialisation (signal.Ignore, no round trip to the signal thread); another invocation
// keeps it subscribed until Release (TestSubcommandSubscribesHangup).
func TestRunIgnoresHangupFromInit(t *testing.T) {
	if !signal.Ignored(syscall.SIGHUP) {
		t.Fatalf("SIGHUP is not ignored after package initialisation for the arguments %q", os.Args[1:])
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil { // would kill the test binary if not ignored
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
}

func TestSubcommandSubscribesHangup(t *testing.T) {
	cmd := helper(t, "hangup-subscribed")
	cmd.Args = []string{os.Args[0], "render"} // a subcommand, not a run (TestMain acts before flags are parsed)
	if err := cmd.Run(); err != nil {
		t.Errorf("helper: %v (exit 5: SIGHUP ignored for a subcommand)", err)
	}
}
