// Package testenv is the shared support of the end-to-end tests: it builds the agent and
// envoy-standin once per test process, finds the repository root, picks free ports, reads
// the stand-in's record file (whose schema is record.Event, in the package below) and polls.
//
// It is for tests only: import it from _test.go files, never from production code
// (TestNotImportedByProductionCode checks this).
package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/dispatch"
)

// RepoRoot is the absolute path of the repository root (the agent's main package).
func RepoRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// Testdata is the path of a directory or file under the repository's testdata/ (the
// conformance corpus and the real-bootstrap corpus live there, so a clone tests itself).
func Testdata(elem ...string) string {
	return filepath.Join(append([]string{RepoRoot(), "testdata"}, elem...)...)
}

var builds struct {
	mu   sync.Mutex
	dir  string
	done map[string]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// Build runs `go build flags -o DIR/name pkg` from the repository root, pkg being relative
// to it ("." for the agent), static (CGO_ENABLED=0) unless flags ask for -race. Each (name,
// pkg, flags) is built once per process, into a temporary directory that RemoveBuilds
// deletes; concurrent calls are safe.
func Build(name, pkg string, flags ...string) (string, error) {
	key := strings.Join(append([]string{name, pkg}, flags...), "\x00")
	builds.mu.Lock()
	if builds.done == nil {
		builds.done = map[string]*build{}
	}
	b := builds.done[key]
	if b == nil {
		b = &build{}
		builds.done[key] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		dir, err := buildDir()
		if err == nil {
			dir, err = os.MkdirTemp(dir, "b")
		}
		if err == nil {
			// Tests run the agent as another user too (setpriv): the installed binaries are world-executable.
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			b.err = err
			return
		}
		b.path, b.err = buildSet(dir, name, pkg, flags)
	})
	return b.path, b.err
}

// installed are the binaries of an agent installation (docs/DEPLOYMENT.md), built side by side when Build is
// asked for appnet-agent: the entry point is the lean build, which execs appnet-agent-full for user input and
// most subcommands (internal/dispatch); run execs appnet-agent-supervisor (internal/agentrun).
var installed = []struct{ name, pkg, tags string }{
	{"appnet-agent", ".", "appnet_lean"},
	{dispatch.FullName, ".", ""},
	{"appnet-agent-supervisor", "./cmd/appnet-agent-supervisor", ""}, // agentrun.SupervisorName; agentrun's tests import this package
}

// buildSet builds name from pkg into dir: alone, or for appnet-agent from "." the installed set, concurrently
// (linking is mostly single-threaded). It returns name's path.
func buildSet(dir, name, pkg string, flags []string) (string, error) {
	if name != "appnet-agent" || pkg != "." {
		return buildInto(filepath.Join(dir, name), pkg, flags)
	}
	errs := make([]error, len(installed))
	var wg sync.WaitGroup
	for i, bin := range installed {
		wg.Go(func() {
			f := flags
			if bin.tags != "" {
				f = append(slices.Clone(flags), "-tags="+bin.tags)
			}
			_, errs[i] = buildInto(filepath.Join(dir, bin.name), bin.pkg, f)
		})
	}
	wg.Wait()
	return filepath.Join(dir, name), errors.Join(errs...)
}

// buildInto runs `go build flags -o path pkg` from the repository root.
func buildInto(path, pkg string, flags []string) (string, error) {
	args := append(append([]string{"build"}, flags...), "-o", path, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo(flags))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return path, nil
}

// cgo is CGO_ENABLED for a build with flags: 0, a static binary as released and as the
// container image needs (`make test` exports it too, so these builds share its build cache),
// except with -race, which needs cgo.
func cgo(flags []string) string {
	if slices.Contains(flags, "-race") {
		return "1"
	}
	return "0"
}

func buildDir() (string, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "appnet-testenv-")
		if err == nil {
			err = os.Chmod(dir, 0o755) // see Build: world-executable binaries
		}
		if err != nil {
			return "", err
		}
		builds.dir = dir
	}
	return builds.dir, nil
}

// RemoveBuilds deletes every binary Build made; call it at the end of TestMain.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
	}
}

// AgentBinary builds the agent as installed: appnet-agent (the lean entry point, `go build flags -tags=appnet_lean
// .`), appnet-agent-full (`go build flags .`) and appnet-agent-supervisor side by side; it returns the first.
func AgentBinary(flags ...string) (string, error) { return Build("appnet-agent", ".", flags...) }

// StandinBinary builds envoy-standin, named envoy.
func StandinBinary() (string, error) { return Build("envoy", "./internal/envoystandin") }

// Standin is StandinBinary that fails tb on error.
func Standin(tb testing.TB) string {
	tb.Helper()
	path, err := StandinBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// handedOut are the ports FreePort has returned in this process.
var handedOut struct {
	mu    sync.Mutex
	ports map[int]bool
}

// FreePort returns a loopback TCP port that was free a moment ago and that no earlier call in
// this test process returned: the kernel may hand the same ephemeral port out again as soon as
// it is closed, and two ports one test asks for (the agent's API and an Envoy listener, say)
// must differ. Linux hands out ephemeral ports in a scattered order, so tests in other
// processes do not collide in practice.
func FreePort(tb testing.TB) int {
	tb.Helper()
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
	tb.Fatal("FreePort: 100 ports in a row were handed out before")
	return 0
}

// SafeBuffer collects a process's output; it is safe for concurrent writers and readers.
// The zero value is ready to use.
type SafeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ReadRecord decodes the stand-in's JSON-lines record file (see internal/envoystandin/doc.go)
// into one T per line; nil while the file does not exist. A line that does not decode is
// left out and, when bad is not nil, passed to it with the error and whether the file
// ended mid-line when read (a write in progress); reading stops when bad returns false.
func ReadRecord[T any](tb testing.TB, path string, bad func(line string, err error, writing bool) bool) []T {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			if bad != nil && !bad(sc.Text(), err, !bytes.HasSuffix(b, []byte("\n"))) {
				break
			}
			continue
		}
		out = append(out, v)
	}
	return out
}

// Poll calls cond every 10 ms until it holds; false at the deadline.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// WaitFor polls cond every 10 ms and fails tb if it does not hold within timeout.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Poll(timeout, cond) {
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// WriteTree writes files (slash-separated path relative to a new temporary directory →
// content) and returns the directory: fake cgroup file systems, overlays.
func WriteTree(tb testing.TB, files map[string]string) string {
	tb.Helper()
	root := tb.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

// ImportChain returns the shortest chain of imports from root to a package for which match is true (imports maps
// each package to its imports, as `go list -deps` prints them), nil if there is none.
func ImportChain(imports map[string][]string, root string, match func(pkg string) bool) []string {
	from := map[string]string{root: ""}
	for queue := []string{root}; len(queue) > 0; queue = queue[1:] {
		pkg := queue[0]
		if match(pkg) {
			var chain []string
			for p := pkg; p != ""; p = from[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, imp := range imports[pkg] {
			if _, seen := from[imp]; !seen {
				from[imp] = pkg
				queue = append(queue, imp)
			}
		}
	}
	return nil
}
