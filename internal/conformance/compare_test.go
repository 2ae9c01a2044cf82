package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/appnet/appnet-agent/internal/golden"
	"github.com/appnet/appnet-agent/internal/validate"
)

// Host-dependent node metadata the corpus masks (README "Expectations").
const (
	metaInterfaces   = "aws.appmesh.task.interfaces"
	metaPlatformInfo = "aws.appmesh.platformInfo"
	metaSystemInfo   = "systemInfo"
)

// decodeExpected parses an expectation, substituting the per-case fixtures
// directory back in for the literal ${FIXTURES}.
func decodeExpected(data []byte, fixturesDir string) (*bootstrapv3.Bootstrap, error) {
	data = bytes.ReplaceAll(data, []byte("${FIXTURES}"), []byte(fixturesDir))
	return validate.Decode(data)
}

// decodeActual parses the binary's output and masks exactly what the corpus
// masked. Both sides go through the same decoder, so representation choices
// (YAML vs JSON, snake vs camel case, Struct number types) cancel out.
func decodeActual(data []byte) (*bootstrapv3.Bootstrap, error) {
	b, err := validate.Decode(data)
	if err != nil {
		return nil, err
	}
	maskHostMetadata(b)
	return b, nil
}

// maskHostMetadata deletes node.metadata["aws.appmesh.task.interfaces"] and
// node.metadata["aws.appmesh.platformInfo"].systemInfo, and platformInfo if
// that leaves it empty. An emptied metadata Struct is kept: the corpus kept it.
func maskHostMetadata(b *bootstrapv3.Bootstrap) {
	fields := b.GetNode().GetMetadata().GetFields()
	if fields == nil {
		return
	}
	delete(fields, metaInterfaces)
	info := fields[metaPlatformInfo].GetStructValue()
	if info == nil {
		return
	}
	delete(info.Fields, metaSystemInfo)
	if len(info.Fields) == 0 {
		delete(fields, metaPlatformInfo)
	}
}

// bootstrapDiff returns "" when equal, else the differing field paths and a
// unified diff of the canonical YAML (-want +got): golden.Compare, the
// comparison `appnet-agent golden` makes.
func bootstrapDiff(want, got *bootstrapv3.Bootstrap) string {
	m, err := golden.Compare(want, got, "want", "got")
	if err != nil {
		return "comparison failed: " + err.Error()
	}
	if m == nil {
		return ""
	}
	return m.String()
}

// jsonDiff compares two JSON documents as decoded values (key order and
// number spelling do not matter).
func jsonDiff(want, got []byte) (string, error) {
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return "", fmt.Errorf("expected JSON: %w", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return "", fmt.Errorf("actual JSON: %w", err)
	}
	return cmp.Diff(w, g), nil
}

func TestMaskHostMetadata(t *testing.T) {
	mustStruct := func(m map[string]any) *structpb.Struct {
		s, err := structpb.NewStruct(m)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name     string
		in, want map[string]any
	}{
		{
			name: "interfaces and systemInfo removed, rest kept",
			in: map[string]any{
				metaInterfaces:   map[string]any{"ipv4": map[string]any{"lo": []any{"127.0.0.1/8"}}},
				metaPlatformInfo: map[string]any{metaSystemInfo: map[string]any{"systemPlatform": "x86_64"}, "AvailabilityZone": "z"},
				"other":          "kept",
			},
			want: map[string]any{metaPlatformInfo: map[string]any{"AvailabilityZone": "z"}, "other": "kept"},
		},
		{
			name: "platformInfo dropped when only systemInfo",
			in:   map[string]any{metaPlatformInfo: map[string]any{metaSystemInfo: map[string]any{}}},
			want: map[string]any{},
		},
		{
			name: "non-struct platformInfo untouched",
			in:   map[string]any{metaPlatformInfo: "odd"},
			want: map[string]any{metaPlatformInfo: "odd"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := &bootstrapv3.Bootstrap{Node: &corev3.Node{Metadata: mustStruct(tt.in)}}
			maskHostMetadata(got)
			want := &bootstrapv3.Bootstrap{Node: &corev3.Node{Metadata: mustStruct(tt.want)}}
			if d := bootstrapDiff(want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
	maskHostMetadata(&bootstrapv3.Bootstrap{}) // no node: must not panic
}

func TestJSONDiff(t *testing.T) {
	same := `{"version":2,"default":{"fixed_target":1,"rate":0.15},"rules":[]}`
	if d, err := jsonDiff([]byte(same), []byte(`{"rules":[],"default":{"rate":1.5e-1,"fixed_target":1.0},"version":2}`)); err != nil || d != "" {
		t.Errorf("reordered equal JSON: diff %q, err %v", d, err)
	}
	if d, err := jsonDiff([]byte(same), []byte(`{"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[]}`)); err != nil || d == "" {
		t.Errorf("changed rate: diff %q, err %v", d, err)
	}
	if _, err := jsonDiff([]byte(same), []byte(`{`)); err == nil {
		t.Error("want an error for invalid actual JSON")
	}
}

// TestExpectationsCompareEqualToThemselves checks that every expectation
// decodes and that the comparison is reflexive: if this fails, TestConformance
// failures say nothing about the binary.
func TestExpectationsCompareEqualToThemselves(t *testing.T) {
	for _, c := range mustLoadCases(t) {
		if c.Expect != expectYAML {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(corpusCasesDir(), c.ID+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := decodeExpected(data, "/fixtures")
			if err != nil {
				t.Fatalf("expectation does not decode: %v", err)
			}
			got, err := decodeActual(bytes.ReplaceAll(data, []byte("${FIXTURES}"), []byte("/fixtures")))
			if err != nil {
				t.Fatal(err)
			}
			if d := bootstrapDiff(want, got); d != "" {
				t.Errorf("expectation differs from itself (-want +got):\n%s", d)
			}
		})
	}
}

// TestCompareDetectsChanges guards against a comparison that always passes
// (e.g. both sides decoding to empty protos).
func TestCompareDetectsChanges(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusCasesDir(), "m01-minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := decodeExpected(data, "/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	if want.GetNode().GetId() == "" {
		t.Fatal("m01 decoded without node.id: the decoder lost data")
	}
	edits := []struct{ name, from, to string }{
		{"scalar", "portValue: 9901", "portValue: 9902"},
		{"struct value", "re2.max_program_size.error_level: 1000", "re2.max_program_size.error_level: 1001"},
		{"struct type", "re2.max_program_size.error_level: 1000", "re2.max_program_size.error_level: '1000'"},
		{"list element", "tagName: appmesh.listener_protocol", "tagName: appmesh.listener_protocolX"},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			if !strings.Contains(string(data), e.from) {
				t.Fatalf("m01 no longer contains %q", e.from)
			}
			got, err := decodeActual([]byte(strings.Replace(string(data), e.from, e.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if bootstrapDiff(want, got) == "" {
				t.Errorf("edit %q -> %q not detected", e.from, e.to)
			}
		})
	}
}
