package main

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// standin holds the process's mutable state. The script and options never change after
// start; the fields under mu are changed by admin calls and signals.
type standin struct {
	opts  *options
	sc    *script
	boot  *bootstrapInfo
	rec   *recorder
	log   *envoyLog
	start time.Time

	adminListening string // actual admin address, set once before serving

	mu           sync.Mutex
	hcFailed     bool
	shuttingDown bool
	drained      int // listeners stopped by /drain_listeners: 0, 1 (inbound only) or 2
	drainedAt    time.Time
	listeners    []*servedListener // the bootstrap's static listeners (listeners.go)

	inflight    atomic.Int64 // admin requests being served
	adminTotal  atomic.Int64
	promScrapes atomic.Int64

	exitOnce sync.Once
}

// Envoy's server.state gauge values.
var serverStateValue = map[string]uint64{"LIVE": 0, "DRAINING": 1, "PRE_INITIALIZING": 2, "INITIALIZING": 3}

// The stand-in pretends to run two listeners; only the first is inbound, which is what
// /drain_listeners?inboundonly stops.
const (
	inboundListener  = "0.0.0.0_15000"
	outboundListener = "0.0.0.0_15001"
	listenerCount    = 2
)

// readyState is what /ready and /server_info report. Shutdown and /healthcheck/fail win
// over the script, as in Envoy, where DRAINING means "health check failed".
func (s *standin) readyState() string {
	s.mu.Lock()
	draining := s.shuttingDown || s.hcFailed
	s.mu.Unlock()
	if draining {
		return "DRAINING"
	}
	if s.sc.readyFile != "" {
		if text, err := readSmallFile(s.sc.readyFile, 4096); err == nil {
			if line, _, _ := strings.Cut(strings.TrimSpace(text), "\n"); strings.TrimSpace(line) != "" {
				return strings.TrimSpace(line)
			}
		}
	}
	return s.sc.ready.at(time.Since(s.start))
}

// downstreamCx is the number of active downstream connections on the inbound listener:
// STANDIN_DOWNSTREAM_CX until STANDIN_DRAIN_CX_AFTER has passed since a drain request.
func (s *standin) downstreamCx() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drained > 0 && s.sc.drainCxSet && time.Since(s.drainedAt) >= s.sc.drainCxAfter {
		return 0
	}
	return s.sc.downstreamCx
}

func (s *standin) concurrency() int {
	if s.opts.concurrencySet {
		return s.opts.concurrency
	}
	return runtime.NumCPU()
}

// buildStats computes the stat set for one request from the current state, then overlays
// STANDIN_STATS_FILE (re-read each time so tests can change values while running).
func (s *standin) buildStats() *statSet {
	state := s.readyState()
	cx := s.downstreamCx()
	s.mu.Lock()
	drained := s.drained
	s.mu.Unlock()
	connected, _ := strconv.ParseUint(s.sc.connected.at(time.Since(s.start)), 10, 64)
	failed := uint64(0)
	if s.sc.listenerFail {
		failed = 1
	}
	live := uint64(0)
	if state == "LIVE" {
		live = 1
	}
	inflight := uint64(max(s.inflight.Load(), 0))
	uptime := uint64(time.Since(s.start) / time.Second)
	stats := []stat{
		gauge("cluster_manager.active_clusters", 3),
		counter("cluster_manager.cds.update_success", 1),
		counter("cluster_manager.cds.update_rejected", 0),
		tagged(gauge("cluster.upstream_cx_active", 0), "cluster", "local_app", "envoy_cluster_name"),
		tagged(counter("cluster.upstream_rq_total", 0), "cluster", "local_app", "envoy_cluster_name"),
		gauge("control_plane.connected_state", connected),
		gauge("control_plane.pending_requests", 0),
		counter("control_plane.rate_limit_enforced", 0),
		tagged(gauge("http.downstream_cx_active", inflight), "http", "admin", "envoy_http_conn_manager_prefix"),
		tagged(counter("http.downstream_rq_total", uint64(s.adminTotal.Load())), "http", "admin", "envoy_http_conn_manager_prefix"),
		tagged(gauge("http.downstream_cx_active", cx), "http", "ingress", "envoy_http_conn_manager_prefix"),
		tagged(counter("http.downstream_cx_total", s.sc.downstreamCx), "http", "ingress", "envoy_http_conn_manager_prefix"),
		tagged(gauge("http.downstream_cx_active", 0), "http", "egress", "envoy_http_conn_manager_prefix"),
		tagged(gauge("listener.downstream_cx_active", cx), "listener", inboundListener, "envoy_listener_address"),
		tagged(gauge("listener.downstream_cx_active", 0), "listener", outboundListener, "envoy_listener_address"),
		// Envoy's listener-address tag extractor does not match "admin", so this one keeps
		// its full name in Prometheus form too. It counts the admin request being served.
		gauge("listener.admin.downstream_cx_active", inflight),
		counter("listener_manager.listener_added", listenerCount),
		counter("listener_manager.listener_create_failure", failed),
		counter("listener_manager.listener_create_success", listenerCount),
		counter("listener_manager.listener_stopped", uint64(drained)),
		counter("listener_manager.lds.update_attempt", 1+failed),
		counter("listener_manager.lds.update_rejected", failed),
		counter("listener_manager.lds.update_success", 1),
		gauge("listener_manager.total_listeners_active", uint64(listenerCount-drained)),
		gauge("listener_manager.total_listeners_draining", uint64(drained)),
		gauge("listener_manager.total_listeners_warming", 0),
		gauge("listener_manager.workers_started", 1),
		gauge("server.concurrency", uint64(s.concurrency())),
		gauge("server.hot_restart_epoch", uint64(s.opts.restartEpoch)),
		gauge("server.live", live),
		gauge("server.parent_connections", 0),
		gauge("server.state", serverStateValue[state]),
		gauge("server.total_connections", cx),
		gauge("server.uptime", uptime),
	}
	ss := &statSet{stats: stats, histograms: []histogram{
		{name: "server.initialization_time_ms", bounds: defaultBuckets, samples: []float64{12}},
	}}
	if s.sc.statsFile != "" {
		if text, err := readSmallFile(s.sc.statsFile, 16<<20); err == nil {
			ss.mergeStatsText(text)
		}
	}
	return ss
}
