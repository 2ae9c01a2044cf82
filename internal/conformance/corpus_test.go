package conformance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// repoRoot walks up from the package directory (the test's working
// directory) to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test directory")
		}
		dir = parent
	}
}

// corpusDir is <repo>/testdata/conformance, the project's copy of the conformance corpus.
func corpusDir() string { return testenv.Testdata("conformance") }

func corpusCasesDir() string    { return filepath.Join(corpusDir(), "cases") }
func corpusFixturesDir() string { return filepath.Join(corpusDir(), "fixtures") }

type expectKind string

const (
	expectYAML  expectKind = ".yaml"
	expectError expectKind = ".error"
)

// corpusCase is one <ID>.env with its single expectation file.
type corpusCase struct {
	ID     string
	Expect expectKind
}

// loadCases lists the corpus strictly: each .env needs exactly one
// expectation, and an expectation without a .env is an error too.
func loadCases(dir string) ([]corpusCase, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("conformance corpus missing (expected under testdata/conformance): %w", err)
	}
	files := map[string]bool{}
	for _, e := range entries {
		files[e.Name()] = true
	}
	var cases []corpusCase
	var problems []string
	for name := range files {
		ext := filepath.Ext(name)
		id := strings.TrimSuffix(name, ext)
		switch expectKind(ext) {
		case expectYAML, expectError:
			if !files[id+".env"] {
				problems = append(problems, name+" has no .env")
			}
			continue
		}
		if ext != ".env" {
			problems = append(problems, "unexpected file "+name)
			continue
		}
		hasYAML, hasErr := files[id+string(expectYAML)], files[id+string(expectError)]
		switch {
		case hasYAML && hasErr:
			problems = append(problems, id+" has both .yaml and .error")
		case hasYAML:
			cases = append(cases, corpusCase{id, expectYAML})
		case hasErr:
			cases = append(cases, corpusCase{id, expectError})
		default:
			problems = append(problems, id+" has neither .yaml nor .error")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, errors.New(strings.Join(problems, "; "))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].ID < cases[j].ID })
	return cases, nil
}

func mustLoadCases(t *testing.T) []corpusCase {
	t.Helper()
	cases, err := loadCases(corpusCasesDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("no cases in %s", corpusCasesDir())
	}
	return cases
}

var readmeCountsRE = regexp.MustCompile("Counts: (\\d+) cases, (\\d+) with a `\\.yaml` expectation, (\\d+) with an `\\.error`")

func TestCorpusIsComplete(t *testing.T) {
	cases := mustLoadCases(t)
	n := map[expectKind]int{}
	for _, c := range cases {
		n[c.Expect]++
	}
	t.Logf("%d cases: %d %s, %d %s", len(cases), n[expectYAML], expectYAML, n[expectError], expectError)
	// The README states the counts; a partial copy of the corpus must not pass.
	readme, err := os.ReadFile(filepath.Join(corpusDir(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := readmeCountsRE.FindStringSubmatch(string(readme))
	if m == nil {
		t.Log("README states no counts; not cross-checked")
		return
	}
	want := []int{len(cases), n[expectYAML], n[expectError]}
	for i, w := range want {
		if got, _ := strconv.Atoi(m[i+1]); got != w {
			t.Errorf("README says %q, the cases directory has %d/%d/%d", m[0], want[0], want[1], want[2])
			break
		}
	}
}

// readCaseFile parses cases/<id>.env.
func readCaseFile(id string) (*caseFile, error) {
	data, err := os.ReadFile(filepath.Join(corpusCasesDir(), id+".env"))
	if err != nil {
		return nil, err
	}
	return parseEnvFile(data)
}
