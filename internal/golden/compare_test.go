package golden

import (
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/validate"
)

const compareBase = `node:
  id: node1
  cluster: c
  metadata:
    aws.appmesh.platformInfo: {AvailabilityZone: us-west-2a, list: [a, b]}
static_resources:
  clusters:
  - name: one
    connect_timeout: 1s
  - name: two
    connect_timeout: 1s
tracing:
  http:
    name: envoy.tracers.zipkin
    typed_config:
      "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
      collector_cluster: one
      collector_endpoint: /api/v2/spans
      collector_endpoint_version: HTTP_JSON
`

func TestCompare(t *testing.T) {
	want, err := validate.Decode([]byte(compareBase))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to string
		paths          []string
	}{
		{"same content, other spelling", "connect_timeout: 1s\n  - name: two", "connect_timeout: 1.000s\n  - name: two", nil},
		{"scalar", "cluster: c", "cluster: d", []string{"node.cluster"}},
		{"struct key with dots", "AvailabilityZone: us-west-2a", "AvailabilityZone: us-west-2b", []string{`node.metadata["aws.appmesh.platformInfo"].AvailabilityZone`}},
		{"struct list element", "list: [a, b]", "list: [a, c]", []string{`node.metadata["aws.appmesh.platformInfo"].list[1]`}},
		{"list element", "name: two", "name: three", []string{"static_resources.clusters[1].name"}},
		{"inside typed_config", "collector_endpoint: /api/v2/spans", "collector_endpoint: /x", []string{"tracing.http.typed_config.collector_endpoint"}},
		{"inserted element", "  - name: two\n", "  - name: zero\n    connect_timeout: 2s\n  - name: two\n", []string{"static_resources.clusters[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := strings.Replace(compareBase, tt.from, tt.to, 1)
			if edited == compareBase {
				t.Fatalf("%q not in the base", tt.from)
			}
			got, err := validate.Decode([]byte(edited))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Compare(want, got, "want.yaml", "got")
			if err != nil {
				t.Fatal(err)
			}
			if tt.paths == nil {
				if m != nil {
					t.Fatalf("equal bootstraps reported as different:\n%s", m)
				}
				return
			}
			if m == nil {
				t.Fatal("difference not detected")
			}
			if strings.Join(m.Paths, "|") != strings.Join(tt.paths, "|") {
				t.Errorf("paths %q, want %q", m.Paths, tt.paths)
			}
			if !strings.HasPrefix(m.Diff, "--- want.yaml\n+++ got\n@@ ") || !strings.Contains(m.Diff, "\n+") && !strings.Contains(m.Diff, "\n-") {
				t.Errorf("diff:\n%s", m.Diff)
			}
			if !strings.HasPrefix(m.String(), "differing fields:\n  "+tt.paths[0]+"\n--- want.yaml") {
				t.Errorf("report:\n%s", m)
			}
		})
	}
}

// TestReportEscapesControlCharacters (issue 16, item 16): a case file named with terminal
// escapes (by whoever wrote into the cases directory) is printed escaped, not raw.
func TestReportEscapesControlCharacters(t *testing.T) {
	results := []Result{{
		Case:     Case{Name: "cases/red\x1b[31m\x07\r\x9b\xff\u009b"},
		Status:   Broken,
		Summary:  "cases/red\x1b[31m.yaml: missing\nsecond line",
		Warnings: []string{"w\x1b]0;title\x07"},
		Detail:   "line 1\n\tline\x1b[2J 2\n",
	}}
	var b strings.Builder
	if err := WriteText(&b, results); err != nil {
		t.Fatal(err)
	}
	want := `ERROR   cases/red\x1b[31m\x07\x0d\x9b\xff\u009b: cases/red\x1b[31m.yaml: missing\x0asecond line
        warning: w\x1b]0;title\x07
        line 1
        	line\x1b[2J 2
0 passed, 1 failed
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
