package validate

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/appnet/appnet-agent/internal/testflag"
)

// update (-update, declared once in testflag) rewrites testdata/sidecar.canonical.yaml.
var update = testflag.Update

// TestCanonicalGolden pins the canonical YAML of the sample byte for byte: protojson's whitespace varies between
// builds, the canonical form must not.
func TestCanonicalGolden(t *testing.T) {
	b, err := Bootstrap([]byte(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := CanonicalYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/sidecar.canonical.yaml"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("canonical YAML differs from %s (run go test -update and review the diff):\n%s", golden, got)
	}
	if err := lint(got); err != nil {
		t.Errorf("canonical YAML is not lint-clean: %v", err)
	}
}

func TestCanonicalJSON(t *testing.T) {
	b, err := Bootstrap([]byte(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	first, err := CanonicalJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	second, err := CanonicalJSON(proto.Clone(b))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("CanonicalJSON is not deterministic")
	}
	s := string(first)
	for _, want := range []string{
		"{\n  \"admin\": {\n", // sorted keys, two-space indent
		`"port_value": 9901`,  // proto field names
		`"@type": "type.googleapis.com/envoy.config.grpc_credential.v3.AwsIamConfig"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("CanonicalJSON lacks %q", want)
		}
	}
	if !strings.HasSuffix(s, "}\n") || !json.Valid(first) {
		t.Error("CanonicalJSON is not one JSON value ending in a newline")
	}
	if strings.Contains(s, "\\u003c") {
		t.Error("HTML escaping is on")
	}
}

// TestCanonicalYAMLQuotes: strings YAML would read as something else stay strings after a round trip.
func TestCanonicalYAMLQuotes(t *testing.T) {
	b, err := Decode([]byte(`node: {id: "yes", cluster: "0700", metadata: {a: "on", b: "~", c: "1.5", d: "0x10", e: "N"}}`))
	if err != nil {
		t.Fatal(err)
	}
	y, err := CanonicalYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if !proto.Equal(b, again) {
		t.Errorf("round trip changed values:\n%s", y)
	}
	if err := lint(y); err != nil {
		t.Errorf("canonical YAML is not lint-clean: %v", err)
	}
}
