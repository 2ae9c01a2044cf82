package api

import (
	"context"
	"io"
	"net"
	"net/http"
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
	// BootstrapErrors and BootstrapValidationWarnings count what the validator found in the
	// bootstrap Envoy runs with: errors (only with APPNET_VALIDATION=warn, else Envoy would not
	// start) and warnings (appnet_agent_bootstrap_problems; /status bootstrapProblems).
	BootstrapErrors, BootstrapValidationWarnings int
	// RequestShutdown starts the agent's graceful shutdown for POST /shutdown (and
	// /quitquitquit), with a cause for the log; false when one was requested already
	// (supervise.Supervisor.RequestShutdown). Nil: those endpoints answer 503.
	RequestShutdown func(cause string) bool
	// RedactConfigDump copies Envoy's config dump JSON from r to w with its secrets redacted
	// (configdump.Redact, or a process that runs it: the long-lived process does not link the
	// Envoy API's descriptors that redaction reads). Nil: /envoy/config_dump answers 503.
	RedactConfigDump func(r io.Reader, w io.Writer) error
	// Listeners, when set, are the listeners Bind bound already (here, or in the process that
	// exec'ed this one: ListenersFromFiles); Listen then serves them instead of binding.
	Listeners Listeners
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
	problems          bootstrapProblems
	requests          requestCounts
	outputs           []*logging.Stream

	// main is the management API's listener (APPNET_AGENT_ADMIN_MODE), scrape the read-only
	// one (APPNET_AGENT_SCRAPE_PORT); nil when not configured.
	main, scrape *apiListener

	mu      sync.Mutex
	network string // "tcp" or "unix" once Listen bound the management API
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
		problems: bootstrapProblems{errors: o.BootstrapErrors, warnings: o.BootstrapValidationWarnings},
		lastSup:  supervise.Snapshot{RestartsLeft: c.Agent.RestartCount}} // until the supervisor first reports
	s.health = NewHealth(HealthOptions{
		Admin: hcAdmin, Interval: c.API.HCPollInterval, DisconnectedTimeout: c.API.HCDisconnected,
		Relay: c.Mode.RelayMode, AgentStarted: o.AgentStarted, Logger: log.Named("health"),
		HolderIn: o.Admin.Target().HolderIn, BootstrapProblems: o.BootstrapErrors + o.BootstrapValidationWarnings,
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
	proxyAdmin := o.Admin.With(proxyTimeout, statsAttempts)
	s.handler = routes(endpoints{status: statusHandler{s.health}, metrics: metricsHandler{s}, stats: stats, logging: s.levels,
		drain: &drainHandler{admin: mutAdmin, log: log}, shutdown: &shutdownHandler{request: o.RequestShutdown, log: log},
		ready: readyHandler{s.health}, live: liveHandler{s},
		envoy: newEnvoyProxy(proxyAdmin, o.RedactConfigDump, log)}, s.localClient, c.API.AllowRemoteAdmin, &s.requests, log)
	bindMain, bindScrape := binders(c)
	if bindMain != nil {
		s.main = &apiListener{name: "management API server", handler: s.handler, log: log, bind: bindMain, ln: o.Listeners.Main}
	}
	if bindScrape != nil {
		s.scrape = &apiListener{name: "scrape listener", handler: readOnly(onScrapeListener(s.handler)), log: log, bind: bindScrape, ln: o.Listeners.Scrape}
	}
	return s
}

// Handler is the management API's HTTP handler (for tests and embedding).
func (s *Service) Handler() http.Handler { return s.handler }

// Health is the poller behind /status.
func (s *Service) Health() *Health { return s.health }

// Listen binds the management API when APPNET_AGENT_ADMIN_MODE is set: TCP on
// APPNET_AGENT_HTTP_BIND_ADDRESS:APPNET_AGENT_HTTP_PORT, or the Unix socket
// APPNET_AGENT_ADMIN_UDS_PATH (mode 0600); and the read-only scrape listener when
// APPNET_AGENT_SCRAPE_PORT is set. Call it before starting Envoy, so a port in use stops the
// agent (exit 1) before anything runs.
func (s *Service) Listen() error {
	l := Listeners{Main: s.main.given(), Scrape: s.scrape.given()}
	if l == (Listeners{}) { // none handed over (Options.Listeners): bind them here
		var err error
		if l, err = Bind(s.cfg, s.log); err != nil {
			return err
		}
	}
	s.main.use(l.Main)
	s.scrape.use(l.Scrape)
	if l.Main != nil {
		s.mu.Lock()
		s.network = l.Main.Addr().Network()
		s.mu.Unlock()
	}
	return nil
}

// Addr is where the management API listens (nil when it does not).
func (s *Service) Addr() net.Addr { return s.main.address() }

// ScrapeAddr is where the read-only scrape listener listens (nil when it does not).
func (s *Service) ScrapeAddr() net.Addr { return s.scrape.address() }

// localClient decides who may use the mutating endpoints, and which scrapes are local: on the
// management API everyone on the Unix socket (its mode restricts it to the agent's user) and
// loopback peers on TCP; on the scrape listener loopback peers.
func (s *Service) localClient(r *http.Request) bool {
	s.mu.Lock()
	network := s.network
	s.mu.Unlock()
	if network == "unix" && !fromScrapeListener(r) {
		return true
	}
	return loopbackClient(r.RemoteAddr)
}

// Parts are the service's long-running parts: the health poller, the log-level resets, the
// snapshotter (ENABLE_STATS_SNAPSHOT) and the servers of the listeners Listen bound. The
// agent runs them with its other parts in one lifecycle group (internal/cli/run.go), which
// logs and restarts one that fails or panics, with back-off; none ever affects Envoy. Each
// returns when its context ends; a server then shuts down and closes its listener.
func (s *Service) Parts() []lifecycle.Part {
	parts := []lifecycle.Part{
		{Name: "health poller", Run: func(ctx context.Context) error { s.health.Run(ctx); return nil }},
		{Name: "log-level reset", Run: func(ctx context.Context) error { s.levels.Run(ctx); return nil }},
	}
	if s.snaps != nil {
		parts = append(parts, lifecycle.Part{Name: "stats snapshotter", Run: func(ctx context.Context) error { s.snaps.Run(ctx); return nil }})
	}
	for _, l := range []*apiListener{s.main, s.scrape} {
		if l.address() != nil {
			parts = append(parts, lifecycle.Part{Name: l.name, Run: l.serve})
		}
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

// Stop ends the servers (in-flight requests get up to 2 s) and every part Start began, and
// waits for them; without Start, it closes the listeners Listen bound, if no part serves
// them any more. Safe to call more than once.
func (s *Service) Stop() {
	s.stopOnce.Do(func() {
		s.startOnce.Do(func() {}) // a later Start starts nothing
		s.mu.Lock()
		g := s.parts
		s.mu.Unlock()
		if g != nil {
			g.Stop()
			return
		}
		s.main.close() // bound but never served
		s.scrape.close()
	})
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
