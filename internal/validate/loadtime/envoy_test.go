package loadtime_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/envoychecks"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// envoyCannotJudge matches what Envoy says when a file the case names (a certificate, an SDS file) is missing on
// this machine: its verdict then says nothing about the check.
var envoyCannotJudge = regexp.MustCompile(`(?i)no such file|does not exist|invalid path|unable to read|failed to load|cannot open|paths must refer to an existing path`)

// TestEnvoyRejectsInventoryCases runs `envoy --mode validate` on the test case of every implemented row of
// docs/envoy-checks: Envoy must reject it, with the row's message where the row has literal text. It needs an Envoy
// binary: APPNET_TEST_ENVOY=/path/to/envoy go test ./internal/validate/loadtime/ -run TestEnvoyRejectsInventoryCases
func TestEnvoyRejectsInventoryCases(t *testing.T) {
	envoy := os.Getenv("APPNET_TEST_ENVOY")
	if envoy == "" {
		t.Skip("set APPNET_TEST_ENVOY=/path/to/envoy to check the inventory's cases against envoy --mode validate")
	}
	inv, err := envoychecks.Load(filepath.Join(testenv.RepoRoot(), "docs", "envoy-checks"))
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := allCases()
	dir := t.TempDir()
	for _, fam := range inv.Families {
		for _, row := range inv.Rows[fam.Name] {
			if row.Class != envoychecks.Implemented {
				continue
			}
			for _, name := range row.Tests {
				tc, ok := cases[name]
				if !ok {
					continue // TestInventory reports it
				}
				t.Run(row.ID+"/"+name, func(t *testing.T) {
					file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(row.ID+"-"+name)+".yaml")
					if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
						t.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					out, err := exec.CommandContext(ctx, envoy, "--mode", "validate", "-c", file, "--disable-hot-restart", "-l", "error").CombinedOutput()
					switch literal := longestLiteral(row.Message); {
					case err == nil:
						t.Errorf("Envoy accepts the case of %s (%s)", row.ID, row.Location)
					case literal != "" && !strings.Contains(string(out), literal):
						if envoyCannotJudge.Match(out) {
							t.Skipf("Envoy cannot judge it here (a referenced file is missing): %s", out)
						}
						t.Errorf("Envoy rejects the case of %s, but not with %q:\n%s", row.ID, literal, out)
					}
				})
			}
		}
	}
}

// longestLiteral returns the longest part of an Envoy message between its {} placeholders, if it says enough to
// be looked for (8 characters or more).
func longestLiteral(msg string) string {
	parts := placeholderRE.Split(msg, -1)
	longest := strings.TrimSpace(slices.MaxFunc(parts, func(a, b string) int {
		return len(strings.TrimSpace(a)) - len(strings.TrimSpace(b))
	}))
	if len(longest) < 8 {
		return ""
	}
	return longest
}
