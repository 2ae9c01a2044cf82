package conformance

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/appnet/appnet-agent/internal/dispatch"
)

// leanBuild builds the lean agent (build tag appnet_lean) once for both tests below.
var leanBuild = sync.OnceValues(func() (string, error) {
	lean := filepath.Join(binDir, "appnet-agent-lean")
	return lean, buildAgent(lean, "-tags", "appnet_lean")
})

// installLean links the lean agent into dir as appnet-agent and returns its path there.
func installLean(t *testing.T, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a second agent")
	}
	built, err := leanBuild()
	if err != nil {
		t.Fatalf("building the lean agent: %v", err)
	}
	lean := filepath.Join(dir, "appnet-agent")
	if err := os.Link(built, lean); err != nil {
		t.Fatal(err)
	}
	return lean
}

// TestLeanConformance: the lean build, alone (nothing to exec), renders every case without user input exactly as
// the full build's expectations say — the same bootstrap, or the same error and exit code.
func TestLeanConformance(t *testing.T) {
	lean := installLean(t, t.TempDir())
	runCorpus(t, lean, func(cf *caseFile) string {
		for _, v := range cf.Vars {
			if v.Value != "" && slices.Contains(dispatch.UserInputVars, v.Key) {
				return v.Key + " is user input: the full validator's case"
			}
		}
		return ""
	})
}

// TestInstalledConformance: the binaries as installed — the lean appnet-agent with appnet-agent-full next to it —
// pass every case, those with user input through the exec into the full build (internal/dispatch).
func TestInstalledConformance(t *testing.T) {
	if buildErr != nil {
		t.Fatalf("building the agent: %v", buildErr)
	}
	dir := t.TempDir()
	lean := installLean(t, dir)
	if err := os.Link(agentBin, filepath.Join(dir, dispatch.FullName)); err != nil {
		t.Fatal(err)
	}
	runCorpus(t, lean, nil)
}
