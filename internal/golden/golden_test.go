package golden

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/platform"
	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
	"github.com/appnet/appnet-agent/internal/validate"
)

const minimalEnv = "# minimal App Mesh sidecar\nAWS_REGION=us-west-2\nAPPMESH_RESOURCE_ARN=mesh/m/virtualNode/n\n"

// writeFiles creates files (name → content) in dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// renderYAML renders env (a case file's content) as the runner would, for expectations.
func renderYAML(t *testing.T, vars map[string]string, facts platform.HostFacts) string {
	t.Helper()
	res, _, err := Render(context.Background(), vars, platform.Replay(facts))
	if err != nil {
		t.Fatal(err)
	}
	return string(res.Bytes)
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.env": "", "a.yaml": "",
		"b.env": "", "b.error": "x\n", "b.facts.json": "{}",
		"c.env": "",
		"d.env": "", "d.yaml": "", "d.error": "x\n",
		"orphan.yaml":        "",
		"orphan2.facts.json": "{}",
		"README.md":          "not a case",
		"sub/e.env":          "", // not searched: directories are not recursive
	})
	cases, err := Discover([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Case{}
	var names []string
	for _, c := range cases {
		names = append(names, filepath.Base(c.Name))
		got[filepath.Base(c.Name)] = c
	}
	if want := []string{"a", "b", "c", "d", "orphan", "orphan2"}; !slices.Equal(names, want) {
		t.Fatalf("cases %q, want %q", names, want)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	if c := got["a"]; c.Env != p("a.env") || c.YAML != p("a.yaml") || c.Error != "" || c.Problem != "" {
		t.Errorf("a = %+v", c)
	}
	if c := got["b"]; c.Error != p("b.error") || c.Facts != p("b.facts.json") || c.Problem != "" {
		t.Errorf("b = %+v", c)
	}
	if c := got["c"]; c.YAML != "" || c.Error != "" || c.Problem != "" {
		t.Errorf("c = %+v (no expectation is the runner's problem, not Discover's)", c)
	}
	if c := got["d"]; !strings.Contains(c.Problem, "both .yaml and .error") {
		t.Errorf("d = %+v", c)
	}
	for _, n := range []string{"orphan", "orphan2"} {
		if c := got[n]; !strings.Contains(c.Problem, p(n)+".env is missing") {
			t.Errorf("%s = %+v", n, c)
		}
	}

	// Files name their case; a directory without cases and a missing path are errors.
	cases, err = Discover([]string{p("a.yaml"), p("a.env"), p("b.env")})
	if err != nil || len(cases) != 2 || cases[0].Name != p("a") {
		t.Errorf("file arguments: %+v, %v", cases, err)
	}
	for _, tt := range []struct{ arg, want string }{
		{p("missing"), "no such file"},
		{p("README.md"), "not a case file"},
		{t.TempDir(), "no case in this directory"},
	} {
		if _, err := Discover([]string{tt.arg}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Discover(%s): err = %v, want %q", tt.arg, err, tt.want)
		}
	}
}

func TestRunner(t *testing.T) {
	facts := platform.HostFacts{
		Envoy:      &platform.EnvoyFacts{Version: "envoy  version: x/1.29.12/Clean/RELEASE/BoringSSL"},
		Uname:      &platform.Uname{Machine: "x86_64", Release: "6.1.0"},
		Interfaces: &platform.Interfaces{IPv4: map[string][]string{"eth0": {"10.0.0.2/24"}}},
	}
	vars := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}
	good := renderYAML(t, vars, facts)
	changed := strings.Replace(good, "port_value: 9901", "port_value: 9902", 1)
	if changed == good {
		t.Fatal("the bootstrap has no admin port 9901 to change")
	}
	tests := []struct {
		name        string
		files       map[string]string // in the case directory; the case is "c"
		update      bool
		want        Status
		summary     string // substring
		detail      string // substring
		warning     string // substring of a warning
		wantFiles   map[string]string
		absentFiles []string
	}{
		{name: "pass", files: map[string]string{"c.env": minimalEnv, "c.yaml": good}, want: Pass},
		{name: "pass: JSON spelling and key order do not matter", files: map[string]string{"c.env": minimalEnv, "c.yaml": jsonOf(t, good)}, want: Pass},
		{name: "mismatch: field path and diff", files: map[string]string{"c.env": minimalEnv, "c.yaml": changed}, want: Fail,
			summary: "differs from", detail: "admin.address.socket_address.port_value\n"},
		{name: "mismatch updated", files: map[string]string{"c.env": minimalEnv, "c.yaml": changed}, update: true, want: Updated,
			summary: "updated", wantFiles: map[string]string{"c.yaml": good}},
		{name: "no expectation", files: map[string]string{"c.env": minimalEnv}, want: Broken, summary: "no expectation"},
		{name: "no expectation: update creates it", files: map[string]string{"c.env": minimalEnv}, update: true, want: Updated,
			summary: "created", wantFiles: map[string]string{"c.yaml": good}},
		{name: "update never creates a yaml for a failing case", files: map[string]string{"c.env": "AWS_REGION=us-west-2\n"}, update: true,
			want: Fail, summary: "renders an error, so no", detail: "APPMESH_RESOURCE_ARN", absentFiles: []string{"c.yaml"}},
		{name: "yaml expected, error rendered: not updated", files: map[string]string{"c.env": "AWS_REGION=us-west-2\n", "c.yaml": good}, update: true,
			want: Fail, summary: "got an error; not updated", wantFiles: map[string]string{"c.yaml": good}},
		{name: "error expected and found", files: map[string]string{"c.env": "AWS_REGION=us-west-2\n", "c.error": "# comment\nAPPMESH_RESOURCE_ARN\nmust be set\n"}, want: Pass},
		{name: "error expected, other error", files: map[string]string{"c.env": "AWS_REGION=us-west-2\n", "c.error": "ENVOY_ADMIN_ACCESS_PORT\n"}, want: Fail,
			summary: `does not contain ["ENVOY_ADMIN_ACCESS_PORT"]`, detail: "APPMESH_RESOURCE_ARN"},
		{name: "error expected, bootstrap rendered: not converted", files: map[string]string{"c.env": minimalEnv, "c.error": "x\n"}, update: true,
			want: Fail, summary: "got a bootstrap; not updated", absentFiles: []string{"c.yaml"}},
		{name: "empty error file", files: map[string]string{"c.env": minimalEnv, "c.error": "# nothing\n"}, want: Broken, summary: "no expected error text"},
		{name: "bad env line", files: map[string]string{"c.env": minimalEnv + "oops\n", "c.yaml": good}, want: Broken, summary: "c.env:4: want KEY=VALUE"},
		{name: "duplicate env key warns, last wins", files: map[string]string{"c.env": minimalEnv + "AWS_REGION=us-west-2\n", "c.yaml": good}, want: Pass,
			warning: "c.env:4: AWS_REGION is also set on line 2; the later value wins"},
		{name: "invalid expected bootstrap", files: map[string]string{"c.env": minimalEnv, "c.yaml": "node: {idd: x}\n"}, want: Broken, summary: "is not a valid bootstrap"},
		{name: "case facts override the shared ones", files: map[string]string{"c.env": minimalEnv, "c.yaml": good,
			"c.facts.json": `{"uname": {"machine": "aarch64"}}`}, want: Fail, detail: "systemPlatform"},
		{name: "bad case facts", files: map[string]string{"c.env": minimalEnv, "c.yaml": good, "c.facts.json": `{"uname": {"arch": "x"}}`},
			want: Broken, summary: "c.facts.json:1: uname.arch: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			cases, err := Discover([]string{dir})
			if err != nil || len(cases) != 1 {
				t.Fatalf("Discover: %+v, %v", cases, err)
			}
			r := &Runner{Facts: facts, Update: tt.update}
			res := r.RunCase(context.Background(), cases[0])
			if res.Status != tt.want || !strings.Contains(res.Summary, tt.summary) || !strings.Contains(res.Detail, tt.detail) {
				t.Fatalf("got %s: %s\n%s\nwant %s, summary containing %q, detail containing %q", res.Status, res.Summary, res.Detail, tt.want, tt.summary, tt.detail)
			}
			if tt.warning != "" && !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, tt.warning) }) {
				t.Errorf("warnings %q lack %q", res.Warnings, tt.warning)
			}
			for name, want := range tt.wantFiles {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
					t.Errorf("%s = %q, %v; want %q", name, b, err, want)
				}
			}
			for _, name := range tt.absentFiles {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					t.Errorf("%s was created", name)
				}
			}
		})
	}
}

