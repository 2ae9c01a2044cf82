package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv/record"
)

// adminHandler is one admin endpoint. mutating endpoints answer 405 to anything but POST,
// as Envoy does.
type adminHandler struct {
	help     string
	mutating bool
	serve    func(s *standin, w http.ResponseWriter, r *http.Request)
}

var adminHandlers map[string]adminHandler

func init() {
	// Assigned in init because the handlers refer back to the table (the 404 help text).
	adminHandlers = map[string]adminHandler{
		"/ready":               {help: "print server state, return 200 if LIVE, otherwise return 503", serve: (*standin).serveReady},
		"/server_info":         {help: "print server version/status information", serve: (*standin).serveServerInfo},
		"/stats":               {help: "print server stats", serve: (*standin).serveStats},
		"/stats/prometheus":    {help: "print server stats in prometheus format", serve: (*standin).servePrometheus},
		"/logging":             {help: "query/change logging levels", mutating: true, serve: (*standin).serveLogging},
		"/drain_listeners":     {help: "drain listeners", mutating: true, serve: (*standin).serveDrain},
		"/healthcheck/fail":    {help: "cause the server to fail health checks", mutating: true, serve: (*standin).serveHCFail},
		"/healthcheck/ok":      {help: "cause the server to pass health checks", mutating: true, serve: (*standin).serveHCOK},
		"/quitquitquit":        {help: "exit the server", mutating: true, serve: (*standin).serveQuit},
		"/reopen_logs":         {help: "reopen access logs", mutating: true, serve: (*standin).serveOK},
		"/reset_counters":      {help: "reset all counters to zero", mutating: true, serve: (*standin).serveOK},
		"/runtime_modify":      {help: "modify runtime values", mutating: true, serve: (*standin).serveOK},
		"/cpuprofiler":         {help: "enable/disable the CPU profiler", mutating: true, serve: (*standin).serveOK},
		"/heapprofiler":        {help: "enable/disable the heap profiler", mutating: true, serve: (*standin).serveOK},
		"/memory":              {help: "print current allocation/heap usage", serve: (*standin).serveMemory},
		"/config_dump":         {help: "dump current Envoy configs (experimental)", serve: (*standin).serveConfigDump},
		"/clusters":            {help: "upstream cluster status", serve: (*standin).serveClusters},
		"/listeners":           {help: "print listener info", serve: (*standin).serveListeners},
		"/runtime":             {help: "print runtime values", serve: (*standin).serveRuntime},
		"/hot_restart_version": {help: "print the hot restart compatibility version", serve: (*standin).serveHotRestartVersion},
	}
}

// listenAdmin binds the admin address from the bootstrap. Envoy replaces an existing pipe
// file and applies the pipe's mode before serving; so does the stand-in.
func listenAdmin(b *bootstrapInfo) (net.Listener, error) {
	if b.adminNetwork == "unix" {
		if !strings.HasPrefix(b.adminAddress, "@") {
			_ = os.Remove(b.adminAddress)
		}
		ln, err := net.Listen("unix", b.adminAddress)
		if err != nil {
			return nil, err
		}
		// Leave the socket file behind on exit as Envoy does; supervisors stat it.
		if ul, ok := ln.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false)
		}
		if !strings.HasPrefix(b.adminAddress, "@") {
			if err := os.Chmod(b.adminAddress, b.pipeMode); err != nil {
				ln.Close()
				return nil, err
			}
		}
		return ln, nil
	}
	ln, err := net.Listen(b.listenNet, b.adminAddress)
	if err != nil && b.listenNet == "tcp" {
		// Dual stack on a host without IPv6: IPv4 any-address is the closest behaviour.
		host, port, _ := net.SplitHostPort(b.adminAddress)
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			if ln4, err4 := net.Listen("tcp4", "0.0.0.0:"+port); err4 == nil {
				return ln4, nil
			}
		}
	}
	return ln, err
}

func (s *standin) serveAdmin(ln net.Listener) {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// net/http's own complaints (client hang-ups mid-body) are not Envoy log lines.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	_ = srv.Serve(ln)
}

