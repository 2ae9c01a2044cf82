package promtext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	dto "github.com/prometheus/client_model/go"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// viaFilter is the filter's output for body (fast path where it applies).
// extractFamilies reads Envoy's exposition and calls visit with each metrics-extension family,
// parsed by expfmt, renamed and normalised: the reference's (and the old snapshots') view.
func extractFamilies(r io.Reader, visit func(*dto.MetricFamily) error) error {
	return splitFamilies(r, func(family string, block []byte) error {
		return parseBlock(family, block, visit)
	})
}

func viaFilter(body string) (string, error) {
	ft, err := FilterExtension(strings.NewReader(body))
	if err != nil {
		return "", err
	}
	b, err := ft.bytes()
	return string(b), err
}

// viaExpfmt is the same output computed with expfmt for every family.
func viaExpfmt(body string) (string, error) {
	var ft Exposition
	if err := extractFamilies(strings.NewReader(body), ft.add); err != nil {
		return "", err
	}
	b, err := ft.bytes()
	return string(b), err
}

func TestFilterOutput(t *testing.T) {
	// Scenario 27 of the reference: two extension counter families, one with two series in
	// reverse order, plus an ordinary family, which is dropped.
	body := `# TYPE envoy_appmesh_NewConnectionCount counter
envoy_appmesh_NewConnectionCount{Mesh="m",VirtualNode="vn"} 3
# TYPE envoy_appmesh_GrpcRequestCount counter
envoy_appmesh_GrpcRequestCount{Mesh="b",VirtualNode="vn"} 0
envoy_appmesh_GrpcRequestCount{VirtualNode="vn",Mesh="a"} 0
# TYPE envoy_cluster_x counter
envoy_cluster_x{} 7
`
	want := `
# TYPE GrpcRequestCount counter
GrpcRequestCount{Mesh="a",VirtualNode="vn"} 0
GrpcRequestCount{Mesh="b",VirtualNode="vn"} 0

# TYPE NewConnectionCount counter
NewConnectionCount{Mesh="m",VirtualNode="vn"} 3
`
	for name, f := range map[string]func(string) (string, error){"fast": viaFilter, "expfmt": viaExpfmt} {
		got, err := f(body)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v\nwant %q", name, got, err, want)
		}
	}
}

func TestFilterKinds(t *testing.T) {
	body := `# TYPE envoy_appmesh_Latency histogram
envoy_appmesh_Latency_bucket{Mesh="m",le="0.5"} 1
envoy_appmesh_Latency_bucket{Mesh="m",le="1000000"} 2
envoy_appmesh_Latency_bucket{Mesh="m",le="+Inf"} 3
envoy_appmesh_Latency_sum{Mesh="m"} 7.25
envoy_appmesh_Latency_count{Mesh="m"} 3
envoy_appmesh_Latency_bucket{le="1"} 0
envoy_appmesh_Latency_count{} 0
# TYPE envoy_appmesh_Active gauge
envoy_appmesh_Active{} 1234567
envoy_appmesh_Active{x="a\"b\\c\nd"} -0
envoy_appmesh_Plain 5
# HELP envoy_appmesh_Help Some help.
# TYPE envoy_appmesh_Help untyped
envoy_appmesh_Help 1e3
`
	want := `
# TYPE Active gauge
Active 1.234567e+06
Active{x="a\"b\\c\nd"} 0

# HELP Help Some help.
# TYPE Help untyped
Help 1000

# TYPE Latency histogram
Latency_bucket{le="1"} 0
Latency_bucket{le="+Inf"} 0
Latency_sum 0
Latency_count 0
Latency_bucket{Mesh="m",le="0.5"} 1
Latency_bucket{Mesh="m",le="1e+06"} 2
Latency_bucket{Mesh="m",le="+Inf"} 3
Latency_sum{Mesh="m"} 7.25
Latency_count{Mesh="m"} 3

# TYPE Plain untyped
Plain 5
`
	for name, f := range map[string]func(string) (string, error){"fast": viaFilter, "expfmt": viaExpfmt} {
		got, err := f(body)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v\nwant %q", name, got, err, want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for name, body := range map[string]string{
		"garbage":           "\x00garbage{{ not json, says envoy-standin ]]\n",
		"json":              `{"stats":[{"name":"x","value":1}]}`,
		"html":              "<html><body>no</body></html>\n",
		"bad value skipped": "# TYPE envoy_cluster_x counter\nenvoy_cluster_x{a=\"b\"} twelve\n",
		"bad value kept":    "# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{a=\"b\"} twelve\n",
		"duplicate series":  "# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{a=\"b\"} 1\nenvoy_appmesh_X{a=\"b\"} 2\n",
		"family twice":      "# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X 1\n# TYPE envoy_y counter\nenvoy_y 1\n# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{a=\"c\"} 1\n",
		"collision":         "# TYPE envoy_appmesh_H histogram\nenvoy_appmesh_H_count 1\n# TYPE envoy_appmesh_H_count counter\nenvoy_appmesh_H_count{a=\"x\"} 1\n",
		"bad escape":        "# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{a=\"\\q\"} 1\n",
		"second TYPE":       "# TYPE envoy_appmesh_X counter\n# TYPE envoy_appmesh_X gauge\nenvoy_appmesh_X 1\n",
		"trailing blank":    "# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X 1 \n",
		"bare prefix":       "envoy_appmesh_ 1\n",
	} {
		fast, ferr := viaFilter(body)
		slow, serr := viaExpfmt(body)
		if ferr == nil || serr == nil {
			t.Errorf("%s: want errors, got fast %q, %v; expfmt %q, %v", name, fast, ferr, slow, serr)
			continue
		}
		if ferr.Error() != serr.Error() {
			t.Errorf("%s: errors differ:\nfast   %v\nexpfmt %v", name, ferr, serr)
		}
	}
}

func TestFilterEmptyAndUnrelated(t *testing.T) {
	for _, body := range []string{"", "\n\n", "# TYPE envoy_x counter\nenvoy_x{} 1\nenvoy_y 2 1700000000\n", "# TYPE envoy_appmesh_X counter\n"} {
		got, err := viaFilter(body)
		if err != nil || got != "" {
			t.Errorf("%q: got %q, %v; want empty", body, got, err)
		}
	}
}

func TestFilterLimits(t *testing.T) {
	long := "envoy_x{a=\"" + strings.Repeat("x", maxLineLength) + "\"} 1\n"
	if _, err := viaFilter(long); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("long line: %v", err)
	}
	// A body over the limit is an error, never a truncated result.
	big := io64MiBPlus()
	_, err := FilterExtension(big)
	var re *ReadError
	if !errors.As(err, &re) || !errors.Is(err, errBodyTooLarge) {
		t.Errorf("oversized body: %v", err)
	}
	// A read error in the middle is reported as such.
	_, err = FilterExtension(iotest.TimeoutReader(strings.NewReader(strings.Repeat("envoy_x 1\n", 10000))))
	if !errors.As(err, &re) {
		t.Errorf("read error: %v", err)
	}
}

// io64MiBPlus streams just over maxFilteredBody of valid, unrelated samples.
func io64MiBPlus() io.Reader {
	return testenv.RepeatReader([]byte("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"c\"} 1\n"), maxFilteredBody+100)
}

func TestExtractFamiliesForSnapshots(t *testing.T) {
	var got []*dto.MetricFamily
	err := extractFamilies(strings.NewReader("# TYPE envoy_appmesh_B counter\nenvoy_appmesh_B{z=\"1\",a=\"2\"} 1\n# TYPE envoy_appmesh_A gauge\nenvoy_appmesh_A 2\n"),
		func(mf *dto.MetricFamily) error { got = append(got, mf); return nil })
	if err != nil || len(got) != 2 || got[0].GetName() != "B" || got[1].GetName() != "A" {
		t.Fatalf("got %v, %v", got, err)
	}
	if l := got[0].Metric[0].Label; l[0].GetName() != "a" || l[1].GetName() != "z" {
		t.Errorf("labels not sorted by name: %v", l)
	}
}