func jsonOf(t *testing.T, yaml string) string {
	t.Helper()
	b, err := validate.Bootstrap([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	j, err := validate.CanonicalJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

func TestRunnerTemplateDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"overlay/tracing/xray.yaml.tmpl": "{{ with .Tracing.XRay }}name: envoy.tracers.xray\ntyped_config:\n  \"@type\": type.googleapis.com/envoy.config.trace.v3.XRayConfig\n  daemon_endpoint: {protocol: UDP, address: {{ q .Address }}, port_value: {{ .Port }}}\n  segment_name: overlay-segment\n{{ end }}",
		"cases/own.env":                  minimalEnv + "ENABLE_ENVOY_XRAY_TRACING=true\nAPPNET_TEMPLATE_DIR=" + filepath.Join(dir, "nowhere") + "\n",
		"cases/flag.env":                 minimalEnv + "ENABLE_ENVOY_XRAY_TRACING=true\n",
		"cases/own.error":                filepath.Join(dir, "nowhere") + "\n",
	})
	cases, err := Discover([]string{filepath.Join(dir, "cases")})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{TemplateDir: filepath.Join(dir, "overlay"), Update: true}
	results := r.Run(context.Background(), cases)
	if len(results) != 2 || results[0].Status != Updated || results[1].Status != Pass {
		t.Fatalf("results %+v", results)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cases", "flag.yaml"))
	if err != nil || !strings.Contains(string(b), "segment_name: overlay-segment") {
		t.Errorf("--template-dir not applied: %s %v", b, err)
	}
}

func TestReports(t *testing.T) {
	results := []Result{
		{Case: Case{Name: "cases/a", Env: "cases/a.env"}, Status: Pass},
		{Case: Case{Name: "cases/b", Env: "cases/b.env"}, Status: Fail, Summary: "the rendered bootstrap differs", Detail: "differing fields:\n  x\n", Warnings: []string{"w1"}},
		{Case: Case{Name: "cases/c"}, Status: Broken, Summary: "no expectation"},
		{Case: Case{Name: "cases/d", Env: "cases/d.env"}, Status: Updated, Summary: "updated cases/d.yaml"},
	}
	var text bytes.Buffer
	if err := WriteText(&text, results); err != nil {
		t.Fatal(err)
	}
	want := "ok      cases/a\n" +
		"FAIL    cases/b: the rendered bootstrap differs\n        warning: w1\n        differing fields:\n          x\n" +
		"ERROR   cases/c: no expectation\n" +
		"updated cases/d: updated cases/d.yaml\n" +
		"2 passed, 2 failed (1 updated)\n"
	if text.String() != want {
		t.Errorf("text report:\n%s\nwant:\n%s", text.String(), want)
	}

	var x bytes.Buffer
	if err := WriteJUnit(&x, "suite", results); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit report does not parse: %v\n%s", err, x.String())
	}
	if doc.Tests != 4 || doc.Failures != 1 || doc.Errors != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 4 {
		t.Fatalf("JUnit counts: %+v", doc)
	}
	cs := doc.Suites[0].Cases
	if cs[1].Name != "b" || cs[1].Classname != "cases" || cs[1].Failure == nil || cs[1].Failure.Text != "differing fields:\n  x\n" || cs[1].SystemOut != "warning: w1\n" {
		t.Errorf("failed case: %+v", cs[1])
	}
	if cs[2].Error == nil || cs[2].Error.Message != "no expectation" || cs[0].Failure != nil || cs[3].Failure != nil {
		t.Errorf("cases: %+v", cs)
	}
}

