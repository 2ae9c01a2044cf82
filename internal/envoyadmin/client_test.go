package envoyadmin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fake is an admin server that records requests and answers from a handler.
type fake struct {
	mu   sync.Mutex
	reqs []*http.Request
	srv  *httptest.Server
}

func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) (*fake, *Client) {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		n := len(f.reqs)
		f.mu.Unlock()
		h(w, r, n)
	}))
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	c := New(Target{Network: "tcp", Address: "127.0.0.1:" + port})
	c.BackoffMin, c.BackoffMax = time.Millisecond, 4*time.Millisecond
	t.Cleanup(func() { c.Close(); f.srv.Close() })
	return f, c
}

func (f *fake) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

func TestTargets(t *testing.T) {
	if got := TCP(9901); got != (Target{"tcp", "127.0.0.1:9901"}) {
		t.Errorf("TCP(9901) = %+v", got)
	}
	if got := UDS("/tmp/x.sock").String(); got != "unix:/tmp/x.sock" {
		t.Errorf("UDS string = %q", got)
	}
}

func TestDrainListenersQueryAndHeaders(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { _, _ = w.Write([]byte("OK\n")) })
	ctx := context.Background()
	for _, tc := range []struct {
		graceful, inbound bool
		want              string
	}{{true, false, "graceful"}, {false, true, "inboundonly"}, {true, true, "graceful&inboundonly"}, {false, false, ""}} {
		if err := c.DrainListeners(ctx, tc.graceful, tc.inbound); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		r := reqs[len(reqs)-1]
		if r.Method != http.MethodPost || r.URL.Path != "/drain_listeners" || r.URL.RawQuery != tc.want {
			t.Errorf("got %s %s?%s, want POST /drain_listeners?%s", r.Method, r.URL.Path, r.URL.RawQuery, tc.want)
		}
		if ua := r.Header.Get("User-Agent"); ua != UserAgent {
			t.Errorf("User-Agent = %q", ua)
		}
	}
}

func TestSetLogLevelEscapes(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	if err := c.SetLogLevel(context.Background(), "debug&x=1 y"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLogLevel(context.Background(), "warn"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if got := reqs[0].URL.Query()["level"]; len(got) != 1 || got[0] != "debug&x=1 y" {
		t.Errorf("level = %q (raw %q)", got, reqs[0].URL.RawQuery)
	}
	if got := reqs[1].URL.Query().Get("level"); got != "warning" {
		t.Errorf("warn sent as %q", got)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusServiceUnavailable) })
	err := c.DrainListeners(context.Background(), true, false)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 {
		t.Fatalf("err = %v, want a 503 StatusError", err)
	}
	if n := len(f.requests()); n != DefaultAttempts {
		t.Errorf("%d attempts, want %d", n, DefaultAttempts)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(`{"stats":[{"name":"a.b","value":7},{"name":"t","value":"text"},{"histograms":{}}]}`))
	})
	stats, err := c.Stats(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || stats["a.b"] != 7 {
		t.Errorf("stats = %v", stats)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, "usage: /logging?level=...", http.StatusNotFound)
	})
	err := c.SetLogLevel(context.Background(), "loud")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestPerAttemptTimeoutAndContext(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c.Timeout = 50 * time.Millisecond
	start := time.Now()
	_, err := c.Stats(context.Background(), "")
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	if calls.Load() != int32(DefaultAttempts) {
		t.Errorf("%d attempts, want %d", calls.Load(), DefaultAttempts)
	}
	// The caller's context bounds the whole call.
	c.Timeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c.Stats(ctx, ""); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestReady(t *testing.T) {
	body, code := "LIVE\n", 200
	var mu sync.Mutex
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	})
	set := func(b string, c int) { mu.Lock(); body, code = b, c; mu.Unlock() }
	ctx := context.Background()
	if s, err := c.Ready(ctx); s != "LIVE" || err != nil {
		t.Errorf("Ready = %q, %v", s, err)
	}
	set("INITIALIZING\n", 503)
	if s, err := c.Ready(ctx); s != "INITIALIZING" || err != nil {
		t.Errorf("Ready = %q, %v", s, err)
	}
	set("<html>oops</html>", 200)
	if _, err := c.Ready(ctx); err == nil {
		t.Error("garbage body accepted")
	}
	n := len(f.requests())
	set("", 500)
	if _, err := c.Ready(ctx); err == nil {
		t.Error("500 accepted")
	}
	if len(f.requests()) != n+1 {
		t.Error("Ready was retried")
	}
}

func TestDownstreamConnections(t *testing.T) {
	var body atomic.Value
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { _, _ = w.Write([]byte(body.Load().(string))) })
	for _, tc := range []struct {
		body string
		want int
		err  bool
	}{
		{`{"stats":[{"name":"server.total_connections","value":3}]}`, 3, false},
		// The admin listener and per-worker copies are not counted; the live listener sum wins
		// over a stale total.
		{`{"stats":[{"name":"server.total_connections","value":0},
		  {"name":"listener.admin.downstream_cx_active","value":1},
		  {"name":"listener.0.0.0.0_15000.downstream_cx_active","value":2},
		  {"name":"listener.0.0.0.0_15000.worker_0.downstream_cx_active","value":2},
		  {"name":"listener.egress.downstream_cx_active","value":1}]}`, 3, false},
		{`{"stats":[{"name":"listener.admin.downstream_cx_active","value":1}]}`, 0, true},
		{`not json`, 0, true},
	} {
		body.Store(tc.body)
		n, err := c.DownstreamConnections(context.Background())
		if (err != nil) != tc.err || n != tc.want {
			t.Errorf("%s: got %d, %v; want %d (error %v)", tc.body, n, err, tc.want, tc.err)
		}
	}
	r := f.requests()[0]
	if r.URL.Query().Get("format") != "json" || r.URL.Query().Get("filter") != connectionsFilter {
		t.Errorf("query = %q", r.URL.RawQuery)
	}
}

func TestUnixSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("unix sockets unavailable: %v", err)
	}
	var host atomic.Value
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host)
		_, _ = w.Write([]byte("LIVE\n"))
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	c := New(UDS(path))
	defer func() { c.Close(); _ = srv.Close(); <-done }()
	if s, err := c.Ready(context.Background()); err != nil || s != "LIVE" {
		t.Fatalf("Ready = %q, %v", s, err)
	}
	if h := host.Load(); h != "127.0.0.1" {
		t.Errorf("Host = %v", h)
	}
}

func TestUnreachable(t *testing.T) {
	c := New(UDS(filepath.Join(t.TempDir(), "missing.sock")))
	c.BackoffMin = time.Millisecond
	defer c.Close()
	err := c.DrainListeners(context.Background(), true, false)
	if err == nil || !strings.Contains(err.Error(), "giving up after 4 attempts") {
		t.Fatalf("err = %v", err)
	}
}
