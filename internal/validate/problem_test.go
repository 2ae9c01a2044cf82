package validate

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestProblems(t *testing.T) {
	ps := Problems{{Path: "a.b", Message: "bad"}, {Message: "worse"}}
	if got := ps.Error(); got != "a.b: bad\nworse" {
		t.Errorf("Error() = %q", got)
	}
	var err error = ps
	var as Problems
	if !errors.As(err, &as) || len(as) != 2 {
		t.Error("Problems is not usable with errors.As")
	}
	if Problems(nil).asError() != nil {
		t.Error("no problems must be a nil error")
	}
	b, err := Decode([]byte("admin: {}\n"))
	if err != nil || b == nil {
		t.Fatalf("Decode = %v, %v", b, err)
	}
	if ps := Check(b); ps != nil {
		t.Errorf("Check = %#v, want nil", ps)
	}
	if ps := Check(nil); len(ps) != 1 {
		t.Errorf("Check(nil) = %v", ps)
	}
}

func TestDeprecations(t *testing.T) {
	b, err := Decode([]byte(`
admin: {access_log_path: /dev/null}
static_resources:
  clusters:
  - name: c
    http2_protocol_options: {}
    dns_lookup_family: V4_ONLY
`))
	if err != nil {
		t.Fatal(err)
	}
	got := Deprecations(b)
	want := []Problem{
		{Path: "static_resources.clusters[0].http2_protocol_options", Message: "deprecated field envoy.config.cluster.v3.Cluster.http2_protocol_options (since API 3.0)"},
		{Path: "admin.access_log_path", Message: "deprecated field envoy.config.bootstrap.v3.Admin.access_log_path (since API 3.0)"},
	}
	if len(got) != len(want) {
		t.Fatalf("Deprecations = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Deprecations[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if ps := Check(b); ps != nil {
		t.Errorf("deprecated (not disallowed) fields are only warnings: %v", ps)
	}
}

func TestYamlCppScalars(t *testing.T) {
	for s, want := range map[string]scalarKind{
		"yes": kindBool, "Yes": kindBool, "YES": kindBool, "yEs": kindString, "n": kindBool, "Off": kindBool,
		"12": kindInt, "-12": kindInt, "+12": kindInt, "0x1F": kindInt, "017": kindInt, "2147483648": kindBigInt,
		"9223372036854775808": kindString, "08": kindString, "0o17": kindString, "1_000": kindString,
		"1.5": kindString, "1e3": kindString, "~": kindNull, "": kindNull, "Null": kindNull, "abc": kindString,
	} {
		if got, _ := (&converter{}).classify(plain(s)); got != want {
			t.Errorf("classify(%q) = %v, want %v", s, got, want)
		}
	}
	if _, text := (&converter{}).classify(plain("017")); text != "15" {
		t.Errorf("017 = %s, want octal 15", text)
	}
	if kind, text := (&converter{jsonInput: true}).classify(plain("1.5e3")); kind != kindNumber || text != "1.5e3" {
		t.Errorf("JSON number = %v %s", kind, text)
	}
}

func TestSameName(t *testing.T) {
	for _, c := range []struct {
		proto, goName string
		want          bool
	}{
		{"port_value", "PortValue", true},
		{"ipv4_compat", "Ipv4Compat", true},
		{"tls_v1_3", "TlsV1_3", true},
		{"port_value", "Port", false},
		{"name", "Names", false},
	} {
		if got := sameName(c.proto, c.goName); got != c.want {
			t.Errorf("sameName(%q, %q) = %v", c.proto, c.goName, got)
		}
	}
}

// InspectWithDeprecations walks once for what Inspect and Deprecations each walk for: over the
// real-bootstrap corpus (Any payloads, ignored listeners, disallowed deprecations) and the
// example above, it returns exactly what the two return.
func TestInspectWithDeprecationsIsInspectAndDeprecations(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "*"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"example": []byte("admin: {access_log_path: /dev/null}\nstatic_resources:\n" +
		"  clusters:\n  - {name: c, http2_protocol_options: {}, dns_lookup_family: V4_ONLY}\n")}
	for _, f := range files {
		if strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".json") {
			if docs[filepath.Base(f)], err = os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	found := 0
	for name, data := range docs {
		b, _ := Read(data, FormatOf(name))
		if b == nil {
			continue
		}
		for _, o := range []Options{{}, {RequireNode: true}} {
			ps, deprecations := InspectWithDeprecations(b, o)
			if want := Inspect(b, o); !slices.Equal(ps, want) {
				t.Errorf("%s %+v: problems\n%v\nInspect\n%v", name, o, ps, want)
			}
			if want := Deprecations(b); !slices.Equal(deprecations, want) {
				t.Errorf("%s %+v: deprecations\n%v\nDeprecations\n%v", name, o, deprecations, want)
			}
			found += len(deprecations)
		}
	}
	if found < 10 {
		t.Errorf("only %d deprecations in the corpus: the comparison proves little", found)
	}
}
