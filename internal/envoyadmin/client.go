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
)

// UserAgent is sent with every request, as the reference agent does.
const UserAgent = "appnetClient/1.0"

// Target is where Envoy's admin API listens.
type Target struct {
	Network string // "tcp" or "unix"
	Address string // host:port for tcp, the socket path for unix
}

// TCP is Envoy admin on 127.0.0.1:port. The agent always talks to loopback, whatever interface
// Envoy binds (runtime-reference §2.11).
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
	// maxBody bounds what is read from any response: /stats on a large mesh is a few MiB.
	maxBody = 64 << 20
)

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
// accept allows. Transport errors, 429 and 5xx other than 501 are retried when retry is true
// and attempts remain; any other status ends the call with a *StatusError.
func (c *Client) call(ctx context.Context, method, path string, retry bool, accept func(int) bool) (*response, error) {
	attempts := max(1, c.Attempts)
	if !retry {
		attempts = 1
	}
	wait := c.BackoffMin
	var lastErr error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			case <-t.C:
			}
			wait = min(2*wait, max(c.BackoffMax, c.BackoffMin))
		}
		r, err := c.once(ctx, method, path)
		switch {
		case err != nil:
			lastErr = err
			if ctx.Err() != nil {
				return nil, err
			}
			continue
		case accept(r.code):
			return r, nil
		}
		lastErr = &StatusError{Method: method, Path: path, Code: r.code, Body: firstLine(r.body)}
		if !retryableStatus(r.code) {
			return nil, lastErr
		}
	}
	if attempts > 1 {
		return nil, fmt.Errorf("giving up after %d attempts: %w", attempts, lastErr)
	}
	return nil, lastErr
}

func (c *Client) once(ctx context.Context, method, path string) (*response, error) {
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
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s %s: reading body: %w", method, path, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("envoy admin %s %s: body larger than %d bytes", method, path, maxBody)
	}
	return &response{code: res.StatusCode, body: body}, nil
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
