package envoychecks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/envoychecks"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestRenderedFilesAreCurrent fails when docs/envoy-checks.md or the coverage table of docs/VALIDATION.md was not
// re-rendered after the inventory changed: run `go run ./scripts/envoy-checks`.
func TestRenderedFilesAreCurrent(t *testing.T) {
	root := testenv.RepoRoot()
	inv, err := envoychecks.Load(filepath.Join(root, "docs", "envoy-checks"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "envoy-checks.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != inv.Doc() {
		t.Error("docs/envoy-checks.md is stale: run go run ./scripts/envoy-checks")
	}
	validation, err := os.ReadFile(filepath.Join(root, "docs", "VALIDATION.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(validation), inv.Table()) {
		t.Error("the coverage table of docs/VALIDATION.md is stale: run go run ./scripts/envoy-checks")
	}
}

// TestFamilies: every family file exists, and every family the extractor can assign is in families.tsv.
func TestFamilies(t *testing.T) {
	inv, err := envoychecks.Load(filepath.Join(testenv.RepoRoot(), "docs", "envoy-checks"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range inv.Families {
		names[f.Name] = true
		if strings.Contains(f.Rejected, "TODO") || f.Title == "" {
			t.Errorf("family %s: say what is rejected", f.Name)
		}
	}
	for _, fam := range envoychecks.AssignedFamilies() {
		if !names[fam] {
			t.Errorf("the extractor assigns family %q, which families.tsv does not list", fam)
		}
	}
}
