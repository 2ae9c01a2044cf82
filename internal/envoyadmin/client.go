// Package envoyadmin is the agent's one client for Envoy's admin API, over TCP (127.0.0.1:PORT)
// or a Unix socket. Every attempt has its own timeout; calls that are safe to repeat are retried
// a bounded number of times with exponential backoff (H7). The caller's context bounds the whole
// call, retries included.
package envoyadmin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/appnet/appnet-agent/internal/lifecycle"
)

// UserAgent is sent with every request, as the reference agent does.
const UserAgent = "appnetClient/1.0"

// Target is where Envoy's admin API listens.
type Target struct {
	Network string // "tcp" or "unix"
	Address string // host:port for tcp, the socket path for unix
}

// TCP is Envoy admin on 127.0.0.1:port. The agent always talks to loopback, whatever interface
// Envoy binds, as the reference agent does.
func TCP(port uint16) Target {
	return Target{Network: "tcp", Address: net.JoinHostPort("127.0.0.1", fmt.Sprint(port))}
}

// UDS is Envoy admin on the Unix socket at path.
func UDS(path string) Target { return Target{Network: "unix", Address: path} }

// String renders the target for logs.
func (t Target) String() string {
	if t.Network == "unix" {
		return "unix:" + t.Address
	}
	return t.Address
}

// Defaults for the exported Client fields.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultAttempts   = 4
	DefaultBackoffMin = 100 * time.Millisecond
	DefaultBackoffMax = time.Second
	// DefaultMaxBody bounds what is read into memory from one response. The agent reads only
	// small answers whole (/ready, filtered JSON stats, mutation replies); the large ones
	// (PrometheusStats) are streams, which it does not bound.
	DefaultMaxBody = 1 << 20
	// maxReplyBody bounds the answers that are only a word or a line: /ready ("LIVE"), and
	// Envoy's replies to /drain_listeners and /logging ("OK", or the list of loggers).
	maxReplyBody = 64 << 10
)

// ErrUnexpectedBody marks an answer from Envoy whose body is not what the call expects
// (garbage, an HTML page, truncated JSON). Envoy answered: see Answered.
var ErrUnexpectedBody = errors.New("unexpected response body")

// Client calls Envoy's admin API. It is safe for concurrent use. Fields may be adjusted after
// New and before the first call.
type Client struct {
	// Timeout bounds each attempt (connect, request, whole body).
	Timeout time.Duration
	// Attempts is the most tries a retryable call makes (1 = no retries).
	Attempts int
	// BackoffMin and BackoffMax shape the wait between attempts: BackoffMin, doubled each time,
	// capped at BackoffMax.
	BackoffMin, BackoffMax time.Duration
	// MaxBody is the most bytes a call reads into memory (0: DefaultMaxBody); a longer body
	// fails the attempt. Calls whose answer is a word or a line read at most 64 KiB whatever
	// MaxBody says.
	MaxBody int64

	target    Target
	base      string
	transport *http.Transport
	http      *http.Client
}

// New returns a client for target. Keep-alive connections are pooled (at most two idle); call
// Close to release them.
func New(target Target) *Client {
	d := &net.Dialer{Timeout: DefaultTimeout}
	tr := &http.Transport{
		// Never proxied: the admin API is loopback or a local socket.
		Proxy:               nil,
		MaxIdleConns:        2,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	base := "http://" + target.Address
	if target.Network == "unix" {
		path := target.Address
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
		// The Host header is irrelevant on a socket; keep the reference's loopback form.
		base = "http://127.0.0.1"
	} else {
		tr.DialContext = d.DialContext
	}
	return &Client{
		Timeout:    DefaultTimeout,
		Attempts:   DefaultAttempts,
		BackoffMin: DefaultBackoffMin,
		BackoffMax: DefaultBackoffMax,
		target:     target,
		base:       base,
		transport:  tr,
		http:       &http.Client{Transport: tr},
	}
}

// With returns a client for the same target that shares this one's connections but uses
// another per-attempt timeout and attempt count; the other settings are copied. Callers with
// different needs (a health poll that must not retry, a slow stats dump) each take their own.
func (c *Client) With(timeout time.Duration, attempts int) *Client {
	cp := *c
	cp.Timeout, cp.Attempts = timeout, attempts
	return &cp
}

// Answered reports whether err, from a call of this package, means Envoy did answer, with a
// status the call does not accept or a body it cannot use, rather than not at all (refused,
// timed out).
func Answered(err error) bool {
	var se *StatusError
	return errors.As(err, &se) || errors.Is(err, ErrUnexpectedBody)
}

// Target reports where the client connects.
func (c *Client) Target() Target { return c.target }

// Close releases idle connections. The client stays usable.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// StatusError is a response whose status the call does not accept.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string // first line, trimmed
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("envoy admin %s %s: status %d", e.Method, e.Path, e.Code)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// response is a fully read answer.
type response struct {
	code int
	body []byte
}

// call sends method path (path includes the query) and returns the first answer whose status
// accept allows, reading at most limit bytes of it (0: MaxBody). Transport errors, 429 and 5xx
// other than 501 are retried when retry is true and attempts remain; any other status ends
// the call with a *StatusError.
func (c *Client) call(ctx context.Context, method, path string, retry bool, limit int64, accept func(int) bool) (*response, error) {
	if limit <= 0 || limit > c.maxBody() {
		limit = c.maxBody()
	}
	var out *response
	err := c.retrying(ctx, method, path, retry, accept, func(ctx context.Context) (int, []byte, error) {
		r, err := c.once(ctx, method, path, limit)
		if err != nil {
			return 0, nil, err
		}
		out = r
		return r.code, r.body, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attemptFunc makes one try and reports its status and (for errors) body, or a transport
// error.
type attemptFunc func(ctx context.Context) (code int, body []byte, err error)

// retrying runs attempt until accept allows its status, a status that is not worth
// retrying arrives, the attempts are spent or ctx ends; waits between attempts back off
// exponentially.
func (c *Client) retrying(ctx context.Context, method, path string, retry bool, accept func(int) bool, attempt attemptFunc) error {
	attempts := max(1, c.Attempts)
	if !retry {
		attempts = 1
	}
	backoff := lifecycle.Backoff{Min: c.BackoffMin, Max: max(c.BackoffMax, c.BackoffMin)}
	var lastErr error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(backoff.Delay(i - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			case <-t.C:
			}
		}
		code, body, err := attempt(ctx)
		switch {
		case err != nil:
			lastErr = err
			if ctx.Err() != nil {
				return err
			}
			continue
		case accept(code):
			return nil
		}
		lastErr = &StatusError{Method: method, Path: path, Code: code, Body: firstLine(body)}
		if !retryableStatus(code) {
			return lastErr
		}
	}
	if attempts > 1 {
		return fmt.Errorf("giving up after %d attempts: %w", attempts, lastErr)
	}
	return lastErr
}

func (c *Client) once(ctx context.Context, method, path string, limit int64) (*response, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", UserAgent)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s %s: %w", method, path, unwrapURLError(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s %s: reading body: %w", method, path, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("envoy admin %s %s: body larger than %d bytes", method, path, limit)
	}
	return &response{code: res.StatusCode, body: body}, nil
}

func (c *Client) maxBody() int64 {
	if c.MaxBody > 0 {
		return c.MaxBody
	}
	return DefaultMaxBody
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}

func only200(code int) bool { return code == http.StatusOK }

// unwrapURLError drops net/http's `Post "http://...": ` wrapper, which repeats what our own
// message already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
