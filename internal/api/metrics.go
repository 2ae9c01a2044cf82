package api

import (
	"bytes"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/appnet/appnet-agent/internal/promtext"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// PathMetrics serves the agent's own metrics in the Prometheus text format.
const PathMetrics = "/metrics"

// BuildInfo names the versions appnet_agent_build_info reports.
type BuildInfo struct {
	Version, GoVersion, ControlPlaneVersion string
}

// requestCounts counts the management API's answers per endpoint and status code, for
// appnet_agent_http_requests_total. Safe for concurrent use.
type requestCounts struct {
	mu sync.Mutex
	n  map[requestKey]uint64
}

type requestKey struct {
	endpoint string
	code     int
}

func (c *requestCounts) add(endpoint string, code int) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[requestKey]uint64{}
	}
	c.n[requestKey{endpoint, code}]++
	c.mu.Unlock()
}

func (c *requestCounts) snapshot() map[requestKey]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[requestKey]uint64, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// endpointLabels are the endpoint label values: the API's paths, and "other" for anything
// else (unknown or unclean paths), so a client cannot grow the label set.
var endpointLabels = map[string]bool{PathStatus: true, PathMetrics: true, PathStats: true, PathEnableLogging: true, PathDrain: true}

// counting counts every answer by endpoint and status code, including the 403s of the
// origin guard and the 429s of the rate limits. A handler that panics before answering is
// counted as the 500 that recovering sends.
func counting(c *requestCounts, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		endpoint := r.URL.Path
		if !endpointLabels[endpoint] {
			endpoint = "other"
		}
		rw := &writeTracker{ResponseWriter: w}
		defer func() {
			code := rw.code
			if v := recover(); v != nil {
				if code == 0 {
					code = http.StatusInternalServerError
				}
				c.add(endpoint, code)
				panic(v)
			}
			if code == 0 {
				code = http.StatusOK // net/http's answer to a handler that wrote nothing
			}
			c.add(endpoint, code)
		}()
		h.ServeHTTP(rw, r)
	})
}

// metricsHandler serves GET (and HEAD) /metrics, the agent's own series; the query is
// ignored.
type metricsHandler struct{ s *Service }

