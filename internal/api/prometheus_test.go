package api

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestStatsQueries is scenario 26: validation, and how queries map to Envoy's.
func TestStatsQueries(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.prom = []byte(testenv.ExtensionBody) })
	h := newTestService(t, f.srv, nil).Handler()
	for _, tc := range []struct {
		method, target string
		code           int
		body, envoy    string
	}{
		{"GET", "/stats/prometheus", 200, testenv.ExtensionBody, "GET /stats?format=prometheus"},
		{"GET", "/stats/prometheus?usedonly", 200, testenv.ExtensionBody, "GET /stats?format=prometheus&usedonly"},
		{"GET", "/stats/prometheus?filter=metrics_extension", 200, testenv.ExtensionFiltered, "GET /stats?format=prometheus&filter=appmesh"},
		{"GET", "/stats/prometheus?usedonly&filter=metrics_extension", 200, testenv.ExtensionFiltered, "GET /stats?format=prometheus&filter=appmesh&usedonly"},
		{"GET", "/stats/prometheus?usedonly&filter=metrics_extension&delta", 200, testenv.ExtensionFiltered, "GET /stats?format=prometheus&filter=appmesh&usedonly"},
		{"GET", "/stats/prometheus?bogus", 400, "unsupported query parameter: bogus\n", ""},
		{"GET", "/stats/prometheus?filter=foo", 400, "unsupported query value for parameter filter: foo, usage: /stats/prometheus?filter=metrics_extension\n", ""},
		{"GET", "/stats/prometheus?delta", 400, "when delta is enabled, both usedonly and filter query parameters are required\n", ""},
		{"GET", "/stats/prometheus?usedonly&delta", 400, "when delta is enabled, both usedonly and filter query parameters are required\n", ""},
		{"GET", "/stats/prometheus?%zz", 400, "unable to parse queries in URL: invalid URL escape \"%zz\"\n", ""},
		{"POST", "/stats/prometheus", 400, "invalid method [POST] in request\n", ""},
		{"HEAD", "/stats/prometheus", 400, "", ""},
	} {
		before := len(f.callList())
		code, body, hdr := do(h, tc.method, tc.target, local)
		calls := f.callList()[before:]
		if code != tc.code || (tc.method != "HEAD" && body != tc.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.target, code, body, tc.code, tc.body)
		}
		if code == 200 && !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Errorf("%s: Content-Type %q", tc.target, hdr.Get("Content-Type"))
		}
		got := strings.TrimSuffix(strings.Join(calls, ","), "?")
		if tc.envoy != got && !(tc.envoy == "" && len(calls) == 0) {
			t.Errorf("%s: Envoy got %q, want %q", tc.target, got, tc.envoy)
		}
	}
}

// statsWith is a /stats/prometheus handler whose Envoy calls have a short timeout.
func statsWith(t *testing.T, f *fakeEnvoy, timeout time.Duration) http.Handler {
	return limited(limit{perSecond: 1000, burst: 1000}, newStatsHandler(
		adminFor(t, f.srv).With(timeout, statsAttempts), nil, hclog.NewNullLogger()))
}

