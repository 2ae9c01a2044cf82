package conformance

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// checkError: the render failed cleanly (exit 1 as the product contract says,
// no bootstrap) and named the culprit given on line 1 of the .error file.
func checkError(t *testing.T, expected []byte, fixtures string, res *runResult) {
	t.Helper()
	first, _, _ := strings.Cut(string(expected), "\n")
	want := strings.ReplaceAll(first, "${FIXTURES}", fixtures)
	if want == "" {
		t.Fatal("the .error file has an empty first line")
	}
	if res.exitCode != 1 {
		t.Errorf("want exit code 1, got:\n%s", res)
	}
	if len(res.stdout) != 0 {
		t.Errorf("want no bootstrap on stdout, got:\n%s", res)
	}
	if !bytes.Contains(res.stderr, []byte(want)) {
		t.Errorf("stderr does not contain %q:\n%s", want, res)
	}
}

// checkBootstrap compares one produced bootstrap with the expectation.
func checkBootstrap(t *testing.T, what string, expected, actual []byte, fixtures string, res *runResult) {
	t.Helper()
	want, err := decodeExpected(expected, fixtures)
	if err != nil {
		t.Fatalf("the expectation does not decode (corpus or decoder bug): %v", err)
	}
	if len(bytes.TrimSpace(actual)) == 0 {
		t.Fatalf("%s holds no bootstrap\n%s", what, res)
	}
	got, err := decodeActual(actual)
	if err != nil {
		t.Fatalf("%s is not a valid bootstrap: %v\n%s:\n%s\nstderr:\n%s", what, err, what, clip(actual), clip(res.stderr))
	}
	if d := bootstrapDiff(want, got); d != "" {
		t.Errorf("%s differs from the expectation (-want +got):\n%s\nstderr:\n%s", what, d, clip(res.stderr))
	}
}

// checkSamplingRules verifies the X-Ray side effect (a global path; the
// caller removed it before the run).
func checkSamplingRules(t *testing.T, want json.RawMessage) {
	t.Helper()
	got, err := os.ReadFile(samplingRulesPath)
	if err != nil {
		t.Fatalf("side effect missing: %v", err)
	}
	d, err := jsonDiff(want, got)
	if err != nil {
		t.Fatalf("side effect %s: %v", samplingRulesPath, err)
	}
	if d != "" {
		t.Errorf("%s differs (-want +got):\n%s", samplingRulesPath, d)
	}
}

// configFile is an ENVOY_CONFIG_FILE inside the case's fixtures as it was
// before the run (m61, m63, m64).
type configFile struct {
	path    string
	before  []byte
	lmode   fs.FileMode // Lstat: a symlink must stay a symlink
	mode    fs.FileMode // Stat: an existing file keeps its mode
	present bool
}

func configFileState(t *testing.T, cf *caseFile, cr *caseRun) *configFile {
	t.Helper()
	raw, ok := cf.lookup("ENVOY_CONFIG_FILE")
	if !ok || !strings.HasPrefix(raw, "${FIXTURES}/") {
		return &configFile{}
	}
	c := &configFile{path: strings.Replace(raw, "${FIXTURES}", cr.fixtures, 1), present: true}
	linfo, err := os.Lstat(c.path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(c.path)
	if err != nil {
		t.Fatal(err)
	}
	c.lmode, c.mode = linfo.Mode(), info.Mode()
	if c.before, err = os.ReadFile(c.path); err != nil {
		t.Fatal(err)
	}
	return c
}

// check: `render` prints the bootstrap and leaves a non-empty
// ENVOY_CONFIG_FILE untouched (bytes, mode, and a symlink stays a link). An
// empty one (m64) is filled by `run`, not `render`: stdout is all we check.
func (c *configFile) check(t *testing.T) {
	t.Helper()
	if !c.present || len(c.before) == 0 {
		return
	}
	after, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatalf("ENVOY_CONFIG_FILE after the run: %v", err)
	}
	if !bytes.Equal(after, c.before) {
		t.Errorf("a non-empty ENVOY_CONFIG_FILE must be used untouched; it now holds:\n%s", clip(after))
	}
	linfo, err := os.Lstat(c.path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(c.path)
	if err != nil {
		t.Fatal(err)
	}
	if linfo.Mode().Type() != c.lmode.Type() || info.Mode() != c.mode {
		t.Errorf("ENVOY_CONFIG_FILE changed from %v (target %v) to %v (target %v)", c.lmode, c.mode, linfo.Mode(), info.Mode())
	}
}
