package api

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/mgmtclient"
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
	client, err := mgmtclient.New(cfg)
	if err != nil {
		log.Error("Polling envoy readiness failed with error: " + err.Error() + " to probe")
		return 1
	}
	defer client.Close()
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
		err := CheckHealthy(ctx, client, reqTimeout)
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

// CheckHealthy is one readiness check: nil when /status answers 200 with healthStatus
// HEALTHY within timeout.
func CheckHealthy(ctx context.Context, client *mgmtclient.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := FetchStatus(ctx, client)
	if err != nil {
		return err
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
