package dispatch_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/dispatch"
	"github.com/appnet/appnet-agent/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBuilds()
	os.Exit(code)
}

// fakeFull stands in for appnet-agent-full: it prints its pid, arguments and dispatch.Marker.
const fakeFull = "#!/bin/sh\necho \"full pid=$$ args=$* marker=$" + dispatch.Marker + "\"\n"

// install copies the lean build into a new directory as appnet-agent, with full (a script, or "" for none)
// next to it as appnet-agent-full; it returns the directory.
func install(t *testing.T, full string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the lean agent")
	}
	lean, err := testenv.Build("appnet-agent-lean", ".", "-tags=appnet_lean")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyFile(t, lean, filepath.Join(dir, "appnet-agent"))
	if full != "" {
		if err := os.WriteFile(filepath.Join(dir, dispatch.FullName), []byte(full), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// run starts bin with args and the extra environment (the test's own minus user-input variables), and returns its
// pid, exit code, stdout and stderr.
func run(t *testing.T, bin string, env []string, args ...string) (pid, code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(dispatch.UserInputVars, name) && name != dispatch.Marker && name != "GODEBUG" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.Process.Pid, cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestLeanExecsFullBeforeTheEnvoyAPI: user input makes the lean build exec appnet-agent-full in the same process,
// with the same arguments and dispatch.Marker set, before any Envoy API or protobuf package is initialised.
func TestLeanExecsFullBeforeTheEnvoyAPI(t *testing.T) {
	dir := install(t, fakeFull)
	pid, code, stdout, stderr := run(t, filepath.Join(dir, "appnet-agent"),
		[]string{"ENVOY_RESOURCES_CONFIG_FILE=/r.yaml", "GODEBUG=inittrace=1"}, "-logLevel", "debug")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := "full pid=" + strconv.Itoa(pid) + " args=-logLevel debug marker=1\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	inits := strings.Count(stderr, "init ")
	if inits == 0 {
		t.Fatalf("no GODEBUG=inittrace=1 lines on stderr:\n%s", stderr)
	}
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "init github.com/envoyproxy/") || strings.HasPrefix(line, "init google.golang.org/protobuf/") ||
			strings.HasPrefix(line, "init github.com/appnet/appnet-agent/internal/validate") {
			t.Errorf("initialised before the exec: %s", line)
		}
	}
	t.Logf("%d package inits before the exec", inits)
}

// TestPrefaultInitialisesBeforeTheEnvoyAPI: internal/prefault's init, which prepares the heap for what the package
// initialisation allocates, runs before the first protobuf or Envoy API package is initialised; else it would come
// after the allocations it is for.
func TestPrefaultInitialisesBeforeTheEnvoyAPI(t *testing.T) {
	dir := install(t, "")
	_, _, _, stderr := run(t, filepath.Join(dir, "appnet-agent"), []string{"GODEBUG=inittrace=1"}, "render")
	prefault, api := -1, -1
	for i, line := range strings.Split(stderr, "\n") {
		switch {
		case strings.HasPrefix(line, "init github.com/appnet/appnet-agent/internal/prefault "):
			prefault = i
		case api < 0 && (strings.HasPrefix(line, "init google.golang.org/protobuf/") || strings.HasPrefix(line, "init github.com/envoyproxy/")):
			api = i
		}
	}
	if prefault < 0 || api < 0 {
		t.Fatalf("the init trace lacks internal/prefault (%d) or the Envoy API (%d):\n%s", prefault, api, stderr)
	}
	if prefault > api {
		t.Errorf("internal/prefault initialises after the Envoy API's first package (line %d > %d):\n%s", prefault, api, stderr)
	}
}

// TestLeanServesRunWithoutUserInput: the readiness probe and version run in the lean build itself.
func TestLeanServesRunWithoutUserInput(t *testing.T) {
	dir := install(t, fakeFull)
	_, code, stdout, stderr := run(t, filepath.Join(dir, "appnet-agent"), []string{"ENVOY_CONFIG_FILE=" + filepath.Join(dir, "new.yaml")}, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "appnet-agent ") || strings.Contains(stdout, "full pid") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want the lean build's version", code, stdout, stderr)
	}
}

