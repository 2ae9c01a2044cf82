package conformance

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/appnet/appnet-agent/internal/dispatch"
)

// buildLean builds the lean agent (build tag appnet_lean) into dir as appnet-agent.
func buildLean(t *testing.T, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a second agent")
	}
	lean := filepath.Join(dir, "appnet-agent")
	if err := buildAgent(lean, "-tags", "appnet_lean"); err != nil {
		t.Fatalf("building the lean agent: %v", err)
	}
	return lean
}

// TestLeanConformance: the lean build, alone (nothing to exec), renders every case without user input exactly as
// the full build's expectations say — the same bootstrap, or the same error and exit code.
func TestLeanConformance(t *testing.T) {
	lean := buildLean(t, t.TempDir())
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
	lean := buildLean(t, dir)
	if err := os.Link(agentBin, filepath.Join(dir, dispatch.FullName)); err != nil {
		t.Fatal(err)
	}
	runCorpus(t, lean, nil)
}
