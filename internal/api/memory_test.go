package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/promtext"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 7, defect 3: a filtered scrape holds at most 3× Envoy's body at its peak (it used to
// take 12×); delta snapshots hold less than 2.5× between scrapes (they held more than 20×).
func TestFilteredAndDeltaMemoryIsBounded(t *testing.T) {
	body := testenv.PromBody(200_000, 1) // all metrics-extension families: the worst case
	envoy := fakeEnvoyBody(t, body)
	admin := adminFor(t, envoy).With(10*time.Second, 1)

	runtime.GC()
	base := heapNow()
	stop := heapPeak()
	h := newStatsHandler(admin, nil, nil)
	req := httptest.NewRequest(http.MethodGet, "/stats/prometheus?usedonly&filter=metrics_extension", nil)
	rec := &countingWriter{header: http.Header{}}
	h.ServeHTTP(rec, req)
	peak := stop()
	if rec.code != 200 {
		t.Fatalf("status %d", rec.code)
	}
	ratio := float64(peak-base) / float64(len(body))
	t.Logf("filtered scrape of %d MiB: peak heap %.2f× the body", len(body)>>20, ratio)
	if ratio > 3 {
		t.Errorf("peak heap %.2f× the body, want ≤ 3×", ratio)
	}

	fetch := func(ctx context.Context) (*promtext.Exposition, error) {
		return fetchFiltered(ctx, admin, true, statsDecision)
	}
	s := NewSnapshotter(fetch, time.Hour, nil, nil)
	runtime.GC()
	base = heapNow()
	stop = heapPeak()
	for range 3 { // the first is cumulative, the next two are real deltas
		if err := s.Take(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	peak = stop()
	runtime.GC()
	held := heapNow() - base
	runtime.KeepAlive(s)
	t.Logf("three snapshots: peak %.2f×, held afterwards %.2f× the body", float64(peak-base)/float64(len(body)), float64(held)/float64(len(body)))
	if float64(held) > 2.5*float64(len(body)) {
		t.Errorf("snapshots hold %.2f× the body between scrapes, want ≤ 2.5× (the last snapshot and its delta)", float64(held)/float64(len(body)))
	}
	// Live at its peak: the previous delta, the new snapshot, and the new delta growing as the
	// previous snapshot is consumed (about 3.6×), plus garbage the GC has not reached yet. A
	// snapshot is not a request: it runs once a minute, in the background.
	if float64(peak-base) > 5*float64(len(body)) {
		t.Errorf("a snapshot peaks at %.2f× the body", float64(peak-base)/float64(len(body)))
	}
}

// Issue 7, defect 2: the Envoy timeout bounds the waits for Envoy, not the client: a scraper
// reading a large unfiltered body slowly, for far longer than the timeout, gets all of it.
func TestSlowScraperGetsTheWholeBody(t *testing.T) {
	body := testenv.PromBody(100_000, 0.1) // about 6 MiB
	envoy := fakeEnvoyBody(t, body)
	srv := httptest.NewServer(newStatsHandler(adminFor(t, envoy).With(200*time.Millisecond, 1), nil, nil))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	start := time.Now()
	buf := make([]byte, 256<<10)
	n := 0
	for {
		m, err := res.Body.Read(buf)
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes and %v: %v", n, time.Since(start), err)
		}
		time.Sleep(40 * time.Millisecond) // about 6 MiB/s: the whole read takes ~1 s, 5× the timeout
	}
	if n != len(body) || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("read %d of %d bytes in %v", n, len(body), time.Since(start))
	}
}
