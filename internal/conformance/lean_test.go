package conformance

import (
	"path/filepath"
	"slices"
	"testing"
)

// userInputVars hand the agent configuration it did not write. The lean renderer (build tag appnet_lean) validates
// with a registry of only the types the built-in templates emit, so a case that sets one of them is the full
// validator's in that design (docs/DESIGN.md, the lean renderer); internal/validate's lean tests use the same list.
var userInputVars = []string{
	"ENVOY_CONFIG_FILE", "ENVOY_RESOURCES_CONFIG_FILE", "ENVOY_STATS_CONFIG_FILE", "ENVOY_STATS_SINKS_CFG",
	"ENVOY_STATS_SINKS_CFG_FILE", "ENVOY_TRACING_CFG", "ENVOY_TRACING_CFG_FILE", "APPNET_TEMPLATE_DIR",
}

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
			if v.Value != "" && slices.Contains(userInputVars, v.Key) {
				return v.Key + " is user input: the full validator's case"
			}
		}
		return ""
	})
}
