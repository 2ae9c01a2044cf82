package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/envoyadmin"
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

	ln  net.Listener // nil until Listen, and without APPNET_AGENT_ADMIN_MODE
	srv *http.Server

	mu        sync.Mutex
	lastSup   supervise.Snapshot
	cancel    context.CancelFunc
	wg        sync.WaitGroup
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

	s := &Service{cfg: c, log: log}
	s.health = NewHealth(HealthOptions{
		Admin: hcAdmin, Interval: c.API.HCPollInterval, DisconnectedTimeout: c.API.HCDisconnected,
		Relay: c.Mode.RelayMode, AgentStarted: o.AgentStarted, Logger: log.Named("health"),
	})
	s.levels = NewLogLevels(mutAdmin, c.Agent.LogLevel, c.API.LoggingReset, log)
	if c.API.StatsSnapshot {
		fetch := func(ctx context.Context) ([]*dto.MetricFamily, error) {
			var fams []*dto.MetricFamily
			err := fetchFamilies(ctx, statsAdmin, true, func(mf *dto.MetricFamily) error {
				fams = append(fams, mf)
				return nil
			})
			return fams, err
		}
		s.snaps = NewSnapshotter(fetch, o.SnapshotPeriod, nil, log)
	}
	stats := &statsHandler{admin: statsAdmin, snaps: s.snaps, log: log}
	s.handler = routes(statusHandler{s.health}, stats, s.levels, &drainHandler{admin: mutAdmin, log: log},
		s.localClient, c.API.AllowRemoteAdmin, log)
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
	mode := s.cfg.API.AdminMode
	if mode == nil {
		return nil
	}
	var err error
	if *mode == "uds" {
		s.ln, err = listenUnix(string(s.cfg.API.AdminUDSPath))
	} else {
		s.ln, err = listenTCP(string(s.cfg.API.HTTPBindAddress), s.cfg.API.HTTPPort)
	}
	if err != nil {
		return err
	}
	s.srv = newHTTPServer(s.handler, s.log)
	s.log.Info("Server started, " + s.ln.Addr().String())
	return nil
}

// Addr is where the management API listens (nil when it does not).
func (s *Service) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// localClient decides who may use the mutating endpoints: everyone on the Unix socket
// (its mode restricts it to the agent's user), loopback peers on TCP.
func (s *Service) localClient(r *http.Request) bool {
	if s.ln != nil && s.ln.Addr().Network() == "unix" {
		return true
	}
	return loopbackClient(r.RemoteAddr)
}

// Start runs the health poller, the log-level resets, the snapshotter and the server (when
// Listen bound one), each in its own goroutine, until Stop.
func (s *Service) Start() {
	s.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.mu.Lock()
		s.cancel = cancel
		s.mu.Unlock()
		s.wg.Go(func() { s.health.Run(ctx) })
		s.wg.Go(func() { s.levels.Run(ctx) })
		if s.snaps != nil {
			s.wg.Go(func() { s.snaps.Run(ctx) })
		}
		if s.srv != nil {
			s.wg.Go(func() {
				if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					s.log.Error("Management API server stopped", "error", err)
				}
			})
		}
	})
}

// Stop ends the server (in-flight requests get up to 2 s) and every goroutine Start began,
// and waits for them. Safe to call more than once, and without Start.
func (s *Service) Stop() {
	s.stopOnce.Do(func() {
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := s.srv.Shutdown(ctx); err != nil {
				_ = s.srv.Close()
			}
			cancel()
		} else if s.ln != nil {
			_ = s.ln.Close()
		}
		s.mu.Lock()
		cancel := s.cancel
		s.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		s.wg.Wait()
		if s.srv != nil && s.ln != nil {
			_ = s.ln.Close() // Shutdown closed it; this removes a Unix socket file if still there
		}
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
