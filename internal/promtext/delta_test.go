package promtext

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// families parses an exposition as a snapshot does.
func families(t *testing.T, body string) []*dto.MetricFamily {
	t.Helper()
	var out []*dto.MetricFamily
	if err := extractFamilies(strings.NewReader(body), func(mf *dto.MetricFamily) error {
		out = append(out, mf)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func render(t *testing.T, fams []*dto.MetricFamily) string {
	t.Helper()
	b, err := Render(fams)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestComputeDelta(t *testing.T) {
	old := families(t, `# TYPE envoy_appmesh_C counter
envoy_appmesh_C{a="1"} 100
envoy_appmesh_C{a="2"} 50
envoy_appmesh_C{a="gone"} 9
# TYPE envoy_appmesh_G gauge
envoy_appmesh_G 7
# TYPE envoy_appmesh_H histogram
envoy_appmesh_H_bucket{le="1"} 1
envoy_appmesh_H_bucket{le="+Inf"} 2
envoy_appmesh_H_sum 3
envoy_appmesh_H_count 2
envoy_appmesh_H_bucket{a="reset",le="1"} 5
envoy_appmesh_H_bucket{a="reset",le="+Inf"} 5
envoy_appmesh_H_sum{a="reset"} 5
envoy_appmesh_H_count{a="reset"} 5
# TYPE envoy_appmesh_Gone counter
envoy_appmesh_Gone 1
`)
	cur := families(t, `# TYPE envoy_appmesh_C counter
envoy_appmesh_C{a="1"} 110
envoy_appmesh_C{a="2"} 20
envoy_appmesh_C{a="new"} 4
# TYPE envoy_appmesh_G gauge
envoy_appmesh_G 3
# TYPE envoy_appmesh_H histogram
envoy_appmesh_H_bucket{le="1"} 4
envoy_appmesh_H_bucket{le="+Inf"} 6
envoy_appmesh_H_sum 10.5
envoy_appmesh_H_count 6
envoy_appmesh_H_bucket{a="reset",le="1"} 1
envoy_appmesh_H_bucket{a="reset",le="+Inf"} 1
envoy_appmesh_H_sum{a="reset"} 1
envoy_appmesh_H_count{a="reset"} 1
# TYPE envoy_appmesh_New counter
envoy_appmesh_New 8
`)
	curText := render(t, cur)
	got := render(t, computeDelta(old, cur))
	want := `
# TYPE C counter
C{a="1"} 10
C{a="2"} 20
C{a="new"} 4

# TYPE G gauge
G 3

# TYPE H histogram
H_bucket{le="1"} 3
H_bucket{le="+Inf"} 4
H_sum 7.5
H_count 4
H_bucket{a="reset",le="1"} 1
H_bucket{a="reset",le="+Inf"} 1
H_sum{a="reset"} 1
H_count{a="reset"} 1

# TYPE New counter
New 8
`
	if got != want {
		t.Errorf("delta:\n%s\nwant:\n%s", got, want)
	}
	if render(t, cur) != curText {
		t.Error("computeDelta modified its input")
	}
	if got := render(t, computeDelta(nil, cur)); got != curText {
		t.Errorf("no previous snapshot: got %q, want the cumulative values", got)
	}
}