func (h metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		textError(w, http.StatusMethodNotAllowed, "invalid method ["+r.Method+"] in request; /metrics answers GET")
		return
	}
	body, err := h.s.agentMetrics()
	if err != nil { // the families are built here; an error is a bug, answered rather than hidden
		textError(w, http.StatusInternalServerError, "cannot render the agent's metrics: "+err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeMetrics(w, r, bytes.TrimPrefix(body, []byte("\n")))
}

// agentMetrics renders the agent's families in the Prometheus text format, sorted by name,
// each preceded by an empty line (as the filtered stats are), so they can also follow
// Envoy's output (APPNET_AGENT_METRICS_IN_STATS).
func (s *Service) agentMetrics() ([]byte, error) {
	now := time.Now()
	st := s.health.Status()
	s.mu.Lock()
	sup := s.lastSup
	s.mu.Unlock()
	fams := []*dto.MetricFamily{
		gauge("appnet_agent_build_info", "Versions the agent was built with; the value is always 1.", 1,
			"version", s.build.Version, "go_version", s.build.GoVersion, "go_control_plane_version", s.build.ControlPlaneVersion),
		gauge("appnet_agent_start_time_seconds", "When the agent started, in seconds since the Unix epoch.", float64(s.started.UnixMilli())/1e3),
		gauge("appnet_agent_uptime_seconds", "Seconds since the agent started.", now.Sub(s.started).Seconds()),
		counter("appnet_agent_envoy_starts_total", "Envoy processes started.", float64(sup.Starts)),
		counter("appnet_agent_envoy_restarts_total", "Envoy restarts after an exit.", float64(sup.Restarts)),
		gauge("appnet_agent_envoy_running", "1 while an Envoy process runs, else 0.", boolValue(sup.Running)),
		gauge("appnet_agent_envoy_restart_budget_remaining", "Envoy exits that will still be restarted before the agent gives up (APPNET_ENVOY_RESTART_COUNT, restored after 5 minutes of running; 0 once a shutdown began).", float64(sup.RestartsLeft)),
		gauge("appnet_agent_healthy", "1 while /status reports HEALTHY, else 0.", boolValue(st.HealthStatus == Healthy)),
		drainPhase(st.DrainPhase),
		gauge("appnet_agent_bootstrap_warnings", "Warnings when the bootstrap was made (variables, platform facts, rendering).", float64(s.bootstrapWarnings)),
		s.requestFamily(),
		s.outputFamily(),
	}
	if sup.Exited {
		fams = append(fams,
			gauge("appnet_agent_envoy_last_exit_code", "Exit code of the last Envoy exit (128+signal when it was killed).", float64(sup.LastExitCode)),
			gauge("appnet_agent_envoy_last_exit_signal", "Signal that killed the last Envoy, 0 when it exited by itself.", float64(sup.LastExitSignal)))
	}
	if c := st.ManagementServerConnectionStatus; c != "" {
		fams = append(fams, gauge("appnet_agent_control_plane_connected",
			"1 while Envoy reports its control-plane connection (control_plane.connected_state), 0 while not; absent before Envoy first answered and in relay mode.",
			boolValue(c == Connected)))
	}
	for _, mf := range fams {
		if err := promtext.Normalize(mf); err != nil {
			return nil, err
		}
	}
	return promtext.Render(fams)
}

// drainPhases are the values of appnet_agent_drain_phase's phase label, one series each.
var drainPhases = []struct{ label, status string }{
	{"none", ""}, {"draining", DrainPhaseDrain}, {"stopping", DrainPhaseStop}, {"stopped", DrainPhaseStopped},
}

func drainPhase(status string) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: proto.String("appnet_agent_drain_phase"),
		Help: proto.String("The shutdown phase: 1 for the current one (none while no shutdown began), 0 for the others."),
		Type: dto.MetricType_GAUGE.Enum()}
	for _, p := range drainPhases {
		mf.Metric = append(mf.Metric, &dto.Metric{Label: labels("phase", p.label), Gauge: &dto.Gauge{Value: proto.Float64(boolValue(status == p.status))}})
	}
	return mf
}

// requestFamily is appnet_agent_http_requests_total; an endpoint appears once it was asked.
func (s *Service) requestFamily() *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: proto.String("appnet_agent_http_requests_total"),
		Help: proto.String("Management API requests answered, by endpoint (other: unknown paths) and status code (429: over the endpoint's rate limit)."),
		Type: dto.MetricType_COUNTER.Enum()}
	counts := s.requests.snapshot()
	keys := make([]requestKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].endpoint != keys[j].endpoint {
			return keys[i].endpoint < keys[j].endpoint
		}
		return keys[i].code < keys[j].code
	})
	for _, k := range keys {
		mf.Metric = append(mf.Metric, &dto.Metric{Label: labels("code", strconv.Itoa(k.code), "endpoint", k.endpoint),
			Counter: &dto.Counter{Value: proto.Float64(float64(counts[k]))}})
	}
	return mf
}

// outputFamily is appnet_agent_output_lines_lost_total, one series per guarded stream.
func (s *Service) outputFamily() *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: proto.String("appnet_agent_output_lines_lost_total"),
		Help: proto.String("Lines the agent's stdout or stderr refused (its reader gone, a full disk), which were dropped."),
		Type: dto.MetricType_COUNTER.Enum()}
	for _, o := range s.outputs {
		mf.Metric = append(mf.Metric, &dto.Metric{Label: labels("stream", o.Name()),
			Counter: &dto.Counter{Value: proto.Float64(float64(o.Lost()))}})
	}
	return mf
}

func gauge(name, help string, v float64, labelPairs ...string) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Label: labels(labelPairs...), Gauge: &dto.Gauge{Value: proto.Float64(v)}}}}
}

func counter(name, help string, v float64) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(v)}}}}
}

// labels pairs names and values: labels("a", "1", "b", "2").
func labels(pairs ...string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, &dto.LabelPair{Name: proto.String(pairs[i]), Value: proto.String(pairs[i+1])})
	}
	return out
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
