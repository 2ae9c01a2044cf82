package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/appnet/appnet-agent/internal/promtext"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/appnet/appnet-agent/internal/lifecycle"
	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/supervise"
)

// Envoy admin call budgets, per use (H7). Health polls are not retried: a poll wants the
// state now, and the next poll is soon. Mutations are retried like the reference's (four
// attempts), with a longer per-attempt timeout because Envoy's admin is single-threaded and
// may be busy with a stats dump. Stats dumps get the reference's 5 s, tried twice so a
// scrape (usually 10 s timeout) still gets an answer.
const (
	healthTimeout   = 2 * time.Second
	healthMaxBody   = 1 << 20
	mutateTimeout   = time.Second
	mutateAttempts  = 4
	statsTimeout    = 5 * time.Second
	statsAttempts   = 2
	shutdownTimeout = 2 * time.Second
)

// Options configure a Service.
type Options struct {
	// Config is the validated configuration: API, Agent.LogLevel, Mode.RelayMode are read.
	Config *env.Config
	// Admin is the Envoy admin client; the Service derives per-use clients from it.
	Admin *envoyadmin.Client
	// Logger receives the service's lines (nil: discarded).
	Logger hclog.Logger
	// AgentStarted is the base of agentUptime (zero: now).
	AgentStarted time.Time
	// SnapshotPeriod is the stats snapshot period (zero: DefaultSnapshotPeriod).
	SnapshotPeriod time.Duration
	// Build is what appnet_agent_build_info reports.
	Build BuildInfo
	// BootstrapWarnings is how many warnings making the bootstrap gave
	// (appnet_agent_bootstrap_warnings).
	BootstrapWarnings int
	// Outputs are the agent's guarded standard streams, whose lost lines
	// appnet_agent_output_lines_lost_total counts.
	Outputs []*logging.Stream
}

// Service is the agent's management side: the health poller, the log-level keeper, the
// stats snapshotter (ENABLE_STATS_SNAPSHOT) and, when APPNET_AGENT_ADMIN_MODE is set, the
// management HTTP server. Life cycle: New, Listen, Start, then Stop (which ends every
// goroutine Start began). The supervisor feeds it through EnvoyChanged and asks it for
// EnvoyLogLevel.
type Service struct {
	cfg *env.Config
	log hclog.Logger

	health  *Health
	levels  *LogLevels
	snaps   *Snapshotter // nil unless ENABLE_STATS_SNAPSHOT
	handler http.Handler

	// For /metrics.
	build             BuildInfo
	started           time.Time
	bootstrapWarnings int
	requests          requestCounts
	outputs           []*logging.Stream

	mu      sync.Mutex
	ln      net.Listener // the bound listener; nil without APPNET_AGENT_ADMIN_MODE, or after it failed
	network string       // "tcp" or "unix" once Listen bound one
	addr    net.Addr     // where the API listens (kept across re-binds)
	lastSup supervise.Snapshot
	parts   *lifecycle.Group

	startOnce sync.Once
	stopOnce  sync.Once
}

// New builds the service; nothing runs and nothing listens yet.
func New(o Options) *Service {
	log := o.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if o.AgentStarted.IsZero() {
		o.AgentStarted = time.Now()
	}
	c := o.Config
	hcAdmin := o.Admin.With(healthTimeout, 1)
	hcAdmin.MaxBody = healthMaxBody
	mutAdmin := o.Admin.With(mutateTimeout, mutateAttempts)
	statsAdmin := o.Admin.With(statsTimeout, statsAttempts)

	s := &Service{cfg: c, log: log, build: o.Build, started: o.AgentStarted, bootstrapWarnings: o.BootstrapWarnings, outputs: o.Outputs,
		lastSup: supervise.Snapshot{RestartsLeft: c.Agent.RestartCount}} // until the supervisor first reports
	s.health = NewHealth(HealthOptions{
		Admin: hcAdmin, Interval: c.API.HCPollInterval, DisconnectedTimeout: c.API.HCDisconnected,
		Relay: c.Mode.RelayMode, AgentStarted: o.AgentStarted, Logger: log.Named("health"),
		HolderIn: o.Admin.Target().HolderIn,
	})
	s.levels = NewLogLevels(mutAdmin, c.Agent.LogLevel, c.API.LoggingReset, log)
	s.levels.SetComponents(c.Agent.ComponentLevels)
	if c.API.StatsSnapshot {
		fetch := func(ctx context.Context) (*promtext.Exposition, error) {
			return fetchFiltered(ctx, statsAdmin, true, statsDecision)
		}
		s.snaps = NewSnapshotter(fetch, o.SnapshotPeriod, nil, log)
	}
	stats := newStatsHandler(statsAdmin, s.snaps, log)
	if c.API.MetricsInStats {
		stats.agentMetrics = s.agentMetrics
	}
	s.handler = routes(endpoints{status: statusHandler{s.health}, metrics: metricsHandler{s}, stats: stats, logging: s.levels,
		drain: &drainHandler{admin: mutAdmin, log: log}}, s.localClient, c.API.AllowRemoteAdmin, &s.requests, log)
	return s
}

// Handler is the management API's HTTP handler (for tests and embedding).
func (s *Service) Handler() http.Handler { return s.handler }

// Health is the poller behind /status.
func (s *Service) Health() *Health { return s.health }

