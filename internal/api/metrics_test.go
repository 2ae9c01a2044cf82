package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/common/model"

	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/supervise"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// newMetricsService is a started Service against f with APPNET_AGENT_METRICS_IN_STATS as
// given, a known build and two bootstrap warnings.
func newMetricsService(t *testing.T, f *fakeEnvoy, inStats bool) *Service {
	t.Helper()
	cfg := testConfig{}.env()
	cfg.Agent.RestartCount = 3
	cfg.API.MetricsInStats = inStats
	stdout, stderr := logging.NewStreams(io.Discard, io.Discard)
	svc := New(Options{Config: cfg, Admin: adminFor(t, f.srv), Logger: hclog.NewNullLogger(), AgentStarted: time.Now().Add(-90 * time.Second),
		Build: BuildInfo{Version: "v1.2.3", GoVersion: "go1.26", ControlPlaneVersion: "v1.40.0"}, BootstrapWarnings: 2,
		Outputs: []*logging.Stream{stdout, stderr}})
	svc.Start()
	t.Cleanup(svc.Stop)
	return svc
}

// scrape GETs /metrics and parses it; the exposition must also pass the Prometheus lint
// (the rules of `promtool check metrics`).
func scrape(t *testing.T, h http.Handler) testenv.Exposition {
	t.Helper()
	code, body, hdr := do(h, "GET", "/metrics", local)
	if code != http.StatusOK || hdr.Get("Content-Type") != promContentType {
		t.Fatalf("GET /metrics: %d %q\n%s", code, hdr.Get("Content-Type"), body)
	}
	fams, err := testenv.ParseExposition(body)
	if err != nil {
		t.Fatalf("/metrics: %v\n%s", err, body)
	}
	return fams
}

func expectValue(t *testing.T, fams testenv.Exposition, want float64, name string, labelPairs ...string) {
	t.Helper()
	got, ok := fams.Value(name, labelPairs...)
	if !ok || got != want {
		t.Errorf("%s%v = %v (present: %v), want %v", name, labelPairs, got, ok, want)
	}
}

// TestMetricsAcrossEnvoyLife follows the series through a start, a crash and a restart, and
// a shutdown.
func TestMetricsAcrossEnvoyLife(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newMetricsService(t, f, false)
	h := svc.Handler()

	fams := scrape(t, h)
	expectValue(t, fams, 1, "appnet_agent_build_info", "version", "v1.2.3", "go_version", "go1.26", "go_control_plane_version", "v1.40.0")
	expectValue(t, fams, 0, "appnet_agent_envoy_starts_total")
	expectValue(t, fams, 3, "appnet_agent_envoy_restart_budget_remaining")
	expectValue(t, fams, 0, "appnet_agent_healthy")
	expectValue(t, fams, 2, "appnet_agent_bootstrap_warnings")
	expectValue(t, fams, 1, "appnet_agent_drain_phase", "phase", "none")
	expectValue(t, fams, 0, "appnet_agent_output_lines_lost_total", "stream", "stderr")
	for _, absent := range []string{"appnet_agent_envoy_last_exit_code", "appnet_agent_envoy_last_exit_signal", "appnet_agent_control_plane_connected"} {
		if _, ok := fams.Value(absent); ok {
			t.Errorf("%s present before it means anything", absent)
		}
	}
	if up, _ := fams.Value("appnet_agent_uptime_seconds"); up < 90 || up > 3600 {
		t.Errorf("uptime %v, want about 90 s", up)
	}

	start := time.Now()
	pid := os.Getpid() // this process serves the fake Envoy's admin listener, as Envoy would
	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRunning, PID: pid, Running: true, Starts: 1, EnvoyStarted: start, RestartsLeft: 3})
	waitFor(t, 10*time.Second, "HEALTHY", func() bool { return svc.Health().Status().HealthStatus == Healthy })
	fams = scrape(t, h)
	expectValue(t, fams, 1, "appnet_agent_envoy_starts_total")
	expectValue(t, fams, 1, "appnet_agent_envoy_running")
	expectValue(t, fams, 1, "appnet_agent_healthy")
	expectValue(t, fams, 1, "appnet_agent_control_plane_connected")

	// Envoy is killed by SIGSEGV and restarted.
	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRestarting, Starts: 1, Exited: true, LastExitCode: 139, LastExitSignal: 11,
		LastExitReason: "killed by signal 11 (segmentation fault)", LastExit: time.Now(), RestartsLeft: 3})
	fams = scrape(t, h)
	expectValue(t, fams, 0, "appnet_agent_envoy_running")
	expectValue(t, fams, 0, "appnet_agent_healthy")
	expectValue(t, fams, 139, "appnet_agent_envoy_last_exit_code")
	expectValue(t, fams, 11, "appnet_agent_envoy_last_exit_signal")
	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRunning, PID: pid, Running: true, Starts: 2, Restarts: 1, Exited: true,
		LastExitCode: 139, LastExitSignal: 11, RestartsLeft: 2})
	f.set(func(f *fakeEnvoy) { f.connected = 0 })
	waitFor(t, 10*time.Second, "NOT_CONNECTED", func() bool {
		return svc.Health().Status().ManagementServerConnectionStatus == NotConnected
	})
	fams = scrape(t, h)
	expectValue(t, fams, 2, "appnet_agent_envoy_starts_total")
	expectValue(t, fams, 1, "appnet_agent_envoy_restarts_total")
	expectValue(t, fams, 2, "appnet_agent_envoy_restart_budget_remaining")
	expectValue(t, fams, 0, "appnet_agent_control_plane_connected")

	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseDraining, PID: pid, Running: true, Starts: 2, Restarts: 1, RestartsLeft: 2})
	fams = scrape(t, h)
	expectValue(t, fams, 1, "appnet_agent_drain_phase", "phase", "draining")
	expectValue(t, fams, 0, "appnet_agent_drain_phase", "phase", "none")
	expectValue(t, fams, 0, "appnet_agent_healthy")
	// The four scrapes before this one were counted.
	expectValue(t, fams, 4, "appnet_agent_http_requests_total", "endpoint", "/metrics", "code", "200")
}

