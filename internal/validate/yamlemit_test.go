package validate

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// hostileStrings are strings YAML readers disagree on or treat specially.
var hostileStrings = []string{
	"", " ", " x", "x ", "yes", "No", "ON", "off", "y", "N", "yEs", "true", "False", "TRUE", "~", "null", "NULL", "Null",
	"0", "-0", "00", "07", "0700", "08", "0o17", "0x1F", "0X1f", "0b101", "1e3", "1E+3", "1_000", "1__0", "1.", ".5",
	"1.5", "1.2.3", "127.0.0.1", "10.0.0.5/24", "0.250s", "10s", "1:20", "12:30:45", "190:20:30.15", "2024-01-02",
	"2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", ".inf", "-.inf", "+.INF", ".NaN", "NaN", "nan",
	"Infinity", "-Infinity", "inf", "-1", "+1", "+12", "0x1p-2", "9007199254740993", "-2147483649", "4294967296",
	"<<", "=", "- x", "-", "--", "---", "...", "? x", "?", ": x", ":", "x:", "x: y", "a: b: c", "x #y", "#x", "x#y",
	"&a", "*a", "!t", "!!str", "%REQ(:PATH)%", "@type", "`x`", "[a]", "{a: 1}", "a,b", "a]", "'x'", "\"x\"", "x'y",
	`x\y`, `\`, "|", ">-", "tab\tx", "\t", "nl\nx", "\n", "cr\rx", "crlf\r\nx", "\x00", "\x01", "\x1b[0m", "\x7f",
	"\u0080", "\u0085", "\u009f", "\u00a0", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "é", "🙂", "日本",
	"AWS::AppMesh::Proxy", "arn:aws:appmesh:us-west-2:1:mesh/m/virtualNode/n", "::1", "fe80::1", "[::1]:80",
	"type.googleapis.com/envoy.config.trace.v3.XRayConfig", "/tmp/x", "_x", "x y", "x  y", "a=b", "k8s", "v1.30",
	"1d", "1deadbeef", "12abc", "3-4", "1.0.0-beta", strings.Repeat("k", 200), strings.Repeat("a b ", 400),
}

func TestPlainSafe(t *testing.T) {
	plain := []string{"x", "abc", "type.googleapis.com/envoy.config.trace.v3.XRayConfig", "/tmp/x", "_x",
		"AWS::AppMesh::Proxy", "0.250s", "10s", "10.0.0.5/24", "us-west-2", "x y", "fe80::1", "1.0.0-beta", "k8s",
		"appmesh-envoy-management.us-west-2.amazonaws.com:443", "STRICT_DNS", "yess", "nope", "onward"}
	for _, s := range plain {
		if !plainSafe(s) {
			t.Errorf("plainSafe(%q) = false, want true", s)
		}
	}
	quoted := []string{"", "yes", "No", "ON", "y", "true", "~", "null", "0", "8080", "0700", "0x1F", "1e3", "1_000",
		"1.2.3", "127.0.0.1", "1:20", "2024-01-02", "2001-12-14t21:59:43.10-05:00", ".inf", "NaN", "Infinity", "-1",
		"<<", "=", "- x", "---", "...", ": x", "x:", "x: y", "x #y", "#x", "&a", "*a", "!t", "%REQ(:PATH)%", "@type",
		"[a]", "{a: 1}", "a,b", "'x'", `x\y`, "tab\tx", "nl\nx", "é", "x ", " x", "1d", "\x7f"}
	for _, s := range quoted {
		if plainSafe(s) {
			t.Errorf("plainSafe(%q) = true, want false", s)
		}
	}
}

// hostileBootstrap puts s where strings go in a bootstrap: a message field, a Struct key and a Struct value.
func hostileBootstrap(s string) *bootstrapv3.Bootstrap {
	md, err := structpb.NewStruct(map[string]any{s: s, "k": s, "list": []any{s, 1, true, nil,
		map[string]any{s: []any{s}, "a": map[string]any{}}, []any{[]any{s, map[string]any{s: s}}, []any{}}}})
	if err != nil {
		panic(err)
	}
	return &bootstrapv3.Bootstrap{Node: &corev3.Node{Id: s, Cluster: "c", Metadata: md}}
}

// checkStringsRoundTrip asserts that y (canonical YAML of hostileBootstrap(s)) reads back as s in Decode (Envoy's
// reading), in yaml.v3 (YAML 1.2) and in sigs.k8s.io/yaml (yaml.v2, YAML 1.1), and is lint-clean.
func checkStringsRoundTrip(t *testing.T, s string, b *bootstrapv3.Bootstrap, y []byte) {
	t.Helper()
	back, err := Decode(y)
	if err != nil {
		t.Fatalf("%q: canonical YAML does not decode: %v\n%s", s, err, y)
	}
	if !proto.Equal(b, back) {
		t.Fatalf("%q: canonical YAML decodes to something else:\n%s", s, y)
	}
	if err := lint(y); err != nil {
		t.Errorf("%q: canonical YAML is not lint-clean: %v\n%s", s, err, y)
	}
	var v3 map[string]any
	if err := yaml.Unmarshal(y, &v3); err != nil {
		t.Fatalf("%q: yaml.v3: %v\n%s", s, err, y)
	}
	j, err := sigsyaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("%q: sigs.k8s.io/yaml: %v\n%s", s, err, y)
	}
	var v2 map[string]any
	if err := json.Unmarshal(j, &v2); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]map[string]any{"yaml.v3": v3, "yaml.v2": v2} {
		node, _ := doc["node"].(map[string]any)
		md, _ := node["metadata"].(map[string]any)
		if (s != "" && node["id"] != s) || md[s] != s || md["k"] != s {
			t.Errorf("%s reads %q back as id %#v, metadata %#v\n%s", name, s, node["id"], md, y)
		}
	}
}

func TestCanonicalYAMLHostileStrings(t *testing.T) {
	for _, s := range hostileStrings {
		b := hostileBootstrap(s)
		y, err := CanonicalYAML(b)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		checkStringsRoundTrip(t, s, b, y)
	}
}

// FuzzCanonicalYAML: any string, as a field, a Struct key and a Struct value, reads back identically.
//
//	go test ./internal/validate/ -run '^$' -fuzz FuzzCanonicalYAML -fuzztime 30s
func FuzzCanonicalYAML(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // protobuf strings are UTF-8
		}
		b := hostileBootstrap(s)
		y, err := CanonicalYAML(b)
		if err != nil {
			t.Fatal(err)
		}
		checkStringsRoundTrip(t, s, b, y)
	})
}

// TestCanonicalYAMLNumbers: numbers in typed fields and Structs.
func TestCanonicalYAMLNumbers(t *testing.T) {
	src := `{"node": {"metadata": {"i": 15000, "neg": -2147483648, "max": 2147483647, "f": 2.5, "big": 4294967296,
		"e": 1e300, "tiny": 1e-7, "z": 0}}, "stats_flush_interval": "1.5s",
		"overload_manager": {"refresh_interval": "0.25s", "actions": [{"name": "a", "triggers": [{"name": "t",
		"threshold": {"value": 0.95}}]}]}}`
	b, err := Decode([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	y, err := CanonicalYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	// Typed fields and int32 Struct numbers round-trip; other Struct numbers come back as Envoy reads them.
	md := back.GetNode().GetMetadata().GetFields()
	for k, want := range map[string]any{"i": 15000.0, "neg": -2147483648.0, "max": 2147483647.0, "z": 0.0,
		"f": "2.5", "big": "4294967296", "e": "1e+300", "tiny": "1e-7"} {
		if got := md[k].AsInterface(); got != want {
			t.Errorf("metadata %s = %#v, want %#v\n%s", k, got, want, y)
		}
	}
	if !proto.Equal(b.GetOverloadManager(), back.GetOverloadManager()) || b.GetStatsFlushInterval().AsDuration() != back.GetStatsFlushInterval().AsDuration() {
		t.Errorf("typed fields changed:\n%s", y)
	}
	// Read from YAML, as render does, every number round-trips.
	again, err := CanonicalYAML(back)
	if err != nil {
		t.Fatal(err)
	}
	last, err := Decode(again)
	if err != nil || !proto.Equal(back, last) {
		t.Fatalf("a bootstrap read from YAML does not round-trip (%v):\n%s", err, again)
	}
	if final, _ := CanonicalYAML(last); !bytes.Equal(final, again) {
		t.Errorf("canonical YAML is not stable:\n%s\n%s", again, final)
	}
}

// hasLossyStructNumber reports a Struct number that no YAML spelling gives back to Envoy as a number (one that is
// not an integer in int32 range): only a bootstrap decoded from JSON can hold one.
func hasLossyStructNumber(m protoreflect.Message) bool {
	found := false
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if v, ok := m.Interface().(*structpb.Value); ok {
			if n, isNum := v.GetKind().(*structpb.Value_NumberValue); isNum {
				f := n.NumberValue
				found = found || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32
			}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, e protoreflect.Value) bool { walk(e.Message()); return !found })
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len() && !found; i++ {
					walk(v.List().Get(i).Message())
				}
			case !fd.IsMap() && !fd.IsList() && fd.Message() != nil:
				walk(v.Message())
			}
			return !found
		})
	}
	walk(m)
	return found
}

// roundTripFiles lists every bootstrap at hand: the sample, the real-world corpus, the conformance expectations and
// the repository's golden files (the canonical JSON of every rendered golden case).
func roundTripFiles(t *testing.T) []string {
	files := []string{"testdata/sidecar.yaml", "testdata/sidecar.canonical.yaml"}
	for _, pattern := range []string{testenv.Testdata("bootstrap-real", "*.*"), testenv.Testdata("conformance", "cases", "*.yaml")} {
		more, _ := filepath.Glob(pattern)
		if len(more) == 0 {
			t.Errorf("no files match %s", pattern)
		}
		files = append(files, more...)
	}
	goldens, _ := filepath.Glob("../../golden/*.json")
	if len(goldens) == 0 {
		t.Error("no golden files found in ../../golden")
	}
	return append(files, goldens...)
}

// TestCanonicalYAMLRoundTrip: for every bootstrap at hand, the canonical YAML decodes to the identical proto (the
// goldens are exactly the validated protos of the rendered golden cases, so this is "Envoy reads what was
// validated" for each of them), is stable, and reads the same through Parse + DecodeNode.
func TestCanonicalYAMLRoundTrip(t *testing.T) {
	n := 0
	for _, f := range roundTripFiles(t) {
		if !strings.HasSuffix(f, ".yaml") && !strings.HasSuffix(f, ".json") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Decode(data)
		if err != nil {
			continue // rejected files are TestCorpus's business
		}
		n++
		y, err := CanonicalYAML(b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		back, err := Decode(y)
		if err != nil {
			t.Errorf("%s: canonical YAML does not decode: %v", f, err)
			continue
		}
		if !proto.Equal(b, back) {
			if !hasLossyStructNumber(b.ProtoReflect()) {
				t.Errorf("%s: canonical YAML decodes to a different bootstrap", f)
			}
			b = back // what Envoy reads; from here on it must be a fixed point
			if y, err = CanonicalYAML(b); err != nil {
				t.Fatal(err)
			}
		}
		again, err := CanonicalYAML(back)
		if err != nil || !bytes.Equal(again, y) {
			t.Errorf("%s: canonical YAML is not stable (%v)", f, err)
		}
		root, err := Parse(y)
		if err != nil {
			t.Fatalf("%s: Parse: %v", f, err)
		}
		viaNode, err := DecodeNode(root)
		if err != nil || !proto.Equal(viaNode, b) {
			t.Errorf("%s: Parse + DecodeNode differs from Decode (%v)", f, err)
		}
	}
	if n < 60 {
		t.Errorf("only %d bootstraps round-tripped", n)
	}
}
