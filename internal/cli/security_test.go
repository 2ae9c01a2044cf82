package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestNoShellInProductionCode (issue 7, security): the agent never hands a value to a shell.
// It runs two programs, Envoy and `envoy --version`, each by path with an argument vector, and
// execs its own siblings by the path of its own executable: the supervisor (agentrun, through
// x/sys/unix) and, from the lean entry point, appnet-agent-full (internal/dispatch, whose
// syscall.Exec is the one allowed below: it may import nothing that initialises late).
func TestNoShellInProductionCode(t *testing.T) {
	shell := regexp.MustCompile(`exec\.Command(Context)?\([^)]*("(/bin/|/usr/bin/)?(ba|da|z)?sh"|"-c")|syscall\.Exec\(|os\.StartProcess\(`)
	root := testenv.RepoRoot()
	err := filepath.WalkDir(root, func(abs string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		path, err := filepath.Rel(root, abs)
		if err != nil {
			return err
		}
		if d.IsDir() && (path == "internal/envoystandin" || path == "internal/testenv" || path == "scripts" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir // test-only and build tooling
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return err
		}
		if m := shell.Find(b); m != nil && !(path == "internal/dispatch/exec_lean.go" && string(m) == "syscall.Exec(") {
			t.Errorf("%s starts a shell or a raw process: %s", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