// TestMetricsCountsEveryAnswer: requests are counted per endpoint and code, 403s and 429s
// included, and unknown paths under "other".
func TestMetricsCountsEveryAnswer(t *testing.T) {
	f := newFakeEnvoy(t)
	h := newMetricsService(t, f, false).Handler()
	do(h, "GET", "/status", local)
	do(h, "GET", "/status", "10.1.2.3:5000")
	do(h, "POST", "/drain_listeners", "10.1.2.3:5000") // 403: not loopback
	do(h, "GET", "/nope", local)
	do(h, "GET", "//status", local)                    // 301
	do(h, "POST", "/enableLogging?level=bogus", local) // 400
	code, body, hdr := do(h, "POST", "/metrics", local)
	if code != http.StatusMethodNotAllowed || hdr.Get("Allow") != "GET, HEAD" || !strings.Contains(body, "invalid method [POST]") {
		t.Errorf("POST /metrics: %d %q %q", code, body, hdr.Get("Allow"))
	}
	if code, _, _ := do(h, "GET", "/metrics?anything", "10.1.2.3:5000"); code != http.StatusOK {
		t.Errorf("/metrics from a remote client: %d, want 200 (open like /status)", code)
	}
	fams := scrape(t, h)
	expectValue(t, fams, 2, "appnet_agent_http_requests_total", "endpoint", "/status", "code", "200")
	expectValue(t, fams, 1, "appnet_agent_http_requests_total", "endpoint", "/drain_listeners", "code", "403")
	expectValue(t, fams, 1, "appnet_agent_http_requests_total", "endpoint", "other", "code", "404")
	expectValue(t, fams, 1, "appnet_agent_http_requests_total", "endpoint", "other", "code", "301")
	expectValue(t, fams, 1, "appnet_agent_http_requests_total", "endpoint", "/enableLogging", "code", "400")
	expectValue(t, fams, 1, "appnet_agent_http_requests_total", "endpoint", "/metrics", "code", "405")
	expectValue(t, fams, 1, "appnet_agent_http_requests_total", "endpoint", "/metrics", "code", "200")
}

// /metrics has the budget of /status in a bucket of its own, and its 429s are counted.
func TestMetricsRateLimit(t *testing.T) {
	if metricsLimit != statusLimit {
		t.Errorf("/metrics limit %+v, want /status's %+v", metricsLimit, statusLimit)
	}
	saved := metricsLimit
	metricsLimit = limit{perSecond: 1e-9, burst: 3} // no refill within the test
	t.Cleanup(func() { metricsLimit = saved })
	svc := newMetricsService(t, newFakeEnvoy(t), false)
	var codes []int
	for range 5 {
		code, _, _ := do(svc.Handler(), "GET", "/metrics", local)
		codes = append(codes, code)
	}
	if !slices.Equal(codes, []int{200, 200, 200, 429, 429}) {
		t.Errorf("codes %v, want three 200s, then 429s", codes)
	}
	if code, _, _ := do(svc.Handler(), "GET", "/status", local); code != http.StatusOK {
		t.Errorf("/status answered %d after /metrics' budget was spent", code)
	}
	body, err := svc.agentMetrics()
	if err != nil {
		t.Fatal(err)
	}
	fams, err := testenv.ParseExposition(string(body))
	if err != nil {
		t.Fatal(err)
	}
	expectValue(t, fams, 2, "appnet_agent_http_requests_total", "endpoint", "/metrics", "code", "429")
	expectValue(t, fams, 3, "appnet_agent_http_requests_total", "endpoint", "/metrics", "code", "200")
}

