package loadtime_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/envoychecks"
	"github.com/appnet/appnet-agent/internal/testenv"
	"github.com/appnet/appnet-agent/internal/validate"
)

// TestInventory keeps the inventory of Envoy's load-time checks (docs/envoy-checks) and the validator in step:
// every implemented row names rules that exist and test cases that Envoy rejects with that check, each rejected at
// a field path (or, for a decoding problem of the whole document, at its line) with a problem that cites the row's Envoy file or says what the row's message says; and every rule
// is claimed by an implemented row or listed, with its reason, in extras.tsv.
func TestInventory(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "docs", "envoy-checks")
	inv, err := envoychecks.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases, dups := allCases()
	for _, d := range dups {
		t.Errorf("test case name %q is used twice: the inventory names cases by name", d)
	}
	rules := map[string]bool{}
	for _, r := range validate.RuleNames() {
		rules[r] = true
	}
	claimed := map[string]bool{}
	results := map[string]validate.Problems{}
	ids := map[string]bool{}
	for _, fam := range inv.Families {
		for _, row := range inv.Rows[fam.Name] {
			where := fam.Name + ".tsv " + row.ID
			if !strings.HasPrefix(row.ID, fam.Name+"-") || ids[row.ID] {
				t.Errorf("%s: the ID must be unique and start with the family", where)
			}
			ids[row.ID] = true
			if row.Class != envoychecks.Implemented {
				if len(row.Rules)+len(row.Tests) > 0 {
					t.Errorf("%s: a %s row names no rule or test", where, row.Class)
				}
				continue
			}
			if len(row.Rules) == 0 || len(row.Tests) == 0 {
				t.Errorf("%s: an implemented row names its rules and test cases", where)
			}
			layer := false
			for _, r := range row.Rules {
				if !rules[r] {
					t.Errorf("%s: no rule %q (validate.RuleNames lists the rules)", where, r)
				}
				claimed[r] = true
				layer = layer || strings.HasPrefix(r, "validate.")
			}
			for _, name := range row.Tests {
				tc, ok := cases[name]
				// A layer case about the whole document (not a mapping, say) has no field to name: its problem
				// gives the line instead.
				if !ok || tc.msg == "" || (tc.path == "" && !tc.layer) {
					t.Errorf("%s: no rejected test case %q with a field path", where, name)
					continue
				}
				probs, done := results[name]
				if !done {
					probs = problemsOf(tc)
					results[name] = probs
				}
				p, ok := matching(tc, probs)
				switch {
				case !ok:
					t.Errorf("%s: case %q is not rejected at %s with %q; got:\n%v", where, name, tc.path, tc.msg, probs)
				case tc.path == "" && !strings.Contains(p.Message, "(line "):
					t.Errorf("%s: case %q's problem names neither a field nor a line: %s", where, name, p)
				case !layer && !strings.Contains(p.Message, "(Envoy: "+row.File()+")") && !saysAlso(p.Message, row.Message):
					t.Errorf("%s: case %q's problem neither cites %s nor says %q: %s", where, name, row.File(), row.Message, p)
				}
			}
		}
	}
	extras, err := envoychecks.ReadExtras(dir)
	if err != nil {
		t.Fatal(err)
	}
	for r := range rules {
		if !claimed[r] && extras[r] == "" {
			t.Errorf("rule %s is claimed by no implemented row of docs/envoy-checks and is not in extras.tsv", r)
		}
	}
	for r := range extras {
		if !rules[r] {
			t.Errorf("extras.tsv names %s, which is not a rule", r)
		}
	}
	checkCitedRows(t, inv)
}

var citedRowRE = regexp.MustCompile(`\[([a-z-]+-[0-9a-f]{8})\]`)

// checkCitedRows: a rule's comment that cites a row by its ID ("[clusters-6d23aa0f]") cites an implemented one.
func checkCitedRows(t *testing.T, inv *envoychecks.Inventory) {
	implemented := map[string]bool{}
	for _, rows := range inv.Rows {
		for _, r := range rows {
			implemented[r.ID] = r.Class == envoychecks.Implemented
		}
	}
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "internal", "validate", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "internal", "validate", "*.go"))
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range citedRowRE.FindAllStringSubmatch(string(data), -1) {
			if !implemented[m[1]] {
				t.Errorf("%s cites row %s, which is not an implemented row of docs/envoy-checks", filepath.Base(f), m[1])
			}
		}
	}
}

var placeholderRE = regexp.MustCompile(`\{[0-9]*\}`)

// saysAlso reports whether a problem repeats the longest literal part of an Envoy message.
func saysAlso(problem, envoy string) bool {
	literal := longestLiteral(envoy)
	return literal != "" && strings.Contains(problem, literal)
}