// TestStatsFailures: every failure is a clear 500 within the timeout, never an empty or
// partial 200.
func TestStatsFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		script func(f *fakeEnvoy)
		target string
		prefix string
	}{
		"envoy 502":            {func(f *fakeEnvoy) { f.status["/stats"] = 502 }, "/stats/prometheus", "Failed to fetch stats from Envoy: giving up after 2 attempts: envoy admin GET /stats?format=prometheus: status 502"},
		"envoy 502 filtered":   {func(f *fakeEnvoy) { f.status["/stats"] = 502 }, "/stats/prometheus?filter=metrics_extension", "Failed to fetch stats from Envoy:"},
		"slow":                 {func(f *fakeEnvoy) { f.delay["/stats"] = 2 * time.Second }, "/stats/prometheus?usedonly", "Failed to fetch stats from Envoy:"},
		"slow filtered":        {func(f *fakeEnvoy) { f.delay["/stats"] = 2 * time.Second }, "/stats/prometheus?filter=metrics_extension", "Failed to fetch stats from Envoy:"},
		"garbage filtered":     {func(f *fakeEnvoy) { f.garbage = true }, "/stats/prometheus?filter=metrics_extension", "error processing prometheus stats: error parsing prometheus stats: line 1:"},
		"duplicate series":     {func(f *fakeEnvoy) { f.prom = []byte("envoy_appmesh_X{a=\"1\"} 1\nenvoy_appmesh_X{a=\"1\"} 2\n") }, "/stats/prometheus?filter=metrics_extension", "error processing prometheus stats: error parsing prometheus stats: family X: duplicate series"},
		"unreachable":          {func(f *fakeEnvoy) { f.srv.Close() }, "/stats/prometheus", "Failed to fetch stats from Envoy:"},
		"unreachable filtered": {func(f *fakeEnvoy) { f.srv.Close() }, "/stats/prometheus?usedonly&filter=metrics_extension&delta", "Failed to fetch stats from Envoy:"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeEnvoy(t)
			tc.script(f)
			h := statsWith(t, f, 150*time.Millisecond)
			start := time.Now()
			code, body, _ := do(h, "GET", tc.target, local)
			if code != 500 || !strings.HasPrefix(body, tc.prefix) {
				t.Errorf("%d %q, want 500 %q…", code, body, tc.prefix)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("answered after %v", d)
			}
		})
	}
}

// bigEnvoy streams a body of n bytes of valid unrelated samples, with its Content-Length.
func bigEnvoy(t *testing.T, n int) *fakeEnvoy {
	f := newFakeEnvoy(t)
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(n))
		_, _ = io.Copy(w, testenv.RepeatReader([]byte("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"c\"} 1\n"), n))
	})
	return f
}

// TestStatsHundredMegabytes: unfiltered, a 100 MB body streams through whole (H5); filtered,
// it is refused with a clear error instead of being held in memory.
func TestStatsHundredMegabytes(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 100 MB")
	}
	const size = 100 << 20
	f := bigEnvoy(t, size)
	srv := httptest.NewServer(statsWith(t, f, 10*time.Second))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil || n != size || res.StatusCode != 200 || res.ContentLength != size {
		t.Errorf("unfiltered: %d, %d bytes (Content-Length %d), %v", res.StatusCode, n, res.ContentLength, err)
	}
	code, body, _ := do(statsWith(t, f, 10*time.Second), "GET", "/stats/prometheus?filter=metrics_extension", local)
	if code != 500 || !strings.Contains(body, "larger than 64 MiB") {
		t.Errorf("filtered: %d %q", code, body)
	}
}

// TestStatsTruncatedStream: when Envoy's body breaks off after the 200 was sent, the client
// sees a broken reply, not a short body passing for a whole one; when it breaks off before
// anything was sent (issue 7, defect 9), the client gets a 500.
func TestStatsTruncatedStream(t *testing.T) {
	for _, tc := range []struct {
		withLength bool
		sent       int // bytes Envoy sends before it dies
	}{{true, 100 << 10}, {false, 100 << 10}, {true, 1000}, {false, 1000}} {
		f := newFakeEnvoy(t)
		f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.withLength {
				w.Header().Set("Content-Length", "1000000")
			}
			_, _ = io.WriteString(w, strings.Repeat("envoy_x 1\n", tc.sent/10))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // Envoy dies mid-body
		})
		srv := httptest.NewServer(statsWith(t, f, time.Second))
		res, err := http.Get(srv.URL + "/stats/prometheus")
		var body []byte
		if err == nil {
			body, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		switch {
		case tc.sent < prefetchBytes && (err != nil || res.StatusCode != 500 || !strings.HasPrefix(string(body), "Failed to fetch stats from Envoy:")):
			t.Errorf("%+v: want a 500 before anything was sent, got %v %v %.80q", tc, res, err, body)
		case tc.sent >= prefetchBytes && err == nil:
			t.Errorf("%+v: a cut body read as complete", tc)
		}
		srv.Close()
	}
}