// A handler that panics is counted as the 500 the client gets.
func TestCountingPanics(t *testing.T) {
	var c requestCounts
	h := recovering(hclog.NewNullLogger(), counting(&c, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", PathStatus, nil))
	if rec.Code != http.StatusInternalServerError || c.snapshot()[requestKey{PathStatus, 500}] != 1 {
		t.Errorf("answer %d, counts %v", rec.Code, c.snapshot())
	}
}

// TestMetricsInStats: APPNET_AGENT_METRICS_IN_STATS appends the agent's families to the
// unfiltered and usedonly output, with a Content-Length covering both; filtered and delta
// answers, and everything without the variable, stay exactly as they were.
func TestMetricsInStats(t *testing.T) {
	const envoyBody = "# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n"
	for _, inStats := range []bool{false, true} {
		t.Run("APPNET_AGENT_METRICS_IN_STATS="+strconv.FormatBool(inStats), func(t *testing.T) {
			f := newFakeEnvoy(t)
			f.set(func(f *fakeEnvoy) { f.prom = []byte(envoyBody + testenv.ExtensionBody) })
			h := newMetricsService(t, f, inStats).Handler()
			for _, target := range []string{"/stats/prometheus", "/stats/prometheus?usedonly"} {
				code, body, hdr := do(h, "GET", target, local)
				if code != http.StatusOK || hdr.Get("Content-Length") != strconv.Itoa(len(body)) {
					t.Fatalf("%s: %d, Content-Length %s for %d bytes", target, code, hdr.Get("Content-Length"), len(body))
				}
				rest, ok := strings.CutPrefix(body, envoyBody+testenv.ExtensionBody)
				if !ok {
					t.Fatalf("%s does not start with Envoy's body:\n%s", target, body)
				}
				if !inStats {
					if rest != "" {
						t.Errorf("%s: appended %q without APPNET_AGENT_METRICS_IN_STATS", target, rest)
					}
					continue
				}
				if !strings.HasPrefix(rest, "\n# HELP appnet_agent_") || !strings.Contains(rest, "appnet_agent_build_info{") {
					t.Errorf("%s: the agent's families are not appended:\n%s", target, rest)
				}
				fams, err := testenv.ParseText(body) // Envoy's families do not follow the naming rules
				if err != nil || fams["envoy_server_live"] == nil || fams["appnet_agent_envoy_starts_total"] == nil {
					t.Errorf("%s is not one valid exposition with both: %v", target, err)
				}
			}
			for _, target := range []string{"/stats/prometheus?filter=metrics_extension", "/stats/prometheus?usedonly&filter=metrics_extension&delta"} {
				if code, body, _ := do(h, "GET", target, local); code != http.StatusOK || body != testenv.ExtensionFiltered {
					t.Errorf("%s: %d %q, want %q", target, code, body, testenv.ExtensionFiltered)
				}
			}
		})
	}
}

// Every family served has a valid name with the agent's prefix and help, and docs/API.md documents
// exactly the families served.
func TestMetricNamesAreDocumented(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newMetricsService(t, f, false)
	svc.EnvoyChanged(supervise.Snapshot{Phase: supervise.PhaseRunning, PID: os.Getpid(), Running: true, Starts: 2, Restarts: 1,
		Exited: true, LastExitCode: 1, RestartsLeft: 2})
	waitFor(t, 10*time.Second, "the control-plane connection", func() bool {
		return svc.Health().Status().ManagementServerConnectionStatus != ""
	})
	code, body, _ := do(svc.Handler(), "GET", "/metrics", local)
	if code != 200 || strings.HasPrefix(body, "\n") {
		t.Fatalf("%d, or the body starts with an empty line: %q", code, body[:min(len(body), 40)])
	}
	fams := scrape(t, svc.Handler())
	served := map[string]bool{}
	for name, mf := range fams {
		served[name] = true
		if !model.LegacyValidation.IsValidMetricName(name) || !strings.HasPrefix(name, "appnet_agent_") || mf.GetHelp() == "" {
			t.Errorf("family %s: help %q", name, mf.GetHelp())
		}
	}
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "API.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("\x60(appnet_agent_[a-z_]+)").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for name := range served {
		if !documented[name] {
			t.Errorf("%s is served but not documented in docs/API.md", name)
		}
	}
	for name := range documented {
		if !served[name] {
			t.Errorf("docs/API.md documents %s, which is not served", name)
		}
	}
}
