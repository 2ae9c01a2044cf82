// Package mgmtclient is the client of a running agent's management API, reached where the
// same variables put it: its Unix socket (APPNET_AGENT_ADMIN_MODE=uds,
// APPNET_AGENT_ADMIN_UDS_PATH) or its TCP port (APPNET_AGENT_HTTP_PORT on
// APPNET_AGENT_HTTP_BIND_ADDRESS, 127.0.0.1 when that is a wildcard), or at an address given
// on the command line. `-envoyReadiness` and `appnet-agent admin` use it; so should anything
// else that asks the agent. Requests are bounded by their context only. It imports nothing of
// the agent but internal/env, so that every package may use it.
package mgmtclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/appnet/appnet-agent/internal/env"
)

// Client talks to one agent's management API. It is safe for concurrent use.
type Client struct {
	http *http.Client
	base string // URL prefix the paths are appended to
	addr string // where the API is, for messages
}

// MaxSmallBody bounds what Do reads of an answer: the agent's own answers are small.
const MaxSmallBody = 64 << 10

// New returns a client of the management API cfg describes, or an error when
// APPNET_AGENT_ADMIN_MODE is unset (the agent then serves none).
func New(cfg *env.Config) (*Client, error) {
	mode := cfg.API.AdminMode
	if mode == nil {
		return nil, errors.New("APPNET_AGENT_ADMIN_MODE is not set, so the agent serves no management API")
	}
	if *mode == "uds" {
		return unixClient(string(cfg.API.AdminUDSPath)), nil
	}
	host := string(cfg.API.HTTPBindAddress)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		// A wildcard bind (the default [::] is dual-stack) answers on IPv4 loopback too.
		host = "127.0.0.1"
	}
	return tcpClient(net.JoinHostPort(host, strconv.Itoa(int(cfg.API.HTTPPort)))), nil
}

// Parse returns a client of the API at addr: "unix:PATH" or a path containing a slash (a Unix
// socket), "HOST:PORT", ":PORT" or "PORT" (127.0.0.1), or "http://HOST:PORT".
func Parse(addr string) (*Client, error) {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		if p := strings.TrimPrefix(addr, "unix:"); p != "" {
			return unixClient(p), nil
		}
	case strings.Contains(addr, "/") && !strings.Contains(addr, "://"):
		return unixClient(addr), nil
	}
	hostPort := strings.TrimPrefix(addr, "http://")
	if _, err := strconv.ParseUint(hostPort, 10, 16); err == nil {
		hostPort = ":" + hostPort
	}
	host, port, err := net.SplitHostPort(hostPort)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || n == 0 || strings.Contains(hostPort, "/") {
		return nil, fmt.Errorf("%q is not an agent address (allowed: unix:/path/to.sock, /path/to.sock, HOST:PORT, :PORT, PORT, http://HOST:PORT)", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return tcpClient(net.JoinHostPort(host, port)), nil
}

func unixClient(path string) *Client {
	d := &net.Dialer{}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "unix", path) }}
	return &Client{http: &http.Client{Transport: tr}, base: "http://127.0.0.1", addr: "unix socket " + path}
}

func tcpClient(hostPort string) *Client {
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true}
	return &Client{http: &http.Client{Transport: tr}, base: "http://" + hostPort, addr: hostPort}
}

// Address says where the client reaches the agent: "unix socket PATH" or "HOST:PORT".
func (c *Client) Address() string { return c.addr }

// URL is the address of path (with its query, if any).
func (c *Client) URL(path string) string { return c.base + path }

// ConnError is a request that got no answer from the agent: it could not connect, or the
// connection failed before the response headers.
type ConnError struct {
	Addr string
	Err  error
}

func (e *ConnError) Error() string {
	// A dial error repeats the address ("dial tcp 127.0.0.1:9902: connect: connection refused"):
	// its cause alone says what went wrong there.
	cause := e.Err
	var op *net.OpError
	if errors.As(cause, &op) && op.Err != nil {
		cause = op.Err
	}
	return fmt.Sprintf("cannot reach the agent's management API at %s: %v", e.Addr, cause)
}

func (e *ConnError) Unwrap() error { return e.Err }

// Open sends one request without a body to path and returns the response, its body unread
// (close it). A request that got no answer is a *ConnError.
func (c *Client) Open(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // drop net/http's `Get "http://...":` prefix
		}
		return nil, &ConnError{Addr: c.addr, Err: err}
	}
	return res, nil
}

// Do is Open reading at most MaxSmallBody bytes of the body.
func (c *Client) Do(ctx context.Context, method, path string) (int, []byte, error) {
	res, err := c.Open(ctx, method, path)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxSmallBody))
	if err != nil {
		return 0, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return res.StatusCode, body, nil
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }
