package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Server limits (H6). The write timeout covers every handler's reply; /stats/prometheus
// replaces it, for its body, with a deadline per write (clientStall), so a large body reaches
// a slow scraper. A request's line and headers together may be at most maxRequestHead bytes.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxRequestHead    = 8 << 10
	socketMode        = 0o600
)

// maxHeaderBytes is what net/http must be given for a limit of maxRequestHead: it allows
// 4096 bytes of buffering slack beyond MaxHeaderBytes.
const maxHeaderBytes = maxRequestHead - 4096

// Paths of the management API.
const (
	PathStatus        = "/status"
	PathStats         = "/stats/prometheus"
	PathEnableLogging = "/enableLogging"
	PathDrain         = "/drain_listeners"
)

// endpoints are the management API's handlers, one per path.
type endpoints struct {
	status, metrics, stats, logging, drain, shutdown http.Handler
	ready, live, envoy                               http.Handler
}

// routes builds the handler: exact paths, any method (each endpoint checks its own, as in
// the reference); unknown paths 404, unclean ones 301 to the clean path. Mutating endpoints
// refuse non-loopback TCP clients unless allowRemote (H6). Every answer is counted in counts.
func routes(e endpoints, local func(*http.Request) bool, allowRemote bool, counts *requestCounts, log hclog.Logger) http.Handler {
	guard := func(h http.Handler) http.Handler {
		if allowRemote {
			return h
		}
		return localOnly(local, h)
	}
	mux := http.NewServeMux()
	mux.Handle(PathStatus, limited(statusLimit, e.status))
	mux.Handle(PathMetrics, limited(metricsLimit, e.metrics))
	mux.Handle(PathStats, newScrapeGate(e.stats, local, statsLimit, log))
	// The origin check comes before the budget, so remote callers cannot spend the local
	// callers' tokens.
	mux.Handle(PathEnableLogging, guard(limited(loggingLimit, e.logging)))
	mux.Handle(PathDrain, guard(limited(drainLimit, e.drain)))
	shutdown := guard(limited(shutdownLimit, e.shutdown)) // one budget for both names
	mux.Handle(PathShutdown, shutdown)
	mux.Handle(PathQuit, shutdown)
	mux.Handle(PathReady, limited(statusLimit, e.ready))
	mux.Handle(PathLive, limited(statusLimit, e.live))
	mux.Handle(PathEnvoyPrefix, limited(proxyLimit, e.envoy))
	return recovering(log, counting(counts, canonical(mux)))
}

// readOnlyPaths are what the scrape listener (APPNET_AGENT_SCRAPE_PORT) serves: everything
// that changes nothing. The list allows rather than forbids, so an endpoint added later is
// refused there until it is added here.
var readOnlyPaths = map[string]bool{PathStatus: true, PathReady: true, PathLive: true, PathMetrics: true, PathStats: true}

// readOnly refuses, with 403, every path of the management API that is not read-only, before
// any other check (method, rate limit); the /envoy/ proxies are read-only by construction.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := cleanPath(r.URL.Path)
		if !readOnlyPaths[p] && !strings.HasPrefix(p, PathEnvoyPrefix) {
			textError(w, http.StatusForbidden, fmt.Sprintf(
				"%s is not served on the read-only listener (APPNET_AGENT_SCRAPE_PORT); it serves %s and %s*",
				r.URL.Path, strings.Join(readOnlyList(), ", "), PathEnvoyPrefix))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func readOnlyList() []string {
	return []string{PathStatus, PathReady, PathLive, PathMetrics, PathStats}
}

// canonical answers a request for an unclean path (//status, /a/../status) with 301 to the
// clean one, as the reference's router did (net/http's mux would say 307).
func canonical(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := cleanPath(r.URL.Path); p != r.URL.Path {
			u := *r.URL
			u.Path, u.RawPath = p, ""
			http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cleanPath is path.Clean keeping a trailing slash, so /status/ stays an unknown path.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// localOnly answers 403 to clients that local rejects.
func localOnly(local func(*http.Request) bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !local(r) {
			textError(w, http.StatusForbidden, fmt.Sprintf(
				"%s is only allowed from loopback clients; set APPNET_AGENT_ALLOW_REMOTE_ADMIN=true to allow remote clients", r.URL.Path))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackClient reports whether a TCP peer address (host:port) is a loopback address
// (127.0.0.0/8, ::1, or an IPv4-mapped loopback).
func loopbackClient(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	host, _, _ = strings.Cut(host, "%") // zone of a link-local address
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// recovering turns a handler panic (a bug; input never causes one) into a 500 and a log
// line instead of net/http's silent connection drop (which the reference's clients got).
// http.ErrAbortHandler, the deliberate way to cut a streamed reply, passes through.
func recovering(log hclog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &writeTracker{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("Management API handler failed", "path", r.URL.Path, "panic", fmt.Sprint(v))
			if !rw.wrote {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			panic(http.ErrAbortHandler)
		}()
		h.ServeHTTP(rw, r)
	})
}

// writeTracker notes whether the status line was sent, and its code.
type writeTracker struct {
	http.ResponseWriter
	wrote bool
	code  int // 0 until the status line is sent
}

func (t *writeTracker) WriteHeader(code int) {
	if !t.wrote && code >= 200 {
		t.wrote, t.code = true, code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *writeTracker) Write(p []byte) (int, error) {
	if !t.wrote {
		t.wrote, t.code = true, http.StatusOK
	}
	return t.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (t *writeTracker) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// newHTTPServer applies the limits of H6.
func newHTTPServer(h http.Handler, log hclog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// net/http's own complaints (bad requests, TLS probes) are debug noise.
		ErrorLog: log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
	}
}

// listenTCP binds the management API's listener (APPNET_AGENT_HTTP_BIND_ADDRESS and
// APPNET_AGENT_HTTP_PORT; host an IP literal without brackets).
func listenTCP(host string, port uint16) (net.Listener, error) {
	return bindTCP(host, port, "APPNET_AGENT_HTTP_BIND_ADDRESS/APPNET_AGENT_HTTP_PORT")
}

// bindTCP binds host:port over plain TCP; vars names the variables that set it, for the error.
// Multipath TCP, Go's default for listeners since 1.24, brings nothing to a management port, and
// its availability probe (an MPTCP socket, and binds on ::1 and ::ffff:127.0.0.1 to learn the IP
// stack) cost the start ~0.3 ms before Envoy's (issue 19).
func bindTCP(host string, port uint16, vars string) (net.Listener, error) {
	addr := net.JoinHostPort(host, fmt.Sprint(port))
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot listen on %s: %w", vars, addr, err)
	}
	return ln, nil
}