// TestMissingFullBuild: without appnet-agent-full, user input and the other subcommands exit 1 naming the path and
// the reason; the lean build's own cases still work.
func TestMissingFullBuild(t *testing.T) {
	dir := install(t, "")
	bin := filepath.Join(dir, "appnet-agent")
	for _, tc := range []struct {
		env    []string
		args   []string
		reason string
	}{
		{env: []string{"APPNET_TEMPLATE_DIR=/t"}, reason: "APPNET_TEMPLATE_DIR is set"},
		{args: []string{"validate", "x.yaml"}, reason: "the validate command"},
		{args: []string{"render", "--env-file", "x.env"}, reason: "-env-file"},
	} {
		_, code, stdout, stderr := run(t, bin, tc.env, tc.args...)
		wantPath := filepath.Join(dir, dispatch.FullName)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tc.reason+" needs the full validator, "+wantPath+", which cannot be run") ||
			!strings.Contains(stderr, "side by side") {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q; want exit 1 naming %s and %q", tc.env, tc.args, code, stdout, stderr, wantPath, tc.reason)
		}
	}
	if _, code, _, stderr := run(t, bin, nil, "version"); code != 0 {
		t.Errorf("version without the full build: exit %d, %s", code, stderr)
	}
}

// TestLeanInstalledAsFullRefuses: a lean build installed as appnet-agent-full would exec itself forever; the
// dispatch.Marker stops it at the second step.
func TestLeanInstalledAsFullRefuses(t *testing.T) {
	dir := install(t, "")
	copyFile(t, filepath.Join(dir, "appnet-agent"), filepath.Join(dir, dispatch.FullName))
	_, code, _, stderr := run(t, filepath.Join(dir, "appnet-agent"), []string{"ENVOY_CONFIG=admin: {}"})
	if code != 1 || !strings.Contains(stderr, "is the lean build of appnet-agent, run as "+dispatch.FullName) {
		t.Errorf("exit %d, stderr %q; want exit 1 saying the full binary is a lean build", code, stderr)
	}
}

// TestFullFoundThroughLink: appnet-agent reached through a symbolic link finds appnet-agent-full next to its
// target, as the supervisor is found.
func TestFullFoundThroughLink(t *testing.T) {
	dir := install(t, fakeFull)
	link := filepath.Join(t.TempDir(), "appnet-agent")
	if err := os.Symlink(filepath.Join(dir, "appnet-agent"), link); err != nil {
		t.Fatal(err)
	}
	_, code, stdout, stderr := run(t, link, nil, "validate", "x.yaml")
	if code != 0 || !strings.HasPrefix(stdout, "full pid=") {
		t.Errorf("exit %d, stdout %q, stderr %q; want the full build next to the link's target", code, stdout, stderr)
	}
}

// TestFullFoundUnderItsReleaseName: an entry point installed under its release name finds the full build's release
// name beside it, as the supervisor is found.
func TestFullFoundUnderItsReleaseName(t *testing.T) {
	dir := install(t, "")
	entry := filepath.Join(dir, "appnet-agent_v1.2.3_linux_amd64")
	if err := os.Rename(filepath.Join(dir, "appnet-agent"), entry); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, dispatch.FullName+"_v1.2.3_linux_amd64"), []byte(fakeFull), 0o755); err != nil {
		t.Fatal(err)
	}
	_, code, stdout, stderr := run(t, entry, nil, "golden", "cases")
	if code != 0 || !strings.HasPrefix(stdout, "full pid=") {
		t.Errorf("exit %d, stdout %q, stderr %q; want the full build's release name beside the entry point's", code, stdout, stderr)
	}
}