// Issue 7, defect 9: Envoy drips its body and stalls before anything was sent: 500.
func TestStatsDrippingThenStalledEnvoyGets500(t *testing.T) {
	f := newFakeEnvoy(t)
	release := make(chan struct{})
	defer close(release)
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			_, _ = io.WriteString(w, "envoy_x 1\n")
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
		select { // then nothing more
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(statsWith(t, f, 200*time.Millisecond))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 500 || !strings.Contains(string(body), "Envoy sent nothing for 200ms") {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
}

// Issue 16, item 11: an Envoy that drips its body without ever stalling long enough for the
// per-read timeout gets the client a 500 once the decision time is up, unfiltered and
// filtered alike (it used to get an empty reply, after the server's write timeout).
func TestStatsDrippingEnvoyGets500InTime(t *testing.T) {
	f := newFakeEnvoy(t)
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; r.Context().Err() == nil; i++ {
			fmt.Fprintf(w, "envoy_x{n=\"%d\"} 1\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	h := newStatsHandler(adminFor(t, f.srv).With(time.Second, statsAttempts), nil, hclog.NewNullLogger())
	h.decision = 500 * time.Millisecond
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, target := range []string{"/stats/prometheus", "/stats/prometheus?filter=metrics_extension"} {
		start := time.Now()
		res, err := http.Get(srv.URL + target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(start)
		if res.StatusCode != 500 || !strings.Contains(string(body), "within 500ms") || d < h.decision || d > h.decision+3*time.Second {
			t.Errorf("%s: %d %q after %v; want a 500 saying why, at about %v", target, res.StatusCode, body, d, h.decision)
		}
	}
}

func TestStatsDelta(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.prom = []byte(testenv.ExtensionBody) })
	svc := newTestService(t, f.srv, func(c *testConfig) { c.snapshot = true })
	h := svc.Handler()
	const q = "/stats/prometheus?usedonly&filter=metrics_extension&delta"
	code, body, hdr := do(h, "GET", q, local)
	if code != 200 || body != testenv.ExtensionFiltered || hdr.Get(statsSourceHeader) != "live" {
		t.Fatalf("before a snapshot: %d %q %q", code, body, hdr.Get(statsSourceHeader))
	}
	if err := svc.snaps.Take(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeEnvoy) { f.prom = []byte(strings.ReplaceAll(testenv.ExtensionBody, "110", "130")) })
	if err := svc.snaps.Take(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := f.count("GET /stats")
	for i := 0; i < 2; i++ {
		code, body, hdr = do(h, "GET", q, local)
		if code != 200 || body != "\n# TYPE RequestCount counter\nRequestCount{Mesh=\"a\"} 0\nRequestCount{Mesh=\"b\"} 20\n" || hdr.Get(statsSourceHeader) != "delta" {
			t.Fatalf("delta: %d %q %q", code, body, hdr.Get(statsSourceHeader))
		}
	}
	if f.count("GET /stats") != n {
		t.Error("a delta request called Envoy")
	}
	// Without delta, the same query is live.
	if _, body, _ := do(h, "GET", "/stats/prometheus?usedonly&filter=metrics_extension", local); !strings.Contains(body, "130") {
		t.Errorf("live: %q", body)
	}
}

// slowScrape is a raw client that asks for path and reads its answer slowly, through a small
// receive buffer, until told to read the rest at full speed.
type slowScrape struct {
	conn    net.Conn
	started time.Time
	hurry   chan struct{}
	done    chan struct{}
	status  string
	n       int64
	ended   time.Duration // from start to the end of the body or the connection
}

func startSlowScrape(t *testing.T, addr, path string) *slowScrape {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).SetReadBuffer(256 << 10) // over loopback's MSS, or window updates stall
	s := &slowScrape{conn: c, started: time.Now(), hurry: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { c.Close(); <-s.done })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n", path)
	go func() {
		defer close(s.done)
		br := bufio.NewReaderSize(c, 512)
		s.status, _ = br.ReadString('\n')
		buf := make([]byte, 256)
		for {
			select {
			case <-s.hurry:
				m, _ := io.Copy(io.Discard, br)
				s.n += m
				s.ended = time.Since(s.started)
				return
			case <-time.After(20 * time.Millisecond):
			}
			m, err := br.Read(buf)
			s.n += int64(m)
			if err != nil {
				s.ended = time.Since(s.started)
				return
			}
		}
	}()
	return s
}

// Issue 16, item 7, in process: four slow scrapers hold every slot; a fresh scrape is
// refused while they are young, then takes the slot of the oldest, which is cut; the others
// are cut at the scrape limit.
func TestSlowScrapersAreCut(t *testing.T) {
	const size = 16 << 20
	f := bigEnvoy(t, size)
	stats := newStatsHandler(adminFor(t, f.srv).With(10*time.Second, statsAttempts), nil, hclog.NewNullLogger())
	g := newScrapeGate(stats, func(*http.Request) bool { return true }, limit{perSecond: 1000, burst: 1000}, hclog.NewNullLogger())
	g.crawl, g.limit = time.Second, 4*time.Second
	srv := httptest.NewServer(g)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var slow []*slowScrape
	for range maxScrapes {
		slow = append(slow, startSlowScrape(t, addr, "/stats/prometheus"))
	}
	running := func() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.running) }
	waitFor(t, 10*time.Second, "four scrapes running", func() bool { return running() == maxScrapes })
	get := func() (int, int64) {
		res, err := http.Get(srv.URL + "/stats/prometheus")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		n, _ := io.Copy(io.Discard, res.Body)
		return res.StatusCode, n
	}
	if code, _ := get(); code != http.StatusTooManyRequests {
		t.Fatalf("a fresh scrape beside four young ones: %d, want 429", code)
	}
	time.Sleep(time.Until(slow[0].started.Add(g.crawl + 100*time.Millisecond)))
	fresh := time.Now()
	if code, n := get(); code != 200 || n != size {
		t.Fatalf("a fresh scrape beside four crawling ones: %d, %d bytes; want 200 and the whole body", code, n)
	}
	t.Logf("fresh scrape served in %v", time.Since(fresh).Round(time.Millisecond))
	for _, s := range slow {
		close(s.hurry)
	}
	cut := 0
	for i, s := range slow {
		<-s.done
		t.Logf("slow %d: %d bytes, ended after %v", i, s.n, s.ended)
		if !strings.Contains(s.status, "200") {
			t.Errorf("slow scrape: status %q", s.status)
		}
		if s.n < size {
			cut++
		}
	}
	if cut == 0 {
		t.Errorf("no slow scrape was cut for the fresh one")
	}
	// A lone slow scrape is cut at the scrape limit: its slot is free again then (what the
	// kernel had queued for it still trickles to the client).
	t.Logf("at %v: the lone slow scrape", time.Since(fresh))
	late := startSlowScrape(t, addr, "/stats/prometheus")
	waitFor(t, 10*time.Second, "the slow scrape running", func() bool { return running() == 1 })
	waitFor(t, g.limit+10*time.Second, "the slow scrape cut", func() bool { return running() == 0 })
	if d := time.Since(late.started); d < g.limit-100*time.Millisecond {
		t.Errorf("a lone slow scrape was cut after %v, before its limit of %v", d, g.limit)
	}
	close(late.hurry)
	<-late.done
	if late.n >= size {
		t.Errorf("the cut scrape got the whole body")
	}
}
