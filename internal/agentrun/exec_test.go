package agentrun

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/bootfile"
	"github.com/appnet/appnet-agent/internal/supervise"
)

// TestStateCrossesTheExec: what the agent hands over is what the supervisor reads.
func TestStateCrossesTheExec(t *testing.T) {
	st := State{
		Started: time.Unix(1700000000, 123456789).UTC(), ConfigPath: "/etc/envoy.yaml", LogLevel: "debug", ExistingFile: true,
		Argv: []string{"/usr/bin/envoy", "-c", "/tmp/x.yaml"}, Admin: Admin{UDS: "/tmp/admin.sock"},
		BootstrapWarnings: 2, BootstrapErrors: 1, BootstrapValidationWarnings: 3,
		Build:          api.BuildInfo{Version: "v1.2.3", GoVersion: "go1.26", ControlPlaneVersion: "v1.40.0"},
		SnapshotPeriod: time.Minute,
		Output: bootfile.Handoff{Path: "/tmp/x.yaml", Files: []bootfile.HandoffFile{
			{Path: "/tmp/x.yaml", Mode: 0o600, Owner: "ENVOY_CONFIG_FILE", Data: []byte("admin: {}\n")}}},
		AgentPath: "/usr/bin/appnet-agent",
		Envoy: &supervise.EnvoyHandoff{Pid: 42, Started: time.Unix(1700000000, 987654321).UTC(), StdoutFD: 5, StderrFD: 6,
			OOMBefore: 3, OOMKnown: true},
		APIFD: 7, ScrapeFD: 8, Signal: 15,
	}
	fd, err := unix.MemfdCreate(handoffName, 0)
	if err != nil {
		t.Skipf("no memfd: %v", err)
	}
	data, _ := json.Marshal(st)
	if _, err := unix.Write(fd, data); err != nil {
		t.Fatal(err)
	}
	t.Setenv(handoffEnv, strconv.Itoa(fd))
	got, err := readHandoff()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("read %+v\nwant %+v", got, st)
	}
	if _, ok := os.LookupEnv(handoffEnv); ok {
		t.Errorf("%s is still in the environment, which Envoy inherits", handoffEnv)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
		t.Errorf("the hand-over descriptor %d is still open", fd)
	}
}

// TestHandoffRefusals: the supervisor started by hand, or given another descriptor, says so.
func TestHandoffRefusals(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "not-a-memfd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name, value string
		set         bool
		want        string
	}{
		{"started by hand", "", false, "is started by appnet-agent (run)"},
		{"not a number", "x", true, "not a descriptor the agent handed over"},
		{"a standard stream", "1", true, "not a descriptor the agent handed over"},
		{"an ordinary file", strconv.Itoa(int(f.Fd())), true, "not the agent's hand-over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set {
				t.Setenv(handoffEnv, tt.value)
			} else {
				t.Setenv(handoffEnv, "")
				os.Unsetenv(handoffEnv)
			}
			_, err := readHandoff()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestFindSupervisor: next to the executable by its own name, or by the release's name.
func TestFindSupervisor(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self, _ = filepath.EvalSymlinks(self)
	_, err = FindSupervisor()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(filepath.Dir(self), SupervisorName)) ||
		!strings.Contains(err.Error(), "the image and the release ship both") {
		t.Errorf("without a supervisor next to %s: error %v", self, err)
	}
}

// TestFailedExecKeepsTheSignal: a shutdown signal that arrived before the exec is handed over
// (State.Signal), and, when the exec fails, is back in sigs for Run in this process.
func TestFailedExecKeepsTheSignal(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	var st State
	if takeSignal(sigs, &st) != nil || st.Signal != 0 {
		t.Fatalf("took a signal from an empty channel: %d", st.Signal)
	}
	sigs <- syscall.SIGTERM
	if got := takeSignal(sigs, &st); got != syscall.SIGTERM || st.Signal != int(syscall.SIGTERM) {
		t.Fatalf("took %v, State.Signal %d; want SIGTERM, %d", got, st.Signal, syscall.SIGTERM)
	}
	sigs <- syscall.SIGINT
	if err := Exec(filepath.Join(t.TempDir(), "missing"), []string{"x"}, State{}, sigs); err == nil {
		t.Fatal("exec of a missing file succeeded")
	}
	select {
	case sig := <-sigs:
		if sig != syscall.SIGINT {
			t.Fatalf("got %v back, want SIGINT", sig)
		}
	default:
		t.Fatal("the signal taken before the failed exec was lost")
	}
}
