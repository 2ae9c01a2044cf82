package envoyadmin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPrometheusStatsQueryAndStream(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = io.WriteString(w, "envoy_x 1\n")
	})
	for _, tc := range []struct {
		appmesh, used bool
		query         string
	}{{false, false, "format=prometheus"}, {false, true, "format=prometheus&usedonly"},
		{true, false, "format=prometheus&filter=appmesh"}, {true, true, "format=prometheus&filter=appmesh&usedonly"}} {
		s, err := c.PrometheusStats(context.Background(), tc.appmesh, tc.used)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(s)
		s.Close()
		if err != nil || string(b) != "envoy_x 1\n" || s.ContentType != "text/plain; charset=UTF-8" {
			t.Errorf("body %q, %v, type %q", b, err, s.ContentType)
		}
		reqs := f.requests()
		if r := reqs[len(reqs)-1]; r.URL.Path != "/stats" || r.URL.RawQuery != tc.query || r.Header.Get("User-Agent") != UserAgent {
			t.Errorf("got %s?%s", r.URL.Path, r.URL.RawQuery)
		}
	}
}

func TestPrometheusStatsRetriesThenGivesUp(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	s, err := c.PrometheusStats(context.Background(), false, false)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d attempts", n)
	}
	_, c2 := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})
	c2 = c2.With(time.Second, 2)
	_, err = c2.PrometheusStats(context.Background(), false, false)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 502 || !strings.Contains(err.Error(), "giving up after 2 attempts") || !Answered(err) {
		t.Errorf("got %v", err)
	}
}

// TestStreamTimeoutCoversTheBody: a body that stalls ends the stream with a timeout.
func TestStreamStallEndsTheStream(t *testing.T) {
	release := make(chan struct{})
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		_, _ = io.WriteString(w, "envoy_x 1\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c.Timeout = 100 * time.Millisecond
	s, err := c.PrometheusStats(context.Background(), false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = io.ReadAll(s)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Envoy sent nothing for 100ms") || time.Since(start) > 5*time.Second {
		t.Errorf("got %v after %v", err, time.Since(start))
	}
}

// Issue 7, defect 2: the timeout bounds the waits for Envoy, not the reader's speed. A reader
// that pauses far longer than the timeout between reads still gets the whole body.
func TestSlowReaderIsNotCut(t *testing.T) {
	chunk := strings.Repeat("envoy_x 1\n", 10000) // 100 kB
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		for range 5 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	c.Timeout = 50 * time.Millisecond
	s, err := c.PrometheusStats(context.Background(), false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 64<<10)
	total := 0
	for {
		n, err := s.Read(buf)
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", total, err)
		}
		time.Sleep(60 * time.Millisecond) // longer than the timeout, every time
	}
	if total != 5*len(chunk) {
		t.Fatalf("read %d bytes, want %d", total, 5*len(chunk))
	}
}

// The header wait is bounded too: an Envoy that accepts and never answers.
func TestStreamHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c = c.With(80*time.Millisecond, 2)
	start := time.Now()
	_, err := c.PrometheusStats(context.Background(), false, false)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no response headers within 80ms") || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

// Issue 7, defect 8: every answer read whole is capped; a one-line reply at 64 KiB.
func TestRepliesAreCapped(t *testing.T) {
	endless := func(w http.ResponseWriter, r *http.Request, n int) {
		b := []byte(strings.Repeat("x", 32<<10))
		for {
			if _, err := w.Write(b); err != nil {
				return
			}
		}
	}
	_, c := newFake(t, endless)
	c = c.With(2*time.Second, 1)
	for name, call := range map[string]func() error{
		"drain":   func() error { _, err := c.Drain(context.Background(), true, true); return err },
		"logging": func() error { return c.SetLogLevel(context.Background(), "debug") },
		"ready":   func() error { _, err := c.Ready(context.Background()); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "body larger than 65536 bytes") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Stats(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "body larger than 1048576 bytes") {
		t.Errorf("stats: %v", err)
	}
}

func TestWithSharesConnectionsAndKeepsSettings(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { _, _ = io.WriteString(w, "LIVE\n") })
	c.MaxBody = 3
	d := c.With(time.Second, 1)
	if d.Timeout != time.Second || d.Attempts != 1 || d.MaxBody != 3 || d.transport != c.transport || c.Timeout != DefaultTimeout {
		t.Errorf("With: %+v (original %+v)", d, c)
	}
	// MaxBody bounds what a call reads.
	if _, err := d.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than 3 bytes") {
		t.Errorf("MaxBody: %v", err)
	}
}

func TestAnswered(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		_, _ = io.WriteString(w, "<html>not stats</html>")
	})
	_, err := c.Stats(context.Background(), "")
	if !Answered(err) || !errors.Is(err, ErrUnexpectedBody) {
		t.Errorf("garbage stats: %v", err)
	}
	_, err = c.Ready(context.Background())
	if !Answered(err) {
		t.Errorf("garbage ready: %v", err)
	}
	if Answered(errors.New("dial tcp: connection refused")) || Answered(context.DeadlineExceeded) {
		t.Error("transport errors count as answers")
	}
}

func TestDrainReturnsBody(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { _, _ = io.WriteString(w, "OK\n") })
	b, err := c.Drain(context.Background(), true, true)
	if err != nil || string(b) != "OK\n" {
		t.Errorf("%q %v", b, err)
	}
}

// Issue 16, item 11: LimitWait bounds the Reads' waits for Envoy in all, so an Envoy that
// drips (each byte well within the per-read timeout) still ends the stream; the reader's own
// time between Reads does not count.
func TestStreamLimitWait(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Query().Has("filter") { // the dripping answer
			for r.Context().Err() == nil {
				_, _ = io.WriteString(w, "x")
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
			return
		}
		_, _ = io.WriteString(w, strings.Repeat("y", 64)) // at once
	})
	c = c.With(time.Second, 1)
	s, err := c.PrometheusStats(context.Background(), true, false)
	if err != nil {
		t.Fatal(err)
	}
	s.LimitWait(300 * time.Millisecond)
	start := time.Now()
	_, err = io.ReadAll(s)
	s.Close()
	if d := time.Since(start); !errors.Is(err, ErrWaitSpent) || !errors.Is(err, context.DeadlineExceeded) || d > 2*time.Second {
		t.Errorf("dripping: %v after %v; want the wait budget spent at about 300ms", err, d)
	}

	s, err = c.PrometheusStats(context.Background(), false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.LimitWait(100 * time.Millisecond)
	buf := make([]byte, 16)
	for {
		time.Sleep(50 * time.Millisecond) // the reader's own time: 200 ms in all
		if _, err := s.Read(buf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("a slow reader of a prompt Envoy: %v", err)
		}
	}
}
