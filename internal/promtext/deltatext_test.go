package promtext

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// deltaBothWays computes the delta of cur against old through the text snapshots
// (Delta) and through parsed families (computeDelta, the definition), and reports
// whether both inputs were usable.
func deltaBothWays(old, cur string) (text, want string, ok bool) {
	var of, cf []*dto.MetricFamily
	collect := func(dst *[]*dto.MetricFamily) func(*dto.MetricFamily) error {
		return func(mf *dto.MetricFamily) error { *dst = append(*dst, mf); return nil }
	}
	if extractFamilies(strings.NewReader(old), collect(&of)) != nil || extractFamilies(strings.NewReader(cur), collect(&cf)) != nil {
		return "", "", false
	}
	wantB, err := Render(computeDelta(of, cf))
	if err != nil {
		return "", "", false
	}
	ot, err1 := FilterExtension(strings.NewReader(old))
	ct, err2 := FilterExtension(strings.NewReader(cur))
	if err1 != nil || err2 != nil {
		return "", "", false
	}
	op, err1 := ot.Sorted()
	cp, err2 := ct.Sorted()
	if err1 != nil || err2 != nil {
		return "", "", false
	}
	d, err := Delta(op, cp)
	if err != nil {
		return "error: " + err.Error(), string(wantB), true
	}
	return string(bytes.Join(Texts(d), nil)), string(wantB), true
}

func checkDelta(t *testing.T, old, cur string) {
	t.Helper()
	text, want, ok := deltaBothWays(old, cur)
	if ok && text != want {
		t.Fatalf("text delta differs from computeDelta\nold %q\ncur %q\ntext:\n%s\nwant:\n%s", old, cur, text, want)
	}
}

var sampleValue = regexp.MustCompile(`(?m) (\d+)(\.\d+)?$`)

// evolve turns a body into a later scrape of it: values grow, some shrink (resets), a few
// series disappear or appear.
func evolve(r *rand.Rand, body string) string {
	lines := strings.Split(body, "\n")
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "#") && l != "" && r.IntN(40) == 0 {
			continue // gone
		}
		l = sampleValue.ReplaceAllStringFunc(l, func(m string) string {
			v, _ := strconv.ParseFloat(strings.TrimSpace(m), 64)
			switch r.IntN(10) {
			case 0:
				v /= 2 // a reset
			case 1:
			default:
				v += float64(r.IntN(100))
			}
			return " " + strconv.FormatFloat(v, 'f', -1, 64)
		})
		out = append(out, l)
		if strings.HasPrefix(l, "envoy_appmesh_") && !strings.Contains(l, "_bucket") && r.IntN(60) == 0 {
			out = append(out, strings.Replace(l, `Mesh="mesh"`, `Mesh="new"`, 1)) // appears
		}
	}
	return strings.Join(out, "\n")
}

// TestDeltaTextMatchesComputeDelta: the text snapshots give byte for byte the delta that
// parsed families give (computeDelta is the definition), on realistic evolutions.
func TestDeltaTextMatchesComputeDelta(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	base := string(testenv.PromBody(6000, 1))
	if _, _, ok := deltaBothWays(base, base); !ok {
		t.Fatal("the base body does not parse")
	}
	checkDelta(t, base, base)
	prev := base
	for range 20 {
		next := evolve(r, prev)
		checkDelta(t, prev, next)
		prev = next
	}
	for _, s := range seedBodies {
		for _, c := range seedBodies {
			checkDelta(t, s, c)
		}
	}
}

func FuzzDeltaMatchesComputeDelta(f *testing.F) {
	f.Add("# TYPE envoy_appmesh_C counter\nenvoy_appmesh_C{a=\"1\"} 5\n", "# TYPE envoy_appmesh_C counter\nenvoy_appmesh_C{a=\"1\"} 9\n")
	f.Add("# TYPE envoy_appmesh_H histogram\nenvoy_appmesh_H_bucket{le=\"1\"} 1\nenvoy_appmesh_H_bucket{le=\"+Inf\"} 2\nenvoy_appmesh_H_sum 3\nenvoy_appmesh_H_count 2\n",
		"# TYPE envoy_appmesh_H histogram\nenvoy_appmesh_H_bucket{le=\"1\"} 4\nenvoy_appmesh_H_bucket{le=\"+Inf\"} 6\nenvoy_appmesh_H_sum 10.5\nenvoy_appmesh_H_count 6\n")
	for _, s := range seedBodies {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, old, cur string) {
		checkDelta(t, old, cur)
	})
}
