package e2e

import (
	"encoding/xml"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// copyTree copies the regular files and directories of src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// junitReport is the part of a JUnit XML report CI systems read.
type junitReport struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitReport {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r junitReport
	if err := xml.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s is not JUnit XML: %v\n%s", path, err, data)
	}
	return r
}

// TestGoldenPlatformTeamExample runs the example's CI script (examples/platform-team) with
// the real binary: it passes; a template change fails with the differing field and a diff;
// --update fixes it; the JUnit report parses and counts right.
func TestGoldenPlatformTeamExample(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "platform-team")
	copyTree(t, filepath.Join(testenv.RepoRoot(), "examples", "platform-team"), dir)
	script := filepath.Join(dir, "ci", "golden.sh")
	junit := filepath.Join(t.TempDir(), "report.xml")
	env := []string{"PATH=/usr/bin:/bin", "APPNET_AGENT=" + agentBin, "JUNIT=" + junit}

	r := runCommandPath(t, script, dir, env).mustSucceed(t, "ci/golden.sh on the example")
	if !strings.Contains(r.stdout, "5 passed, 0 failed\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	rep := readJUnit(t, junit)
	if rep.Tests != 5 || rep.Failures != 0 || rep.Errors != 0 || len(rep.Suites) != 1 || len(rep.Suites[0].Cases) != 5 {
		t.Errorf("JUnit report: %+v", rep)
	}

	// The team changes its X-Ray overlay: every X-Ray case fails, naming the field.
	tmpl := filepath.Join(dir, "templates", "tracing", "xray.yaml.tmpl")
	old, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(old), `team: "storefront"`, `team: "checkout"`, 1)
	if changed == string(old) {
		t.Fatal("the example overlay no longer sets team: storefront")
	}
	writeFile(t, filepath.Dir(tmpl), "xray.yaml.tmpl", changed, 0o644)
	r = runCommandPath(t, script, dir, env)
	if r.code != 1 {
		t.Fatalf("exit %d after a template change, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"FAIL    cases/checkout-xray: the rendered bootstrap differs from cases/checkout-xray.yaml",
		"tracing.http.typed_config.segment_fields.aws.team\n",
		"--- cases/checkout-xray.yaml\n",
		"+++ rendered cases/checkout-xray.env\n",
		"-          team: storefront\n",
		"+          team: checkout\n",
		"ok      cases/cart-resources",
		"3 passed, 2 failed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stdout)
		}
	}
	rep = readJUnit(t, junit)
	if rep.Failures != 2 || rep.Suites[0].Cases[1].Failure == nil || !strings.Contains(rep.Suites[0].Cases[1].Failure.Text, "segment_fields.aws.team") {
		t.Errorf("JUnit report after the change: %+v", rep)
	}

	// --update rewrites the two expectations; then everything passes again.
	expected := filepath.Join(dir, "cases", "checkout-xray.yaml")
	before, _ := os.ReadFile(expected)
	r = runCommandPath(t, script, dir, env, "--update").mustSucceed(t, "golden --update")
	if !strings.Contains(r.stdout, "updated cases/checkout-xray: updated cases/checkout-xray.yaml") || !strings.Contains(r.stdout, "(2 updated)") {
		t.Errorf("--update report:\n%s", r.stdout)
	}
	after, _ := os.ReadFile(expected)
	if string(after) == string(before) || !strings.Contains(string(after), "team: checkout") {
		t.Errorf("--update did not rewrite %s:\n%s", expected, after)
	}
	r = runCommandPath(t, script, dir, env).mustSucceed(t, "golden after --update")
	if !strings.Contains(r.stdout, "5 passed, 0 failed\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// TestGoldenBadInput: broken cases fail the run (exit 1) with a message naming the file;
// usage errors exit 2.
func TestGoldenBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := filepath.Join(dir, "cases")
	if err := os.Mkdir(cases, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, cases, "noexpect.env", offlineEnvFile, 0o644)
	writeFile(t, cases, "badline.env", "AWS_REGION=us-west-2\nnot a line\n", 0o644)
	writeFile(t, cases, "badline.error", "x\n", 0o644)
	writeFile(t, cases, "badfacts.env", offlineEnvFile, 0o644)
	writeFile(t, cases, "badfacts.error", "x\n", 0o644)
	writeFile(t, cases, "badfacts.facts.json", `{"envoy": {"version": 1}}`, 0o644)
	writeFile(t, cases, "orphan.yaml", "node: {id: x}\n", 0o644)
	badFacts := writeFile(t, dir, "facts.json", `{"ecsTask": {"cpus": 1}}`, 0o644)

	r := runCommand(t, dir, nil, "golden", "--junit", filepath.Join(dir, "r.xml"), "cases")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"ERROR   cases/noexpect: no expectation: add cases/noexpect.yaml (expected bootstrap) or cases/noexpect.error (expected error), or run with --update",
		"ERROR   cases/badline: cases/badline.env:2: want KEY=VALUE",
		"ERROR   cases/badfacts: cases/badfacts.facts.json:1: envoy.version: want a string, got the number 1",
		"ERROR   cases/orphan: cases/orphan.env is missing",
		"0 passed, 4 failed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stdout)
		}
	}
	if rep := readJUnit(t, filepath.Join(dir, "r.xml")); rep.Errors != 4 || rep.Tests != 4 {
		t.Errorf("JUnit report: %+v", rep)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no cases", []string{"golden"}, "error: no CASES given\nusage: appnet-agent golden"},
		{"missing case directory", []string{"golden", "nowhere"}, "error: stat nowhere: no such file or directory"},
		{"bad shared facts", []string{"golden", "--facts", badFacts, "cases"}, badFacts + ":1: ecsTask.cpus: unknown key"},
		{"missing facts", []string{"golden", "--facts", "none.json", "cases"}, "facts file: open none.json"},
		{"template dir is not a directory", []string{"golden", "--template-dir", badFacts, "cases"}, "--template-dir " + badFacts + ": not a directory"},
		{"unknown flag", []string{"golden", "--updte", "cases"}, "flag provided but not defined: -updte"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCommand(t, dir, nil, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d (want 2), stderr:\n%s\nwant %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestHelpListsOfflineCommands: `appnet-agent help` shows render's new flags, facts and golden.
func TestHelpListsOfflineCommands(t *testing.T) {
	t.Parallel()
	r := runCommand(t, t.TempDir(), nil, "help").mustSucceed(t, "help")
	for _, want := range []string{"appnet-agent render [-o FILE] [--format yaml|json] [--facts FILE]", "--env-file FILE", "--inherit-env", "appnet-agent facts", "appnet-agent golden [--update] [--template-dir DIR] [--facts FILE] [--junit FILE] CASES..."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
}
