package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/testenv"
	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
)

// fakeEnvoyBody serves body for every /stats request.
func fakeEnvoyBody(tb testing.TB, body []byte) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ready":
			_, _ = io.WriteString(w, "LIVE\n")
		case "/stats":
			if r.URL.Query().Get("format") == "json" {
				_, _ = io.WriteString(w, `{"stats":[{"name":"control_plane.connected_state","value":1}]}`)
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			_, _ = w.Write(body)
		default:
			_, _ = io.WriteString(w, "OK\n")
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// heapPeak samples the heap's object bytes every millisecond until stopped and returns the
// highest value seen. Reading runtime/metrics does not stop the world.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func heapNow() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// benchmarkFilter measures GET /stats/prometheus?usedonly&filter=metrics_extension through
// the stats handler, Envoy being a loopback server returning body. Reported: time per
// scrape, allocations, and the peak heap growth during a scrape relative to the body size
// (targets: ≤ 150 ms, ≤ 3× the body).
func benchmarkFilter(b *testing.B, share float64) {
	body := testenv.PromBody(100_000, share)
	envoy := fakeEnvoyBody(b, body)
	// The stats handler itself, beneath the endpoint's rate limit (10 per second): the loop
	// scrapes faster than that, and the limit is not what is measured.
	h := newStatsHandler(adminFor(b, envoy), nil, hclog.NewNullLogger())
	req := httptest.NewRequest(http.MethodGet, "/stats/prometheus?usedonly&filter=metrics_extension", nil)
	req.RemoteAddr = "127.0.0.1:1"
	var peakRatio float64
	var outLen int
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		base := heapNow()
		stop := heapPeak()
		b.StartTimer()
		rec := &countingWriter{header: http.Header{}}
		h.ServeHTTP(rec, req)
		b.StopTimer()
		peak := stop()
		if rec.code != http.StatusOK {
			b.Fatalf("status %d", rec.code)
		}
		outLen = rec.n
		if peak > base {
			peakRatio = max(peakRatio, float64(peak-base)/float64(len(body)))
		}
		b.StartTimer()
	}
	b.ReportMetric(peakRatio, "peak-heap/body")
	b.ReportMetric(float64(len(body))/(1<<20), "body-MiB")
	b.ReportMetric(float64(outLen)/(1<<20), "out-MiB")
}

// countingWriter is a ResponseWriter that keeps nothing, as a socket would not: the
// measurement is the agent's memory, not a recorder's copy of the output.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (c *countingWriter) Header() http.Header { return c.header }
func (c *countingWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}
func (c *countingWriter) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	c.n += len(p)
	return len(p), nil
}

// BenchmarkFilterMetricsExtension100k: a 100,000-series body, all of it metrics-extension
// families (Envoy's own filter=appmesh has already removed the rest, as with a real Envoy).
func BenchmarkFilterMetricsExtension100k(b *testing.B) { benchmarkFilter(b, 1) }

// BenchmarkFilterMetricsExtension100kMixed: a 100,000-series body of which a tenth is
// metrics-extension families (an Envoy that ignores filter=, like envoy-standin's file).
func BenchmarkFilterMetricsExtension100kMixed(b *testing.B) { benchmarkFilter(b, 0.1) }

// BenchmarkStatus500rps sends GET /status over loopback TCP at 500 requests per second for
// the benchmark time, to a running management server whose health poller polls a live
// Envoy, and reports the latency percentiles and the number of answers other than 200
// (target: all 200, p99 ≤ 2 ms).
func BenchmarkStatus500rps(b *testing.B) {
	envoy := fakeEnvoyBody(b, []byte("# TYPE envoy_appmesh_X counter\nenvoy_appmesh_X{} 1\n"))
	svc := newTestService(b, envoy, func(c *testConfig) { c.adminMode = "tcp" })
	svc.Health().Poll()
	url := "http://" + svc.Addr().String() + PathStatus
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	var lat []time.Duration
	non200 := 0
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for b.Loop() {
		<-tick.C
		start := time.Now()
		res, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(start))
		if res.StatusCode != http.StatusOK {
			non200++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(non200), "non-200")
}
