package api

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/configdump"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// testConfig is the part of the configuration the in-process tests vary.
type testConfig struct {
	adminMode    string // "" (no server), "tcp" (127.0.0.1, a free port) or "uds"
	udsPath      string
	relay        bool
	snapshot     bool
	allowRemote  bool
	loggingReset time.Duration
	hcInterval   time.Duration
	disconnected time.Duration
	logLevel     string
	components   env.ComponentLogLevels
	scrape       bool // open the scrape listener on 127.0.0.1, a free port
}

func (c testConfig) env() *env.Config {
	cfg := &env.Config{}
	cfg.Mode.RelayMode = c.relay
	cfg.Agent.LogLevel = "info"
	cfg.Agent.ComponentLevels = c.components
	if c.logLevel != "" {
		cfg.Agent.LogLevel = c.logLevel
	}
	cfg.API.HCPollInterval = 2 * time.Second
	if c.hcInterval > 0 {
		cfg.API.HCPollInterval = c.hcInterval
	}
	cfg.API.HCDisconnected = time.Hour
	if c.disconnected > 0 {
		cfg.API.HCDisconnected = c.disconnected
	}
	if c.adminMode != "" {
		m := c.adminMode
		cfg.API.AdminMode = &m
	}
	cfg.API.HTTPBindAddress = "127.0.0.1"
	cfg.API.HTTPPort = 0
	cfg.API.AdminUDSPath = env.SocketPath(c.udsPath)
	cfg.API.AllowRemoteAdmin = c.allowRemote
	cfg.API.LoggingReset = 300 * time.Second
	if c.loggingReset > 0 {
		cfg.API.LoggingReset = c.loggingReset
	}
	cfg.API.StatsSnapshot = c.snapshot
	if c.scrape {
		var any uint16
		cfg.API.ScrapePort, cfg.API.ScrapeBindAddress = &any, "127.0.0.1"
	}
	return cfg
}

// adminFor is an Envoy admin client for a fake Envoy, with short backoffs.
func adminFor(tb testing.TB, envoy *httptest.Server) *envoyadmin.Client {
	tb.Helper()
	_, port, _ := net.SplitHostPort(envoy.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	c := envoyadmin.New(envoyadmin.TCP(uint16(p)))
	c.BackoffMin, c.BackoffMax = time.Millisecond, 4*time.Millisecond
	tb.Cleanup(c.Close)
	return c
}

// newTestService runs a Service against a fake Envoy until the test ends.
func newTestService(tb testing.TB, envoy *httptest.Server, mod func(*testConfig)) *Service {
	tb.Helper()
	var c testConfig
	if mod != nil {
		mod(&c)
	}
	svc := New(Options{Config: c.env(), Admin: adminFor(tb, envoy), Logger: hclog.NewNullLogger(), RedactConfigDump: configdump.Redact})
	if err := svc.Listen(); err != nil {
		tb.Fatal(err)
	}
	svc.Start()
	tb.Cleanup(svc.Stop)
	return svc
}

// logBuffer is an hclog logger whose output tests can read.
type logBuffer struct{ testenv.SafeBuffer }

func (l *logBuffer) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: l, Level: hclog.Trace})
}

// fakeEnvoy is a scriptable Envoy admin API for in-process tests.
type fakeEnvoy struct {
	mu              sync.Mutex
	readyBody       string // "" → "LIVE\n"
	readyCode       int    // 0 → 200 for LIVE, 503 otherwise
	connected       int    // control_plane.connected_state; -1 omits it
	listenerFailure int
	status          map[string]int           // path → forced status
	delay           map[string]time.Duration // path → delay
	garbage         bool
	prom            []byte
	calls           []string          // "METHOD /path?query"
	pages           map[string]string // path → body, for other GET paths
	srv             *httptest.Server
}

func newFakeEnvoy(tb testing.TB) *fakeEnvoy {
	tb.Helper()
	f := &fakeEnvoy{connected: 1, status: map[string]int{}, delay: map[string]time.Duration{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEnvoy) set(fn func(f *fakeEnvoy)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeEnvoy) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeEnvoy) count(prefix string) int {
	n := 0
	for _, c := range f.callList() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeEnvoy) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	readyBody, readyCode, connected, failure := f.readyBody, f.readyCode, f.connected, f.listenerFailure
	code, forced := f.status[r.URL.Path]
	delay, garbage, prom := f.delay[r.URL.Path], f.garbage, f.prom
	page, isPage := f.pages[r.URL.Path]
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if forced {
		http.Error(w, "forced", code)
		return
	}
	if garbage {
		_, _ = io.WriteString(w, "\x00garbage{{ not json ]]\n")
		return
	}
	switch r.URL.Path {
	case "/ready":
		if readyBody == "" {
			readyBody = "LIVE\n"
		}
		if readyCode == 0 {
			readyCode = http.StatusServiceUnavailable
			if strings.TrimSpace(readyBody) == "LIVE" {
				readyCode = http.StatusOK
			}
		}
		w.WriteHeader(readyCode)
		_, _ = io.WriteString(w, readyBody)
	case "/stats":
		if r.URL.Query().Get("format") == "prometheus" {
			_, _ = w.Write(prom)
			return
		}
		var stats []string
		if connected >= 0 {
			stats = append(stats, fmt.Sprintf(`{"name":"control_plane.connected_state","value":%d}`, connected))
		}
		stats = append(stats, fmt.Sprintf(`{"name":"listener_manager.listener_create_failure","value":%d}`, failure))
		_, _ = io.WriteString(w, `{"stats":[`+strings.Join(stats, ",")+`]}`)
	case "/logging":
		_, _ = io.WriteString(w, "active loggers:\n  admin: "+r.URL.Query().Get("level")+"\n")
	default:
		if isPage {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, page)
			return
		}
		_, _ = io.WriteString(w, "OK\n")
	}
}

// waitFor polls cond every 5 ms until it holds or timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