func writeText(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/plain; charset=UTF-8")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache, max-age=0")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// ServeHTTP applies the script (record, delay, forced status, garbage) and then dispatches.
func (s *standin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.adminTotal.Add(1)
	path := r.URL.Path
	if !s.sc.recordSkip[path] {
		transport := "tcp"
		if s.boot.adminNetwork == "unix" {
			transport = "unix"
		}
		s.rec.write(record.Event{Event: "admin",
			Method: r.Method, Path: path, Query: r.URL.RawQuery, Host: r.Host,
			UserAgent: r.UserAgent(), Connection: r.Header.Get("Connection"),
			ContentLength: r.ContentLength, Transport: transport,
		})
	}
	s.log.logf("admin", "debug", "request %s %s", r.Method, r.URL.RequestURI())
	delay := s.sc.delay
	if d, ok := s.sc.delayPaths[path]; ok {
		delay = d
	}
	if delay > 0 && !sleepCtx(r.Context(), delay) {
		return // the client gave up; there is nobody to answer
	}
	if code, ok := s.sc.statusPaths[path]; ok {
		writeText(w, code, fmt.Sprintf("envoy-standin: status %d forced by STANDIN_STATUS_PATHS\n", code))
		return
	}
	if s.sc.garbageAll || s.sc.garbagePaths[path] {
		w.Header().Set("Content-Type", "application/json")
		writeText(w, http.StatusOK, "\x00garbage{{ not json, says envoy-standin ]]\n")
		return
	}
	if s.sc.resetPaths[path] {
		resetConnection(w)
		return
	}
	if n, ok := s.sc.hugePaths[path]; ok {
		serveFiller(w, r, n)
		return
	}
	if d, ok := s.sc.dripPaths[path]; ok {
		serveDrip(w, r, d, s.sc.dripStall)
		return
	}
	h, ok := adminHandlers[path]
	if !ok {
		writeText(w, http.StatusNotFound, adminHelp())
		return
	}
	if h.mutating && r.Method != http.MethodPost {
		s.log.logf("admin", "error", "admin path %q mutates state, method=%s rather than POST", path, r.Method)
		writeText(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s not allowed, POST required.", r.Method))
		return
	}
	h.serve(s, w, r)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func adminHelp() string {
	paths := make([]string, 0, len(adminHandlers))
	for p := range adminHandlers {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	b.WriteString("invalid path. admin commands are:\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "  %s: %s\n", p, adminHandlers[p].help)
	}
	return b.String()
}

func (s *standin) serveReady(w http.ResponseWriter, _ *http.Request) {
	state := s.readyState()
	code := http.StatusServiceUnavailable
	if state == "LIVE" {
		code = http.StatusOK
	}
	body := state + "\n"
	if s.sc.readyBodySet {
		body = s.sc.readyBody
	}
	writeText(w, code, body)
}

// parseStatsQuery reads filter, usedonly and type. Go's regexp is RE2, the same engine
// Envoy uses, so filters behave the same. A non-empty message means 400.
func parseStatsQuery(q url.Values) (statsQuery, string) {
	var sq statsQuery
	_, sq.usedOnly = q["usedonly"]
	if f := q.Get("filter"); f != "" {
		re, err := regexp.Compile(f)
		if err != nil {
			return sq, "Invalid re2 regex"
		}
		sq.filter = re
	}
	sq.kind = strings.ToLower(q.Get("type"))
	switch sq.kind {
	case "", "all", "counters", "gauges", "histograms", "textreadouts":
	default:
		return sq, "invalid type: " + q.Get("type")
	}
	return sq, ""
}

func (s *standin) serveStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sq, msg := parseStatsQuery(q)
	if msg != "" {
		writeText(w, http.StatusBadRequest, msg)
		return
	}
	switch q.Get("format") {
	case "", "text":
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_ = streamOK(w, func(out io.Writer) error { return renderText(out, s.buildStats(), sq) })
	case "json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_ = streamOK(w, func(out io.Writer) error { return renderJSON(out, s.buildStats(), sq) })
	case "prometheus":
		s.servePrometheus(w, r)
	default:
		writeText(w, http.StatusNotFound, "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n")
	}
}

// streamOK streams a rendered body with status 200.
func streamOK(w http.ResponseWriter, render func(io.Writer) error) error {
	w.Header().Set("Cache-Control", "no-cache, max-age=0")
	w.WriteHeader(http.StatusOK)
	return render(w)
}
