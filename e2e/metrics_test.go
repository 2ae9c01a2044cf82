package e2e

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// scrapeMetrics GETs /metrics, checks it with the Prometheus lint (promtool's rules, and
// promtool itself when it is installed) and parses it; ok is false when the agent did not
// answer 200.
func (a *agent) scrapeMetrics() (testenv.Exposition, bool) {
	a.t.Helper()
	code, body := a.get("GET", "/metrics")
	if code != 200 {
		return nil, false
	}
	fams, err := testenv.ParseExposition(body)
	if err != nil {
		a.fatalf("/metrics: %v\n%s", err, body)
	}
	promtoolCheck(a.t, body)
	return fams, true
}

// promtoolCheck runs `promtool check metrics` on body when promtool is on PATH (Debian's
// prometheus package); promlint above applies the same rules without it.
func promtoolCheck(t *testing.T, body string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n%s", err, out, body)
	}
}

// waitMetrics scrapes until cond holds.
func (a *agent) waitMetrics(what string, timeout time.Duration, cond func(testenv.Exposition) bool) testenv.Exposition {
	a.t.Helper()
	var last testenv.Exposition
	if !testenv.Poll(timeout, func() bool {
		s, ok := a.scrapeMetrics()
		if ok {
			last = s
		}
		return ok && cond(s)
	}) {
		a.fatalf("no %s within %v; last /metrics families: %v", what, timeout, last)
	}
	return last
}

func is(s testenv.Exposition, want float64, name string, labelPairs ...string) bool {
	v, ok := s.Value(name, labelPairs...)
	return ok && v == want
}

// TestMetricsAcrossEnvoyCrash scrapes the real agent's /metrics (and /stats/prometheus with
// APPNET_AGENT_METRICS_IN_STATS) across an Envoy crash and restart and a shutdown: every
// scrape passes the lint, and the counters and gauges follow what happened.
func TestMetricsAcrossEnvoyCrash(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "APPNET_ENVOY_RESTART_COUNT=2", "LISTENER_DRAIN_WAIT_TIME_S=5", "APPNET_MIN_DRAIN_TIME_S=1",
		"APPNET_AGENT_METRICS_IN_STATS=true", "APPNET_AGENT_UNKNOWN_TYPO=1")
	a.withAPI()
	a.start()
	first := a.waitEnvoyUp(1)
	s := a.waitMetrics("a healthy first Envoy", 20*time.Second, func(s testenv.Exposition) bool {
		return is(s, 1, "appnet_agent_envoy_starts_total") && is(s, 1, "appnet_agent_healthy") && is(s, 1, "appnet_agent_control_plane_connected")
	})
	// The warnings logged before the bootstrap was ready: the unknown APPNET_ variable, and
	// the stand-in's Envoy 1.40 with the App Mesh bootstrap.
	before, _, _ := strings.Cut(a.stderr(), "bootstrap ready")
	warnings := float64(strings.Count(before, "][warning] [AppNet Agent] "))
	for _, c := range []struct {
		name string
		want float64
	}{{"appnet_agent_envoy_restarts_total", 0}, {"appnet_agent_envoy_running", 1}, {"appnet_agent_envoy_restart_budget_remaining", 2},
		{"appnet_agent_bootstrap_warnings", warnings}} {
		if !is(s, c.want, c.name) {
			a.fatalf("%s = %v, want %v", c.name, s[c.name], c.want)
		}
	}
	if warnings != 2 {
		a.fatalf("%v warnings before the bootstrap was ready, want 2", warnings)
	}
	if _, ok := s.Value("appnet_agent_envoy_last_exit_code"); ok {
		a.fatalf("a last exit code before any exit")
	}
	if !is(s, 1, "appnet_agent_build_info", "version", "dev", "go_version", s.Label("appnet_agent_build_info", "go_version"),
		"go_control_plane_version", s.Label("appnet_agent_build_info", "go_control_plane_version")) ||
		!strings.HasPrefix(s.Label("appnet_agent_build_info", "go_control_plane_version"), "v1.") {
		a.fatalf("build info %v", s["appnet_agent_build_info"])
	}
	scrapes, _ := s.Value("appnet_agent_http_requests_total", "endpoint", "/metrics", "code", "200")

	// Envoy crashes; the agent restarts it at once.
	if err := syscall.Kill(first.Pid, syscall.SIGSEGV); err != nil {
		t.Fatal(err)
	}
	a.waitEnvoyUp(2)
	s = a.waitMetrics("the restarted Envoy counted", 20*time.Second, func(s testenv.Exposition) bool {
		return is(s, 2, "appnet_agent_envoy_starts_total") && is(s, 1, "appnet_agent_envoy_running") && is(s, 1, "appnet_agent_healthy")
	})
	for _, c := range []struct {
		name string
		want float64
	}{{"appnet_agent_envoy_restarts_total", 1}, {"appnet_agent_envoy_last_exit_code", 128 + 11}, {"appnet_agent_envoy_last_exit_signal", 11},
		{"appnet_agent_envoy_restart_budget_remaining", 1}} {
		if !is(s, c.want, c.name) {
			a.fatalf("after the crash: %s = %v, want %v", c.name, s[c.name], c.want)
		}
	}
	if now, _ := s.Value("appnet_agent_http_requests_total", "endpoint", "/metrics", "code", "200"); now <= scrapes {
		a.fatalf("/metrics requests counted %v, then %v", scrapes, now)
	}

	// The agent's families follow Envoy's in /stats/prometheus, never in filtered answers.
	code, body := a.get("GET", "/stats/prometheus")
	if code != 200 || !strings.Contains(body, "\nappnet_agent_envoy_starts_total 2\n") || !strings.Contains(body, "envoy_server_live") {
		a.fatalf("/stats/prometheus: %d\n%s", code, tail(body, 3000))
	}
	if code, body := a.get("GET", "/stats/prometheus?filter=metrics_extension"); code != 200 || strings.Contains(body, "appnet_agent_") {
		a.fatalf("/stats/prometheus?filter=metrics_extension: %d\n%s", code, body)
	}

	// Shutdown: the drain phase shows while Envoy drains, and no restart is left.
	a.signal(syscall.SIGTERM)
	a.waitMetrics("the drain phase", 10*time.Second, func(s testenv.Exposition) bool {
		return is(s, 1, "appnet_agent_drain_phase", "phase", "draining") && is(s, 0, "appnet_agent_healthy")
	})
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("agent exit code %d after SIGTERM, want 0", code)
	}
}