// TestPlatformTeamExample runs the example suite in-process, as its CI script
// does (the binary is tested by e2e/golden_test.go), so it cannot rot.
func TestPlatformTeamExample(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", "examples", "platform-team"))
	facts, err := platform.ReadHostFacts("facts.json")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Discover([]string{"cases"})
	if err != nil {
		t.Fatal(err)
	}
	results := (&Runner{TemplateDir: "templates", Facts: facts}).Run(context.Background(), cases)
	var text bytes.Buffer
	_ = WriteText(&text, results)
	if c := Count(results); c.Passed != len(cases) || len(cases) < 5 {
		t.Errorf("the example does not pass:\n%s", text.String())
	}
	for _, r := range results {
		// The reference bootstrap's tracer is the bootstrap's deprecated tracing field, which
		// render reports as validate does; nothing else may warn.
		others := slices.DeleteFunc(slices.Clone(r.Warnings), func(w string) bool {
			return strings.HasPrefix(w, "tracing: deprecated field envoy.config.bootstrap.v3.Bootstrap.tracing")
		})
		if len(others) > 0 {
			t.Errorf("%s warns (the example's facts should be complete): %q", r.Case.Name, others)
		}
	}
}

// BenchmarkPlatformTeamExample is one `golden` run over the example's five cases, in-process.
func BenchmarkPlatformTeamExample(b *testing.B) {
	b.Chdir(filepath.Join("..", "..", "examples", "platform-team"))
	facts, err := platform.ReadHostFacts("facts.json")
	if err != nil {
		b.Fatal(err)
	}
	cases, err := Discover([]string{"cases"})
	if err != nil {
		b.Fatal(err)
	}
	r := &Runner{TemplateDir: "templates", Facts: facts}
	for b.Loop() {
		for _, res := range r.Run(context.Background(), cases) {
			if !res.OK() {
				b.Fatal(res.Summary)
			}
		}
	}
}
