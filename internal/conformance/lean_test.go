package conformance

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestLeanConformance: the lean build renders every case without user input exactly as the full build's
// expectations say — the same bootstrap, or the same error and exit code.
func TestLeanConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a second agent")
	}
	lean := filepath.Join(t.TempDir(), "appnet-agent-lean")
	if err := buildAgent(lean, "-tags", "appnet_lean"); err != nil {
		t.Fatalf("building the lean agent: %v", err)
	}
	runCorpus(t, lean, func(cf *caseFile) string {
		for _, v := range cf.Vars {
			if v.Value != "" && slices.Contains(testenv.UserInputVars, v.Key) {
				return v.Key + " is user input: the full validator's case"
			}
		}
		return ""
	})
}