// seedBodies are inputs for the differential checks: the fast path must give exactly what
// expfmt gives, or leave the family to expfmt.
var seedBodies = []string{
	"# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{a=\"1\"} 1\n",
	"envoy_appmesh_X{a=\"1\",} 1\nenvoy_appmesh_X{ a = \"2\" , b=\"\" } 2\n",
	"envoy_appmesh_X {a=\"1\"}3\n\tenvoy_appmesh_X{a=\"0\"}\t4\n",
	"# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{__name__=\"x\"} 1\n",
	"# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{a=\"1\",a=\"2\"} 1\n",
	"# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X 1 1700000000000\n",
	"# TYPE envoy_appmesh_X summary\nenvoy_appmesh_X{quantile=\"0.5\"} 1\nenvoy_appmesh_X_sum 2\nenvoy_appmesh_X_count 3\n",
	"# TYPE envoy_appmesh_H histogram\nenvoy_appmesh_H_bucket{le=\"NaN\"} 1\nenvoy_appmesh_H_count 1\n",
	"# TYPE envoy_appmesh_H histogram\nenvoy_appmesh_H_bucket{le=\"1\"} 1.5\nenvoy_appmesh_H_bucket{le=\"1\"} -1\n",
	"# TYPE envoy_appmesh_H histogram\nenvoy_appmesh_H_bucket 1\nenvoy_appmesh_H 2\nenvoy_appmesh_H_sum{le=\"1\"} 3\n",
	"# TYPE envoy_appmesh_H HISTOGRAM\nenvoy_appmesh_H_bucket{a=\"x\",le=\"2\"} 4\nenvoy_appmesh_H_bucket{a=\"x\",le=\"1\"} 3\nenvoy_appmesh_H_sum{a=\"x\"} NaN\n",
	"# TYPE envoy_appmesh_X gauge\nenvoy_appmesh_X{a=\"\\\\\"} +Inf\nenvoy_appmesh_X{a=\"\\n\"} -Inf\nenvoy_appmesh_X{a=\"é\"} nan\n",
	"# TYPE envoy_appmesh_X gauge\nenvoy_appmesh_X 0x1p3\nenvoy_appmesh_Y 1_000\n",
	"# TYPE envoy_appmesh_X counter \nenvoy_appmesh_X 1\n",
	"#TYPE envoy_appmesh_X gauge\n# other comment\nenvoy_appmesh_X 12345678901234567890\n",
	"{\"envoy_appmesh_X\",a=\"1\"} 1\n",
	"envoy_appmesh_X{a=\"1\"} 1\nenvoy_appmesh_X_count 2\n",
	"envoy_appmesh_1x 1\n",
	"envoy_appmesh_X{a=\"\x00\"} 1\nenvoy_appmesh_X{a=\"\xff\"} 1\n",
	"envoy_appmesh_X{a=\"1\"} 1\r\n",
}

func checkSame(t *testing.T, body string) {
	t.Helper()
	fast, ferr := viaFilter(body)
	slow, serr := viaExpfmt(body)
	if (ferr == nil) != (serr == nil) || (ferr != nil && ferr.Error() != serr.Error()) || fast != slow {
		t.Fatalf("fast path differs from expfmt for %q:\nfast   %q, %v\nexpfmt %q, %v", body, fast, ferr, slow, serr)
	}
}

func TestFastPathMatchesExpfmtSeeds(t *testing.T) {
	for _, body := range seedBodies {
		checkSame(t, body)
	}
	checkSame(t, string(testenv.PromBody(3000, 0.7)))
}

// TestFastPathMatchesExpfmtRandom mutates generated bodies (swapped, dropped, doubled and
// altered characters) and checks the two routes agree on every result.
func TestFastPathMatchesExpfmtRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}\",=\\ \t\n_:#aZ09.+-eEle\x00é")
	base := string(testenv.PromBody(60, 0.8)) + seedBodies[10] + seedBodies[11]
	for i := 0; i < 3000; i++ {
		b := []byte(base)
		for n := r.IntN(4); n >= 0; n-- {
			p := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[p] = alphabet[r.IntN(len(alphabet))]
			case 1:
				b = append(b[:p], b[p+1:]...)
			default:
				b = append(b[:p], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[p:]...)...)
			}
		}
		checkSame(t, string(b))
	}
}

func FuzzFastPathMatchesExpfmt(f *testing.F) {
	for _, s := range seedBodies {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkSame(t, body)
	})
}

func TestAppendFloatMatchesExposition(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 5, 999999, 1e6, -999999, 0.5, 1234567, 1e21, 12.75} {
		got := string(appendFloat(nil, v))
		m := &dto.MetricFamily{Name: strPtr("x"), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: &v}}}}
		var b bytes.Buffer
		var ft Exposition
		_ = ft.add(m)
		b.Write(ft.parts[0].data)
		if want := fmt.Sprintf("\n# TYPE x gauge\nx %s\n", got); b.String() != want {
			t.Errorf("%v: fast %q, exposition %q", v, got, b.String())
		}
	}
}
