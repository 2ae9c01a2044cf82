package envoyadmin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Stream is the body of an accepted (by default 200) answer, read as it arrives. The client's
// per-attempt Timeout bounds the wait for Envoy: until the response headers, and then each
// Read while it waits for Envoy's next bytes. Time the caller spends between Reads (writing
// to a slow client) is not counted, so a large body is never cut because its reader is slow,
// while an Envoy that stalls ends the stream with an error. LimitWait also bounds the waits in
// all, for an Envoy that drips. Close it in every case.
type Stream struct {
	// StatusCode is Envoy's status (200 unless the call accepts others).
	StatusCode int
	// ContentLength is Envoy's Content-Length, or -1 when it streams without one.
	ContentLength int64
	// ContentType is Envoy's Content-Type header.
	ContentType string

	path       string
	body       io.ReadCloser
	cancel     context.CancelFunc
	idle       time.Duration // 0: no stall bound
	budget     time.Duration // what the Reads may still wait in all; 0: no bound (LimitWait)
	timer      *time.Timer   // cancels the request when a Read waits too long
	stalled    atomic.Bool
	overBudget atomic.Bool // the timer was set by the budget, not by idle
}

// ErrWaitSpent marks a Read that failed because the Reads waited for Envoy, in all, as long
// as LimitWait allowed.
var ErrWaitSpent = errors.New("the time allowed for the answer is spent")

// LimitWait bounds the time the Reads from now on may wait for Envoy, in all (0: no bound).
// Time the caller spends between Reads does not count. Not safe concurrently with Read.
func (s *Stream) LimitWait(d time.Duration) {
	s.budget = d
	if d < 0 {
		s.budget = time.Nanosecond // already spent
	}
}

// Read reads the body. Errors name the call; a stall or a spent budget reads as a timeout.
func (s *Stream) Read(p []byte) (int, error) {
	wait, byBudget := s.idle, false
	if s.budget > 0 && (wait == 0 || s.budget < wait) {
		wait, byBudget = s.budget, true
	}
	if wait > 0 {
		s.overBudget.Store(byBudget)
		s.timer.Reset(wait)
	}
	start := time.Now()
	n, err := s.body.Read(p)
	if wait > 0 {
		s.timer.Stop()
	}
	if s.budget > 0 {
		s.budget = max(s.budget-time.Since(start), time.Nanosecond)
	}
	if err != nil && err != io.EOF {
		switch {
		case s.stalled.Load() && s.overBudget.Load():
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, ErrWaitSpent)
		case s.stalled.Load():
			err = fmt.Errorf("%w: Envoy sent nothing for %s", context.DeadlineExceeded, s.idle)
		case errors.Is(err, context.DeadlineExceeded):
			err = context.DeadlineExceeded
		}
		err = fmt.Errorf("envoy admin GET %s: reading body: %w", s.path, err)
	}
	return n, err
}

// Close releases the connection.
func (s *Stream) Close() error {
	s.timer.Stop()
	err := s.body.Close()
	s.cancel()
	return err
}

// PrometheusStats starts GET /stats?format=prometheus, with &filter=appmesh (the metrics
// extension's stats) and &usedonly as asked, in the reference agent's order. Retried until
// Envoy answers 200; the body is then returned unread, so a large one is never held in
// memory here.
func (c *Client) PrometheusStats(ctx context.Context, appmeshOnly, usedOnly bool) (*Stream, error) {
	path := "/stats?format=prometheus"
	if appmeshOnly {
		path += "&filter=appmesh"
	}
	if usedOnly {
		path += "&usedonly"
	}
	return c.stream(ctx, path, only200)
}

// Get starts GET path (the query included, already escaped) for a read-only page of the
// admin API, retried until Envoy answers with a status accept allows (nil: 200 only); the
// body is returned unread. The caller chooses the path: it must be one that changes nothing.
func (c *Client) Get(ctx context.Context, path string, accept func(int) bool) (*Stream, error) {
	if accept == nil {
		accept = only200
	}
	return c.stream(ctx, path, accept)
}

func (c *Client) stream(ctx context.Context, path string, accept func(int) bool) (*Stream, error) {
	var out *Stream
	err := c.retrying(ctx, http.MethodGet, path, true, accept, func(ctx context.Context) (int, []byte, error) {
		actx, cancel := context.WithCancel(ctx)
		var headerTimer *time.Timer
		if c.Timeout > 0 {
			headerTimer = time.AfterFunc(c.Timeout, cancel) // until the response headers only
		}
		stopHeaderTimer := func() bool { return headerTimer == nil || headerTimer.Stop() }
		req, err := http.NewRequestWithContext(actx, http.MethodGet, c.base+path, nil)
		if err != nil {
			stopHeaderTimer()
			cancel()
			return 0, nil, err
		}
		req.Header.Set("User-Agent", UserAgent)
		res, err := c.http.Do(req)
		if err != nil {
			if !stopHeaderTimer() {
				err = fmt.Errorf("%w: no response headers within %s", context.DeadlineExceeded, c.Timeout)
			}
			cancel()
			return 0, nil, fmt.Errorf("envoy admin GET %s: %w", path, unwrapURLError(err))
		}
		if !stopHeaderTimer() {
			res.Body.Close()
			cancel()
			return 0, nil, fmt.Errorf("envoy admin GET %s: %w: no response headers within %s", path, context.DeadlineExceeded, c.Timeout)
		}
		if !accept(res.StatusCode) {
			// Only the first line is reported; a little is enough for it.
			b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			res.Body.Close()
			cancel()
			return res.StatusCode, b, nil
		}
		st := &Stream{StatusCode: res.StatusCode, ContentLength: res.ContentLength, ContentType: res.Header.Get("Content-Type"),
			path: path, body: res.Body, cancel: cancel, idle: max(c.Timeout, 0)}
		st.timer = time.AfterFunc(time.Hour, func() { st.stalled.Store(true); cancel() })
		st.timer.Stop()
		out = st
		return res.StatusCode, nil, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Drain is DrainListeners returning Envoy's answer body ("OK\n"), which the management API
// passes on.
func (c *Client) Drain(ctx context.Context, graceful, inboundOnly bool) ([]byte, error) {
	var q []string
	if graceful {
		q = append(q, "graceful")
	}
	if inboundOnly {
		q = append(q, "inboundonly")
	}
	path := "/drain_listeners"
	if len(q) > 0 {
		path += "?" + strings.Join(q, "&")
	}
	r, err := c.call(ctx, http.MethodPost, path, true, maxReplyBody, only200)
	if err != nil {
		return nil, err
	}
	return r.body, nil
}
