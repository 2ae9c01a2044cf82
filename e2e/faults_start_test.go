package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

var (
	mountNSOnce sync.Once
	mountNSErr  error
)

// requireMountNS skips the test unless `unshare -m` works here (root, or user namespaces):
// the test mounts small or read-only filesystems that only the agent sees.
func requireMountNS(t *testing.T) {
	t.Helper()
	mountNSOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		dir, err := os.MkdirTemp("", "mntns")
		if err != nil {
			mountNSErr = err
			return
		}
		defer os.RemoveAll(dir)
		out, err := exec.CommandContext(ctx, "unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=8k tmpfs "+dir).CombinedOutput()
		if err != nil {
			mountNSErr = fmt.Errorf("unshare -m with a tmpfs mount: %v %s", err, out)
		}
	})
	if mountNSErr != nil {
		t.Skipf("cannot mount filesystems for the agent alone: %v", mountNSErr)
	}
}

// inMountNS runs the agent in a private mount namespace after setup (shell commands), and
// runs after (with the agent's exit code kept) once it has exited.
func (a *agent) inMountNS(setup, after string) {
	a.prefix = []string{"unshare", "-m", "sh", "-c", setup + ` && { "$0" "$@"; code=$?; ` + after + `; exit $code; }`}
}

// Issue 7, fault injection: what goes wrong before Envoy can start ends in exit code 1 with
// one clear error line naming the cause, no Envoy started, and nothing left behind.
func TestStartFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mount   bool                         // needs a private mount namespace
		root    bool                         // needs root (to drop to another user)
		setup   func(t *testing.T, a *agent) // adjusts the run
		want    []string                     // in the error line
		listing string                       // expected `ls -A` of the directory after the run, when checked
	}{
		{name: "read-only bootstrap directory", mount: true, setup: func(t *testing.T, a *agent) {
			d := filepath.Join(a.dir, "ro")
			mkdir(t, d)
			a.setenv("ENVOY_CONFIG_FILE=" + d + "/boot.yaml")
			a.inMountNS("mount -t tmpfs tmpfs "+d+" && : > "+d+"/boot.yaml && mount -o remount,ro "+d, "ls -A "+d+" > "+a.dir+"/listing")
		}, want: []string{"boot.yaml", "read-only file system"}, listing: "boot.yaml\n"},
		{name: "full bootstrap directory", mount: true, setup: func(t *testing.T, a *agent) {
			d := filepath.Join(a.dir, "full")
			mkdir(t, d)
			a.setenv("ENVOY_CONFIG_FILE=" + d + "/boot.yaml")
			a.inMountNS("mount -t tmpfs -o size=8k tmpfs "+d+" && : > "+d+"/boot.yaml && { dd if=/dev/zero of="+d+"/fill bs=1k count=64 2>/dev/null; true; }",
				"ls -A "+d+" > "+a.dir+"/listing")
		}, want: []string{"boot.yaml", "no space left on device"}, listing: "boot.yaml\nfill\n"},
		{name: "full TMPDIR leaves no empty bootstrap behind", mount: true, setup: func(t *testing.T, a *agent) {
			d := filepath.Join(a.dir, "tmp")
			mkdir(t, d)
			a.setenv("ENVOY_CONFIG_FILE", "TMPDIR="+d)
			a.inMountNS("mount -t tmpfs -o size=8k tmpfs "+d+" && { dd if=/dev/zero of="+d+"/fill bs=1k count=64 2>/dev/null; true; }",
				"ls -A "+d+" > "+a.dir+"/listing")
		}, want: []string{"TMPDIR: cannot create the bootstrap file", "envoy-config.yaml", "no space left on device"}, listing: "fill\n"},
		{name: "read-only log directory", mount: true, setup: func(t *testing.T, a *agent) {
			d := filepath.Join(a.dir, "logs")
			mkdir(t, d)
			a.setenv("APPNET_ENVOY_LOG_DESTINATION=" + d)
			a.inMountNS("mount -t tmpfs -o ro tmpfs "+d, "true")
		}, want: []string{"APPNET_ENVOY_LOG_DESTINATION", "read-only file system"}},
		{name: "missing TMPDIR", setup: func(t *testing.T, a *agent) {
			a.setenv("ENVOY_CONFIG_FILE", "TMPDIR="+filepath.Join(a.dir, "no-such-dir"))
		}, want: []string{"TMPDIR: cannot create the bootstrap file", "no such file or directory"}},
		{name: "management socket in a missing directory", setup: func(t *testing.T, a *agent) {
			a.setenv("APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+filepath.Join(a.dir, "missing", "api.sock"))
		}, want: []string{"APPNET_AGENT_ADMIN_UDS_PATH", "no such file or directory"}},
		{name: "management socket path taken by a regular file", setup: func(t *testing.T, a *agent) {
			p := writeFile(t, a.dir, "api.sock", "keep me", 0o644)
			a.setenv("APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+p)
		}, want: []string{"APPNET_AGENT_ADMIN_UDS_PATH", "exists and is not a socket; not replacing it"}},
		{name: "management socket path is a symbolic link", setup: func(t *testing.T, a *agent) {
			target := writeFile(t, a.dir, "target", "keep me", 0o644)
			p := filepath.Join(a.dir, "api.sock")
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			a.setenv("APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+p)
		}, want: []string{"APPNET_AGENT_ADMIN_UDS_PATH", "is a symbolic link; not replacing it"}},
		{name: "management socket path too long to connect to", setup: func(t *testing.T, a *agent) {
			a.setenv("APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+a.dir+"/"+strings.Repeat("s", 120))
		}, want: []string{"APPNET_AGENT_ADMIN_UDS_PATH", "a Unix socket path can be at most 107 bytes"}},
		{name: "management API port is Envoy's admin port", setup: func(t *testing.T, a *agent) {
			a.withAPI()
			a.setenv("APPNET_AGENT_HTTP_PORT=" + strconv.Itoa(a.port))
		}, want: []string{"APPNET_AGENT_HTTP_PORT", "Envoy's admin port (ENVOY_ADMIN_ACCESS_PORT)"}},
		{name: "management API port is a static listener's", setup: func(t *testing.T, a *agent) {
			a.withAPI()
			// The golden fragment's static listener static_ingress is on 0.0.0.0:15000; the agent
			// exits before binding anything.
			a.setenv("ENVOY_RESOURCES_CONFIG_FILE="+filepath.Join(testenv.RepoRoot(), "golden", "files", "resources.yaml"),
				"APPNET_AGENT_HTTP_PORT=15000")
		}, want: []string{"APPNET_AGENT_HTTP_PORT", `Envoy's static listener "static_ingress"`}},
		{name: "ENVOY_CONFIG_FILE is a directory", setup: func(t *testing.T, a *agent) {
			a.setenv("ENVOY_CONFIG_FILE=" + a.dir)
		}, want: []string{"ENVOY_CONFIG_FILE", "is not a regular file"}},
		{name: "ENVOY_CONFIG_FILE is a symlink loop", setup: func(t *testing.T, a *agent) {
			p := filepath.Join(a.dir, "loop.yaml")
			if err := os.Symlink(p, p); err != nil {
				t.Fatal(err)
			}
			a.setenv("ENVOY_CONFIG_FILE=" + p)
		}, want: []string{"ENVOY_CONFIG_FILE", "too many levels of symbolic links"}},
		{name: "ENVOY_CONFIG_FILE is huge", setup: func(t *testing.T, a *agent) {
			p := writeFile(t, a.dir, "huge.yaml", "node: {id: n, cluster: c}\n"+strings.Repeat("# padding padding padding\n", 200000), 0o644)
			a.setenv("ENVOY_CONFIG_FILE=" + p)
		}, want: []string{"ENVOY_CONFIG_FILE", "the agent reads bootstraps and fragments of at most 4 MiB"}},
		{name: "ENVOY_CONFIG_FILE is unreadable", root: true, setup: func(t *testing.T, a *agent) {
			p := writeFile(t, a.dir, "secret.yaml", "node: {id: n, cluster: c}\n", 0o000)
			if err := os.Chmod(a.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			a.setenv("ENVOY_CONFIG_FILE="+p, "TMPDIR=/tmp")
			a.prefix = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
		}, want: []string{"ENVOY_CONFIG_FILE", "permission denied"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.mount {
				requireMountNS(t)
			}
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root to run the agent as another user")
			}
			a := newAgent(t)
			tc.setup(t, a)
			if code := a.run(30 * time.Second); code != 1 {
				a.fatalf("exit code %d, want 1", code)
			}
			errs := a.errorLines()
			if len(errs) == 0 {
				// Configuration errors are printed as `error: ...` before the logger exists.
				for _, l := range strings.Split(a.stderr(), "\n") {
					if strings.HasPrefix(l, "error: ") {
						errs = append(errs, l)
					}
				}
			}
			if len(errs) != 1 {
				a.fatalf("%d error lines, want 1: %q", len(errs), errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs[0], w) {
					a.fatalf("the error line %q lacks %q", errs[0], w)
				}
			}
			if _, err := os.Stat(a.rec); err == nil && len(envoyStarts(a.events())) > 0 {
				a.fatalf("Envoy was started")
			}
			if tc.listing != "" {
				got, err := os.ReadFile(filepath.Join(a.dir, "listing"))
				if err != nil || string(got) != tc.listing {
					a.fatalf("the directory holds %q (%v), want %q", got, err, tc.listing)
				}
			}
			if strings.Contains(tc.name, "regular file") || strings.Contains(tc.name, "symbolic link") {
				if b, _ := os.ReadFile(filepath.Join(a.dir, "api.sock")); string(b) != "keep me" {
					a.fatalf("the file at the socket path was changed: %q", b)
				}
			}
		})
	}
}

func mkdir(t *testing.T, d string) {
	t.Helper()
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
}
