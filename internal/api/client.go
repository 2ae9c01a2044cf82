package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/appnet/appnet-agent/internal/env"
)

// Client talks to a running agent's management API where the same variables put it: its
// Unix socket (APPNET_AGENT_ADMIN_MODE=uds, APPNET_AGENT_ADMIN_UDS_PATH) or its TCP port
// (APPNET_AGENT_HTTP_PORT on APPNET_AGENT_HTTP_BIND_ADDRESS, 127.0.0.1 when that is a
// wildcard). `-envoyReadiness` and `appnet-agent wait` use it; anything else that asks the
// agent should too. Requests are bounded by their context only.
type Client struct {
	http *http.Client
	base string // URL prefix the paths are appended to
	addr string // where the API is, for messages
}

// maxClientBody bounds what a Client reads of an answer: the agent's own answers are small.
const maxClientBody = 64 << 10

// NewClient returns a client of the management API cfg describes, or an error when
// APPNET_AGENT_ADMIN_MODE is unset (the agent then serves none).
func NewClient(cfg *env.Config) (*Client, error) {
	mode := cfg.API.AdminMode
	if mode == nil {
		return nil, errors.New("APPNET_AGENT_ADMIN_MODE is not set, so the agent serves no management API")
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if *mode == "uds" {
		path := string(cfg.API.AdminUDSPath)
		d := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
		return &Client{http: &http.Client{Transport: tr}, base: "http://127.0.0.1", addr: "unix socket " + path}, nil
	}
	host := string(cfg.API.HTTPBindAddress)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		// A wildcard bind (the default [::] is dual-stack) answers on IPv4 loopback too.
		host = "127.0.0.1"
	}
	hostPort := net.JoinHostPort(host, fmt.Sprint(cfg.API.HTTPPort))
	return &Client{http: &http.Client{Transport: tr}, base: "http://" + hostPort, addr: hostPort}, nil
}

// Address says where the client reaches the agent: "unix socket PATH" or "HOST:PORT".
func (c *Client) Address() string { return c.addr }

// URL is the address of path (with its query, if any).
func (c *Client) URL(path string) string { return c.base + path }

// Do sends one request without a body to path and returns the status and at most 64 KiB of
// the body.
func (c *Client) Do(ctx context.Context, method, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxClientBody))
	if err != nil {
		return 0, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return res.StatusCode, body, nil
}

// Status reads /status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	code, body, err := c.Do(ctx, http.MethodGet, PathStatus)
	if err != nil {
		return Status{}, err
	}
	if code != http.StatusOK {
		return Status{}, fmt.Errorf("%s answered %d: %s", PathStatus, code, truncate(strings.TrimSpace(string(body)), 200))
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return Status{}, fmt.Errorf("%s is not JSON: %w", PathStatus, err)
	}
	return st, nil
}

// Shutdown asks the agent to shut down gracefully (POST /shutdown); nil once it accepted.
func (c *Client) Shutdown(ctx context.Context) error {
	code, body, err := c.Do(ctx, http.MethodPost, PathShutdown)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", PathShutdown, code, truncate(strings.TrimSpace(string(body)), 200))
	}
	return nil
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }
