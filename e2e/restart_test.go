package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestartBudget: every exit is restarted until APPNET_ENVOY_RESTART_COUNT restarts are
// spent, then the agent exits with Envoy's code, 128+signal when Envoy was killed (R2).
func TestRestartBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        []string
		wantStarts int
		wantCode   int
	}{
		{"exit 3, two restarts", []string{"APPNET_ENVOY_RESTART_COUNT=2", "STANDIN_EXIT_CODE=3"}, 3, 3},
		{"exit 0, no restart", []string{"APPNET_ENVOY_RESTART_COUNT=0", "STANDIN_EXIT_CODE=0"}, 1, 0},
		{"SIGSEGV, one restart", []string{"APPNET_ENVOY_RESTART_COUNT=1", "STANDIN_EXIT_SIGNAL=SIGSEGV"}, 2, 128 + int(syscall.SIGSEGV)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, tc.env...)
			code := a.run(30 * time.Second)
			starts := envoyStarts(a.events())
			if len(starts) != tc.wantStarts || code != tc.wantCode {
				a.fatalf("%d Envoy starts and agent exit code %d, want %d and %d", len(starts), code, tc.wantStarts, tc.wantCode)
			}
			if n := strings.Count(a.stderr(), "Executing command: ["); n != tc.wantStarts {
				a.fatalf("%d \"Executing command\" log lines, want %d", n, tc.wantStarts)
			}
		})
	}
}

// TestKilledEnvoyIsRestarted: an Envoy killed from outside (SIGKILL, no chance to clean up)
// is restarted at once, and the restarted one is drained and stopped normally.
func TestKilledEnvoyIsRestarted(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "LISTENER_DRAIN_WAIT_TIME_S=5")
	a.start()
	first := a.waitEnvoyUp(1)
	if !a.owns(first.Pid) {
		a.fatalf("Envoy pid %d is not this test's process", first.Pid)
	}
	if err := syscall.Kill(first.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := a.waitEnvoyUp(2)
	if second.Pid == first.Pid {
		a.fatalf("no new Envoy process")
	}
	if !strings.Contains(a.stderr(), "killed by signal 9") {
		a.fatalf("the agent did not log how Envoy ended")
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 0 {
		a.fatalf("agent exit code %d after SIGTERM, want 0", code)
	}
	if n := len(envoyStarts(a.events())); n != 2 {
		a.fatalf("%d Envoy starts, want 2", n)
	}
}

// TestEnvoyCannotStart: a missing or unusable APPNET_ENVOY_PATH fails once, clearly, with the
// shell's exit code; retrying could not help, so there is no restart loop although the
// default budget (3) allows restarts.
func TestEnvoyCannotStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		make     func(dir string) string // returns APPNET_ENVOY_PATH
		wantCode int
		wantMsg  string
	}{
		{"missing", func(dir string) string { return filepath.Join(dir, "no-such-envoy") }, 127, "no such file or directory"},
		{"not executable", func(dir string) string { return writeFile(t, dir, "envoy", "#!/bin/sh\n", 0o644) }, 126, "permission denied"},
		{"a directory", func(dir string) string { return dir }, 126, "permission denied"},
		{"not a program", func(dir string) string { return writeFile(t, dir, "envoy", "\x00\x01garbage", 0o755) }, 126, "exec format error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t)
			path := tc.make(t.TempDir())
			a.setenv("APPNET_ENVOY_PATH=" + path)
			code := a.run(20 * time.Second)
			stderr := a.stderr()
			if code != tc.wantCode {
				a.fatalf("agent exit code %d, want %d", code, tc.wantCode)
			}
			wantLine := "cannot start Envoy " + path + " (APPNET_ENVOY_PATH): "
			if !strings.Contains(stderr, wantLine) || !strings.Contains(stderr, tc.wantMsg) {
				a.fatalf("stderr lacks %q and %q", wantLine, tc.wantMsg)
			}
			if n := strings.Count(stderr, "Executing command: ["); n != 1 {
				a.fatalf("%d start attempts, want 1 (no restart loop)", n)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
	return p
}
