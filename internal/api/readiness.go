package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
)

// readinessRequestTimeout bounds each /status request of the probe (the reference's had
// none, so a stuck agent hung the probe past its own timeout).
const readinessRequestTimeout = 3 * time.Second

// PollReadiness is `appnet-agent -envoyReadiness` (R6): it asks the running agent's /status,
// over TCP or its Unix socket as APPNET_AGENT_ADMIN_MODE says, until healthStatus is HEALTHY
// (exit code 0) or APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S passes (1). The first check
// is immediate; then one every APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S. An interval or
// a timeout of 0 means one check. ctx ending (a signal) also gives 1.
func PollReadiness(ctx context.Context, cfg *env.Config, log hclog.Logger) int {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	target, client, err := readinessClient(cfg)
	if err != nil {
		log.Error("Polling envoy readiness failed with error: " + err.Error())
		return 1
	}
	defer client.CloseIdleConnections()
	interval, timeout := cfg.Readiness.Interval, cfg.Readiness.Timeout
	single := interval <= 0 || timeout <= 0
	var deadline time.Time
	if !single {
		deadline = time.Now().Add(timeout)
	}
	var lastErr error
	for {
		if !single && lastErr != nil && time.Until(deadline) < 10*time.Millisecond {
			log.Error(fmt.Sprintf("Polling envoy readiness failed with error: Timed out after %s; last error: %v", timeout, lastErr))
			return 1
		}
		reqTimeout := readinessRequestTimeout
		if !single {
			reqTimeout = min(reqTimeout, max(time.Until(deadline), time.Millisecond))
		}
		err := checkStatus(ctx, client, target, reqTimeout)
		if err == nil {
			log.Info("Envoy is ready: the agent reports HEALTHY")
			return 0
		}
		if single {
			log.Error("Polling envoy readiness failed with error: " + err.Error())
			return 1
		}
		lastErr = err
		log.Debug("Envoy is not ready yet", "error", err)
		t := time.NewTimer(max(0, min(interval, time.Until(deadline))))
		select {
		case <-ctx.Done():
			t.Stop()
			log.Error("Polling envoy readiness stopped: " + context.Cause(ctx).Error())
			return 1
		case <-t.C:
		}
	}
}

// readinessClient returns the /status URL and a client that reaches the agent's
// management API: its Unix socket, or its TCP address (loopback when it binds a wildcard).
func readinessClient(cfg *env.Config) (string, *http.Client, error) {
	mode := cfg.API.AdminMode
	if mode == nil {
		return "", nil, errors.New("APPNET_AGENT_ADMIN_MODE is not set, so the agent serves no /status to probe")
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if *mode == "uds" {
		path := string(cfg.API.AdminUDSPath)
		d := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
		return "http://127.0.0.1" + PathStatus, &http.Client{Transport: tr}, nil
	}
	host := string(cfg.API.HTTPBindAddress)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		// A wildcard bind (the default [::] is dual-stack) answers on IPv4 loopback too.
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, fmt.Sprint(cfg.API.HTTPPort)) + PathStatus
	return url, &http.Client{Transport: tr}, nil
}

// checkStatus is one probe: nil when /status answers 200 with healthStatus HEALTHY.
func checkStatus(ctx context.Context, client *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("reading /status: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("/status answered %d: %s", res.StatusCode, truncate(string(body), 200))
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("/status is not JSON: %w", err)
	}
	if st.HealthStatus != Healthy {
		return fmt.Errorf("healthStatus is %q (envoyState %q)", st.HealthStatus, st.EnvoyState)
	}
	return nil
}

// truncate cuts s to n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
