package agentrun

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/bootfile"
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
			{Path: "/tmp/x.yaml", Mode: 0o600, Owner: "ENVOY_CONFIG_FILE", SHA256: strings.Repeat("a", 64)}}},
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