// Listen binds the management API when APPNET_AGENT_ADMIN_MODE is set: TCP on
// APPNET_AGENT_HTTP_BIND_ADDRESS:APPNET_AGENT_HTTP_PORT, or the Unix socket
// APPNET_AGENT_ADMIN_UDS_PATH (mode 0600). Call it before starting Envoy, so a port in use
// stops the agent (exit 1) before anything runs.
func (s *Service) Listen() error {
	if s.cfg.API.AdminMode == nil {
		return nil
	}
	ln, err := s.bind()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ln, s.network, s.addr = ln, ln.Addr().Network(), ln.Addr()
	s.mu.Unlock()
	s.log.Info("Server started, " + ln.Addr().String())
	return nil
}

func (s *Service) bind() (net.Listener, error) {
	if *s.cfg.API.AdminMode == "uds" {
		return listenUnix(string(s.cfg.API.AdminUDSPath))
	}
	return listenTCP(string(s.cfg.API.HTTPBindAddress), s.cfg.API.HTTPPort)
}

// Addr is where the management API listens (nil when it does not).
func (s *Service) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// localClient decides who may use the mutating endpoints: everyone on the Unix socket
// (its mode restricts it to the agent's user), loopback peers on TCP.
func (s *Service) localClient(r *http.Request) bool {
	s.mu.Lock()
	network := s.network
	s.mu.Unlock()
	if network == "unix" {
		return true
	}
	return loopbackClient(r.RemoteAddr)
}

// Parts are the service's long-running parts: the health poller, the log-level resets, the
// snapshotter (ENABLE_STATS_SNAPSHOT) and the management server (when Listen bound one). The
// agent runs them with its other parts in one lifecycle group (internal/cli/run.go), which
// logs and restarts one that fails or panics, with back-off; none ever affects Envoy. Each
// returns when its context ends; the server then shuts down and closes its listener.
func (s *Service) Parts() []lifecycle.Part {
	parts := []lifecycle.Part{
		{Name: "health poller", Run: func(ctx context.Context) error { s.health.Run(ctx); return nil }},
		{Name: "log-level reset", Run: func(ctx context.Context) error { s.levels.Run(ctx); return nil }},
	}
	if s.snaps != nil {
		parts = append(parts, lifecycle.Part{Name: "stats snapshotter", Run: func(ctx context.Context) error { s.snaps.Run(ctx); return nil }})
	}
	if s.Addr() != nil {
		parts = append(parts, lifecycle.Part{Name: "management API server", Run: s.serve})
	}
	return parts
}

// Start runs Parts in a group of the service's own until Stop, for a service used on its
// own (tests, embedding); the agent runs them in its one group instead.
func (s *Service) Start() {
	s.startOnce.Do(func() {
		g := lifecycle.Start(s.log, s.Parts()...)
		s.mu.Lock()
		s.parts = g
		s.mu.Unlock()
	})
}

// Stop ends the server (in-flight requests get up to 2 s) and every part Start began, and
// waits for them; without Start, it closes the listener Listen bound, if no part serves it
// any more. Safe to call more than once.
func (s *Service) Stop() {
	s.stopOnce.Do(func() {
		s.startOnce.Do(func() {}) // a later Start starts nothing
		s.mu.Lock()
		g, ln := s.parts, s.ln
		s.mu.Unlock()
		if g != nil {
			g.Stop()
		} else if ln != nil {
			_ = ln.Close() // bound but never served
		}
	})
}

// socketCheck is how often the server makes sure its Unix socket file is still its own.
const socketCheck = time.Second

// serve is the management server part: it serves the bound listener (binding again after a
// failure) until ctx ends, then shuts the server down. It fails, to be restarted, when
// serving stops on its own or when the Unix socket file was removed or replaced (clients
// could no longer reach the agent; binding again brings it back).
func (s *Service) serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		var err error
		if ln, err = s.bind(); err != nil {
			return err
		}
		s.mu.Lock()
		s.ln = ln
		s.mu.Unlock()
		s.log.Info("Server started again, " + ln.Addr().String())
	}
	srv := newHTTPServer(s.handler, s.log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	lost := watchSocket(wctx, ln)
	var err error
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
		cancel()
		<-served
		_ = ln.Close() // Shutdown closed it; this removes a Unix socket file if still ours
		return nil
	case err = <-served:
		err = fmt.Errorf("serving stopped: %w", err)
	case err = <-lost:
		_ = srv.Close()
		<-served
	}
	_ = ln.Close()
	s.mu.Lock()
	s.ln = nil
	s.mu.Unlock()
	return err
}

// watchSocket reports, for a Unix listener, when its socket file is gone or is another file.
func watchSocket(ctx context.Context, ln net.Listener) <-chan error {
	out := make(chan error, 1)
	ul, ok := ln.(*unixListener)
	if !ok || ul.file == nil {
		return out
	}
	go func() {
		t := time.NewTicker(socketCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if cur, err := os.Lstat(ul.path); err != nil || !os.SameFile(cur, ul.file) {
				out <- fmt.Errorf("the socket file %s was removed or replaced", ul.path)
				return
			}
		}
	}()
	return out
}

// EnvoyChanged is the supervisor's OnChange hook: it updates /status and polls at once on a
// start or exit, and resets the stats snapshot when an Envoy exits or starts. It does not
// block.
func (s *Service) EnvoyChanged(snap supervise.Snapshot) {
	s.mu.Lock()
	prev := s.lastSup
	s.lastSup = snap
	s.mu.Unlock()
	s.health.EnvoyChanged(snap)
	if s.snaps != nil && (snap.Starts != prev.Starts || !snap.LastExit.Equal(prev.LastExit)) {
		s.snaps.Reset()
	}
}

// EnvoyLogLevel is the supervisor's LogLevel hook: the level to give a (re)started Envoy.
func (s *Service) EnvoyLogLevel() string { return s.levels.Current() }
