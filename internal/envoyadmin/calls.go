package envoyadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Ready asks GET /ready and returns Envoy's server state: "LIVE" (status 200), or
// "PRE_INITIALIZING", "INITIALIZING", "DRAINING" (status 503). It is not retried: a health
// poller wants the current answer, not one from a second later.
func (c *Client) Ready(ctx context.Context) (string, error) {
	r, err := c.call(ctx, http.MethodGet, "/ready", false, maxReplyBody, func(code int) bool {
		return code == http.StatusOK || code == http.StatusServiceUnavailable
	})
	if err != nil {
		return "", err
	}
	state := strings.TrimSpace(string(r.body))
	if state == "" || strings.ContainsAny(state, " \n\t{<") {
		return "", fmt.Errorf("envoy admin GET /ready: status %d: %w %q", r.code, ErrUnexpectedBody, firstLine(r.body))
	}
	return state, nil
}

// Stats returns the counters and gauges whose names match filter (an RE2 regular expression,
// partial match as Envoy applies it; empty: all), from GET /stats?format=json. Histograms and
// text readouts are skipped. Retried.
func (c *Client) Stats(ctx context.Context, filter string) (map[string]uint64, error) {
	path := "/stats?format=json"
	if filter != "" {
		path += "&filter=" + url.QueryEscape(filter)
	}
	r, err := c.call(ctx, http.MethodGet, path, true, 0, only200)
	if err != nil {
		return nil, err
	}
	out, err := parseJSONStats(r.body)
	if err != nil {
		return nil, fmt.Errorf("envoy admin GET %s: %w", path, err)
	}
	return out, nil
}

// parseJSONStats reads Envoy's {"stats":[{"name":..,"value":..},...,{"histograms":..}]}.
func parseJSONStats(body []byte) (map[string]uint64, error) {
	var doc struct {
		Stats []struct {
			Name  *string         `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"stats"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: not Envoy's JSON stats: %v", ErrUnexpectedBody, err)
	}
	out := make(map[string]uint64, len(doc.Stats))
	for _, s := range doc.Stats {
		if s.Name == nil || len(s.Value) == 0 || s.Value[0] == '"' {
			continue // histograms entry, or a text readout
		}
		v, err := strconv.ParseUint(string(s.Value), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: stat %s: value %s is not an unsigned integer", ErrUnexpectedBody, *s.Name, s.Value)
		}
		out[*s.Name] = v
	}
	return out, nil
}

// connectionsFilter selects the stats DownstreamConnections reads, in one request.
const connectionsFilter = `^(server\.total_connections|listener\..*\.downstream_cx_active)$`

// DownstreamConnections returns how many client connections Envoy still has. It reads
// server.total_connections and the per-listener listener.<name>.downstream_cx_active gauges
// in one request and returns the larger of the total and the listeners' sum:
// server.total_connections is refreshed only at each stats flush (stats_flush_interval, 5 s by
// default), while the listener gauges move at once, so neither alone can report a stale 0.
// The admin listener (which counts this very request) and per-worker copies are left out.
func (c *Client) DownstreamConnections(ctx context.Context) (int, error) {
	stats, err := c.Stats(ctx, connectionsFilter)
	if err != nil {
		return 0, err
	}
	total, haveTotal := stats["server.total_connections"]
	var sum uint64
	listeners := 0
	for name, v := range stats {
		if !strings.HasPrefix(name, "listener.") || !strings.HasSuffix(name, ".downstream_cx_active") ||
			strings.HasPrefix(name, "listener.admin.") || strings.Contains(name, ".worker_") ||
			strings.Contains(name, ".main_thread.") {
			continue
		}
		sum += v
		listeners++
	}
	if !haveTotal && listeners == 0 {
		return 0, fmt.Errorf("envoy admin: neither server.total_connections nor listener downstream_cx_active stats reported")
	}
	n := max(total, sum)
	if n > 1<<31 {
		n = 1 << 31
	}
	return int(n), nil
}

// DrainListeners asks Envoy to drain its listeners: POST /drain_listeners with graceful
// (drain period before listeners close) and inboundonly (inbound listeners only) as requested.
// Retried: draining twice is harmless.
func (c *Client) DrainListeners(ctx context.Context, graceful, inboundOnly bool) error {
	_, err := c.Drain(ctx, graceful, inboundOnly)
	return err
}

// SetLogLevel sets every Envoy logger to level with POST /logging?level=LEVEL (escaped).
// Envoy's admin knows trace, debug, info, warning, error, critical and off; "warn", which
// Envoy's -l accepts, is sent as "warning". Retried: setting a level twice is harmless.
func (c *Client) SetLogLevel(ctx context.Context, level string) error {
	if level == "warn" {
		level = "warning"
	}
	_, err := c.call(ctx, http.MethodPost, "/logging?level="+url.QueryEscape(level), true, maxReplyBody, only200)
	return err
}

// SetComponentLevels sets named loggers' levels (POST /logging?paths=NAME:LEVEL,...), what
// --component-log-level does at start; pairs is "upstream:debug,connection:trace" with the
// admin API's level names (warning, not warn). Retried.
func (c *Client) SetComponentLevels(ctx context.Context, pairs string) error {
	_, err := c.call(ctx, http.MethodPost, "/logging?paths="+url.QueryEscape(pairs), true, maxReplyBody, only200)
	return err
}

// FailHealthcheck makes Envoy fail its health checks (POST /healthcheck/fail): /ready and
// the health-check filter answer DRAINING, so load balancers that probe Envoy take it out
// before its listeners close. Retried: failing twice is harmless.
func (c *Client) FailHealthcheck(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodPost, "/healthcheck/fail", true, maxReplyBody, only200)
	return err
}
