package conformance

// Golden files: one canonical JSON bootstrap per environment combination, in
// <repo>/golden. The combinations are every corpus case with a .yaml
// expectation plus our own cases in golden/cases (template overlays, user-file
// merges, relay, Service Connect, ...). Rendering runs in-process with the
// real platform collector against the corpus mocks, with the host-dependent
// facts (network interfaces, uname) pinned, so a golden is byte-stable across
// machines and builds. `go test ./internal/conformance/ -run '^TestGolden$'
// -update` rewrites them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testflag"

	"github.com/google/go-cmp/cmp"

	"github.com/appnet/appnet-agent/internal/golden"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/render"
	"github.com/appnet/appnet-agent/internal/validate"
)

// update (-update, declared once in testflag) rewrites the golden files in <repo>/golden instead of comparing.
var update = testflag.Update

const (
	goldenExt      = ".json"
	goldenErrorExt = ".error"
	goldenTimeout  = 30 * time.Second // per render; metadata calls are bounded at 2 s, the machine is small
)

// goldenDirs are the only subdirectories golden/ may hold; anything else at
// its top level except README.md and the goldens themselves is reported.
var goldenDirs = map[string]bool{"cases": true, "files": true, "overrides": true}

// Pinned host facts: the only values of a golden that would otherwise depend
// on the machine running the test.
var (
	goldenInterfaces = map[string]any{
		"ipv4": map[string]any{"eth0": []any{"10.0.0.2/24"}, "lo": []any{"127.0.0.1/8"}},
		"ipv6": map[string]any{"lo": []any{"::1/128"}},
	}
	goldenSystemInfo = map[string]any{"systemPlatform": "x86_64", "systemKernelVersion": "6.0.0-golden"}
)

// goldenCollector is platform.Collect (real TMDS/IMDS calls against the
// mocks, real envoy --version probe of the stub) with the host facts pinned,
// the container memory limit included.
var goldenCollector = platform.CollectorFunc(func(ctx context.Context, in platform.Inputs) platform.Facts {
	if in.NeedMemoryLimit {
		// golden/files/cgroup: a cgroup v2 container limited to 512 MiB.
		if root, err := goldenRoot(); err == nil {
			in.CgroupRoot = filepath.Join(root, "files", "cgroup")
		}
	}
	f := platform.Collect(ctx, in)
	f.Interfaces = goldenInterfaces
	info := maps.Clone(f.PlatformInfo)
	if info == nil {
		info = map[string]any{}
	}
	info[platform.KeySystemInfo] = goldenSystemInfo
	f.PlatformInfo = info
	return f
})

// goldenCase is one environment combination with a golden file, or (own cases
// only) an expected error.
type goldenCase struct {
	Name   string
	File   *caseFile
	Corpus bool // a corpus case: the in-process result must also match the corpus expectation
	// WantError lists substrings the render error must contain, with
	// placeholders unexpanded; nil means the case has a golden file.
	WantError []string
}

func goldenRoot() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "golden"), nil
}

// loadGoldenCases lists the corpus's .yaml cases and golden/cases strictly: an
// own .error without its .env, an unexpected file or a name shared with the
// corpus is an error, so nothing is silently skipped.
func loadGoldenCases(corpusCases []corpusCase, goldenDir string) ([]goldenCase, error) {
	var out []goldenCase
	names := map[string]bool{}
	for _, c := range corpusCases {
		if c.Expect != expectYAML {
			continue
		}
		cf, err := readCaseFile(c.ID)
		if err != nil {
			return nil, fmt.Errorf("corpus case %s: %w", c.ID, err)
		}
		out = append(out, goldenCase{Name: c.ID, File: cf, Corpus: true})
		names[c.ID] = true
	}
	dir := filepath.Join(goldenDir, "cases")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]bool{}
	for _, e := range entries {
		files[e.Name()] = true
	}
	var problems []string
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		id := strings.TrimSuffix(name, ext)
		switch {
		case e.IsDir():
			problems = append(problems, "unexpected directory cases/"+name)
			continue
		case ext == goldenErrorExt:
			if !files[id+".env"] {
				problems = append(problems, "cases/"+name+" has no .env")
			}
			continue
		case ext != ".env":
			problems = append(problems, "unexpected file cases/"+name)
			continue
		case names[id]:
			problems = append(problems, "cases/"+name+" has the name of a corpus case")
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		cf, err := parseGoldenEnvFile(data)
		if err != nil {
			problems = append(problems, fmt.Sprintf("cases/%s: %v", name, err))
			continue
		}
		c := goldenCase{Name: id, File: cf}
		if files[id+goldenErrorExt] {
			want, err := golden.ReadErrorFile(filepath.Join(dir, id+goldenErrorExt)) // the format `golden` reads
			if err != nil {
				return nil, err
			}
			c.WantError = want
		}
		out = append(out, c)
		names[id] = true
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, errors.New(strings.Join(problems, "; "))
	}
	slices.SortFunc(out, func(a, b goldenCase) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// staleGoldens returns what golden/ holds that no case accounts for: golden
// files without a case that expects one (a deleted or renamed case, or a case
// that now expects an error) and unexpected files or directories.
func staleGoldens(dir string, want map[string]bool) (stale, unexpected []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			if !goldenDirs[name] {
				unexpected = append(unexpected, name+"/")
			}
		case name == "README.md":
		case filepath.Ext(name) == goldenExt:
			if !want[strings.TrimSuffix(name, goldenExt)] {
				stale = append(stale, name)
			}
		default:
			unexpected = append(unexpected, name)
		}
	}
	return stale, unexpected, nil
}

// goldenEnv is what all golden cases share.
type goldenEnv struct {
	mocks  *mocks
	stubs  map[envoyKind]string
	golden string // absolute golden directory: ${GOLDEN}
}

func TestGolden(t *testing.T) {
	gdir, err := goldenRoot()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := loadGoldenCases(mustLoadCases(t), gdir)
	if err != nil {
		t.Fatal(err)
	}
	ge := &goldenEnv{mocks: startMocks(t, corpusFixturesDir()), stubs: map[envoyKind]string{}, golden: gdir}
	// Written once before any case runs (see writeEnvoyStub: ETXTBSY).
	stubDir := t.TempDir()
	for kind, file := range map[envoyKind]string{envoyPlain: "envoy-version-plain.txt", envoyFIPS: "envoy-version-fips.txt"} {
		version, err := os.ReadFile(filepath.Join(corpusFixturesDir(), file))
		if err != nil {
			t.Fatal(err)
		}
		ge.stubs[kind] = filepath.Join(stubDir, "envoy-"+string(kind))
		if err := writeEnvoyStub(ge.stubs[kind], version); err != nil {
			t.Fatal(err)
		}
	}
	ge.stubs[envoyCurrent] = filepath.Join(stubDir, "envoy-current")
	if err := writeEnvoyStub(ge.stubs[envoyCurrent], []byte(currentEnvoyVersion)); err != nil {
		t.Fatal(err)
	}
	ge.stubs[envoyAbsent] = filepath.Join(stubDir, "no-such-envoy")

	want := map[string]bool{}
	for _, c := range cases {
		if c.WantError == nil {
			want[c.Name] = true
		}
		t.Run(c.Name, func(t *testing.T) { ge.runCase(t, c) })
	}

	stale, unexpected, err := staleGoldens(gdir, want)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if *update {
			t.Logf("removing stale golden %s", name)
			if err := os.Remove(filepath.Join(gdir, name)); err != nil {
				t.Error(err)
			}
			continue
		}
		t.Errorf("golden/%s belongs to no case that expects a bootstrap: delete it, or run `make golden`", name)
	}
	for _, name := range unexpected {
		t.Errorf("golden/%s: unexpected (golden/ holds *.json goldens, README.md, cases/, files/, overrides/)", name)
	}
}

func (ge *goldenEnv) runCase(t *testing.T, c goldenCase) {
	p := placeholders{
		Fixtures: filepath.Join(t.TempDir(), "fixtures"),
		TMDS:     ge.mocks.TMDSBase(),
		IMDS:     ge.mocks.IMDSBase(),
		Golden:   ge.golden,
	}
	// A private copy: m64 names an empty fixture as ENVOY_CONFIG_FILE.
	if err := copyFixtures(corpusFixturesDir(), p.Fixtures); err != nil {
		t.Fatalf("copying fixtures: %v", err)
	}
	// mask turns run-specific values back into their placeholders.
	mask := strings.NewReplacer(p.Fixtures, "${FIXTURES}", p.Golden, "${GOLDEN}", p.TMDS, "${TMDS}", p.IMDS, "${IMDS}")

	res, err := ge.render(t, c.File, p)
	if c.WantError != nil {
		if err == nil {
			t.Fatalf("want an error containing %q, got a bootstrap:\n%s", c.WantError, res.Bytes)
		}
		msg := mask.Replace(err.Error())
		t.Logf("error, as expected:\n%s", msg)
		for _, w := range c.WantError {
			if !strings.Contains(msg, w) {
				t.Errorf("the error does not contain %q:\n%s", w, msg)
			}
		}
		// Template problems must surface as template or validation errors,
		// never as a parse failure of the YAML they produced.
		if strings.Contains(msg, "rendered invalid YAML") {
			t.Errorf("an overlay problem reached the YAML parser:\n%s", msg)
		}
		return
	}
	if err != nil {
		t.Fatalf("render: %s", mask.Replace(err.Error()))
	}
	got, err := validate.CanonicalJSON(res.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	// Envoy reads res.Bytes: it must decode to exactly what was validated.
	if !res.Existing {
		back, err := validate.Decode(res.Bytes)
		if err != nil {
			t.Fatalf("the written bytes do not decode: %v", err)
		}
		backJSON, err := validate.CanonicalJSON(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(backJSON, got) {
			t.Errorf("the written bytes decode to a different bootstrap (-validated +read back):\n%s", lineDiff(got, backJSON))
		}
	}
	got = []byte(mask.Replace(string(got)))
	if c.Corpus {
		checkAgainstCorpus(t, c, p, res)
	}

	path := filepath.Join(ge.golden, c.Name+goldenExt)
	wantBytes, readErr := os.ReadFile(path)
	switch {
	case *update:
		if readErr != nil || !bytes.Equal(wantBytes, got) {
			t.Logf("writing %s", path)
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		wantBytes = got
	case errors.Is(readErr, os.ErrNotExist):
		t.Fatalf("golden/%s%s is missing: run `make golden` and review the new file", c.Name, goldenExt)
	case readErr != nil:
		t.Fatal(readErr)
	case !bytes.Equal(wantBytes, got):
		t.Errorf("rendered bootstrap differs from golden/%s%s; if the change is intended run `make golden`:\n%s",
			c.Name, goldenExt, goldenDiff(wantBytes, got))
	}
	// Every golden is a valid bootstrap by construction; a hand edit that
	// breaks one is caught here (placeholders are plain strings to Envoy).
	if _, err := validate.Bootstrap(wantBytes); err != nil {
		t.Errorf("golden/%s%s is not a valid bootstrap:\n%v", c.Name, goldenExt, err)
	}
}

// render renders the case in-process with golden.Render, as the binary's
// `render --env-file` and `golden` commands do (nothing but the case's
// variables, a private TMPDIR and the stub Envoy), but with the pinned host
// facts.
func (ge *goldenEnv) render(t *testing.T, cf *caseFile, p placeholders) (res *render.Result, err error) {
	t.Helper()
	vars := map[string]string{
		"TMPDIR":            t.TempDir(),
		"APPNET_ENVOY_PATH": ge.stubs[cf.Envoy],
	}
	for _, kv := range cf.environ(p) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), goldenTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("render panicked: %v", r)
		}
	}()
	res, _, err = golden.Render(ctx, vars, goldenCollector)
	return res, err
}

// checkAgainstCorpus: the in-process render agrees with the corpus
// expectation too (and with its sampling-rules side effect), so the goldens of
// corpus cases cannot drift from the corpus, and this harness from the binary.
func checkAgainstCorpus(t *testing.T, c goldenCase, p placeholders, res *render.Result) {
	t.Helper()
	expected, err := os.ReadFile(filepath.Join(corpusCasesDir(), c.Name+string(expectYAML)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := decodeExpected(expected, p.Fixtures)
	if err != nil {
		t.Fatalf("the corpus expectation does not decode: %v", err)
	}
	got, err := decodeActual(res.Bytes)
	if err != nil {
		t.Fatalf("the rendered bytes do not decode: %v", err)
	}
	if d := bootstrapDiff(want, got); d != "" {
		t.Errorf("in-process render differs from the corpus expectation (-want +got):\n%s", d)
	}
	if c.File.SamplingRules != nil {
		side, ok := res.SideFiles[samplingRulesPath]
		if !ok {
			t.Fatalf("no side file %s queued", samplingRulesPath)
		}
		if d, err := jsonDiff(c.File.SamplingRules, side); err != nil || d != "" {
			t.Errorf("side file %s differs (-want +got):\n%s%v", samplingRulesPath, d, err)
		}
	}
}

// goldenDiff explains a golden mismatch the way `appnet-agent golden` does
// (differing fields, canonical YAML diff); bytes that do not decode get a
// line diff.
func goldenDiff(want, got []byte) string {
	w, werr := validate.Decode(want)
	g, gerr := validate.Decode(got)
	if werr != nil || gerr != nil {
		return lineDiff(want, got)
	}
	m, err := golden.Compare(w, g, "golden", "rendered")
	if err != nil || m == nil { // equal protos, different bytes: the serialisation changed
		return lineDiff(want, got)
	}
	return m.String()
}

// lineDiff is a readable line diff of two texts (go-cmp elides long runs of
// equal lines, like a unified diff's context).
func lineDiff(want, got []byte) string {
	return cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n"))
}

// TestStaleGoldens: a golden without a case that expects a bootstrap, and
// stray files, are reported; goldens of live cases are not.
func TestStaleGoldens(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"live.json", "renamed-away.json", "now-an-error.json", "README.md", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"cases", "files", "overrides", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// "now-an-error" has a case, but one expecting an error: it is not in want.
	stale, unexpected, err := staleGoldens(dir, map[string]bool{"live": true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"now-an-error.json", "renamed-away.json"}; !slices.Equal(stale, want) {
		t.Errorf("stale = %q, want %q", stale, want)
	}
	if want := []string{"notes.txt", "tmp/"}; !slices.Equal(unexpected, want) {
		t.Errorf("unexpected = %q, want %q", unexpected, want)
	}
}

// TestLoadGoldenCasesIsStrict: golden/cases mistakes are errors, not skips.
func TestLoadGoldenCasesIsStrict(t *testing.T) {
	corpus := []corpusCase{}
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"orphan error", map[string]string{"a.env": "# a\n", "b.error": "x\n"}, "cases/b.error has no .env"},
		{"stray file", map[string]string{"a.env": "# a\n", "a.yaml": "x\n"}, "unexpected file cases/a.yaml"},
		{"bad env", map[string]string{"a.env": "K=V\n"}, "cases/a.env: line 1"},
		{"unknown placeholder", map[string]string{"a.env": "# a\nK=${GOLDN}\n"}, "placeholder"},
		{"empty error", map[string]string{"a.env": "# a\n", "a.error": "# only a comment\n"}, "no expected error text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "cases"), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, "cases", name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := loadGoldenCases(corpus, dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
