package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/envoyadmin"
)

// envoyLevels are the levels /enableLogging accepts: every level Envoy knows, "warn" (which
// Envoy's -l accepts) included (H3). The reference's 5-character limit rejected warning and
// critical.
var envoyLevels = map[string]bool{
	"trace": true, "debug": true, "info": true, "warn": true, "warning": true,
	"error": true, "critical": true, "off": true,
}

// resetRetry is the wait before retrying a reset that Envoy did not accept.
const resetRetry = 5 * time.Second

// LogLevels owns Envoy's log level as the management API changes it (H3): the baseline
// (ENVOY_LOG_LEVEL, or a permanent change) and a temporary level that is reset to the baseline
// after a timeout. Its methods are safe for concurrent use; Run is
// its one goroutine, which performs the resets.
type LogLevels struct {
	admin      *envoyadmin.Client
	resetAfter time.Duration
	log        hclog.Logger

	// op serialises level changes and resets, so concurrent requests and the reset never
	// interleave their Envoy calls with their bookkeeping.
	op sync.Mutex

	// components are ENVOY_COMPONENT_LOG_LEVEL's overrides in the admin API's form
	// ("upstream:debug,connection:warning"), applied again on top of the baseline whenever
	// the agent sets it, as --component-log-level is for a restarted Envoy; "" for none.
	components string

	mu       sync.Mutex // guards the fields below, which the supervisor also reads
	baseline string
	current  string    // what Envoy was last told (-l at start, or /logging)
	pending  bool      // a temporary level is in force; a reset is due at resetAt
	resetAt  time.Time //
	wake     chan struct{}
}

// NewLogLevels starts from baseline (the validated ENVOY_LOG_LEVEL); a temporary level is
// reset after resetAfter (APPNET_AGENT_LOGGING_RESET_TIMEOUT).
func NewLogLevels(admin *envoyadmin.Client, baseline string, resetAfter time.Duration, log hclog.Logger) *LogLevels {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if resetAfter <= 0 {
		resetAfter = time.Second // the config clamps to ≥ 1 s; never a zero-length timer loop
	}
	return &LogLevels{admin: admin, resetAfter: resetAfter, log: log, baseline: baseline, current: baseline,
		wake: make(chan struct{}, 1)}
}

// Current is the level a (re)started Envoy must get with -l, so a change made through the
// API survives an Envoy restart (H3, supervise.Options.LogLevel).
func (l *LogLevels) Current() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}

// Run resets a temporary level when its time comes, until ctx ends.
func (l *LogLevels) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		l.mu.Lock()
		pending, at := l.pending, l.resetAt
		l.mu.Unlock()
		var due <-chan time.Time
		if pending {
			timer.Reset(time.Until(at))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-due:
			l.reset(ctx)
		}
		timer.Stop()
	}
}

// reset sets Envoy back to the baseline. A restarted Envoy gets the baseline from Current at
// once; Envoy itself is told by POST /logging, retried later if it fails, so a failed reset
// never leaves a temporary level in force for good (as the reference's could).
func (l *LogLevels) reset(ctx context.Context) {
	l.op.Lock()
	defer l.op.Unlock()
	l.mu.Lock()
	if !l.pending || time.Now().Before(l.resetAt) {
		l.mu.Unlock()
		return
	}
	base := l.baseline
	l.current = base
	l.mu.Unlock()

	l.log.Info(fmt.Sprintf("Resetting Envoy logging level to [%s]", base))
	err := l.setBaseline(ctx, base)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			l.log.Error("Resetting Envoy's logging level failed; retrying", "level", base, "retry_in", resetRetry.String(), "error", err)
		}
		l.resetAt = time.Now().Add(resetRetry)
		return
	}
	l.pending = false
}

func (l *LogLevels) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// ServeHTTP is POST /enableLogging?level=L[&permanent=true].
func (l *LogLevels) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.op.Lock()
	defer l.op.Unlock()
	l.mu.Lock()
	pending, baseline := l.pending, l.baseline
	l.mu.Unlock()
	if pending {
		// The reference answers 304 to everything while a temporary level is in force,
		// before looking at the request; clients rely on that to not stack changes.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method != http.MethodPost {
		textError(w, http.StatusBadRequest, "Only POST requests are supported")
		return
	}
	if r.ContentLength != 0 { // > 0, or -1 for a chunked body
		textError(w, http.StatusBadRequest, "Invalid request")
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		textError(w, http.StatusBadRequest, "Invalid request")
		return
	}
	permanent := ""
	if v, ok := q["permanent"]; ok {
		permanent = v[0]
	}
	wantKeys := 1
	if permanent != "" {
		wantKeys = 2
	}
	level := strings.ToLower(q.Get("level"))
	if len(q) != wantKeys || level == "" {
		textError(w, http.StatusBadRequest, "Invalid request")
		return
	}
	if !envoyLevels[level] {
		textError(w, http.StatusBadRequest, "Invalid log level specified")
		return
	}
	if sameLevel(level, baseline) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	// Not the request's context: once Envoy is asked, the bookkeeping must follow even if
	// the client hangs up.
	ctx := context.WithoutCancel(r.Context())
	if err := l.admin.SetLogLevel(ctx, level); err != nil {
		l.log.Error("Setting Envoy's logging level failed", "level", level, "error", err)
		textError(w, http.StatusInternalServerError, fmt.Sprintf("Unable to set logging level to [%s]", level))
		return
	}
	if permanent == "true" && l.components != "" {
		// A new baseline keeps the configured component overrides, as a restart would.
		if err := l.admin.SetComponentLevels(ctx, l.components); err != nil {
			l.log.Warn("Envoy did not take ENVOY_COMPONENT_LOG_LEVEL's levels again after the change", "error", err)
		}
	}
	l.mu.Lock()
	l.current = level
	if permanent == "true" {
		l.baseline = level
	} else {
		l.pending = true
		l.resetAt = time.Now().Add(l.resetAfter)
	}
	l.mu.Unlock()
	l.poke()
	if permanent == "true" {
		l.log.Info("Envoy logging level changed permanently", "from", baseline, "to", level)
	} else {
		l.log.Info("Envoy logging level changed temporarily", "from", baseline, "to", level, "reset_after", l.resetAfter.String())
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "Setting logging level from [%s] to [%s]\n", baseline, level)
}

// SetComponents records ENVOY_COMPONENT_LOG_LEVEL, which every reset to the baseline (and a
// permanent change) applies again on top of it. Call it before Run.
func (l *LogLevels) SetComponents(c env.ComponentLogLevels) {
	pairs := make([]string, len(c))
	for i, cl := range c {
		pairs[i] = cl.Component + ":" + adminLevelName(cl.Level)
	}
	l.components = strings.Join(pairs, ",")
}

// setBaseline tells Envoy the baseline level, then the component overrides on top of it.
func (l *LogLevels) setBaseline(ctx context.Context, level string) error {
	if err := l.admin.SetLogLevel(ctx, level); err != nil {
		return err
	}
	if l.components == "" {
		return nil
	}
	return l.admin.SetComponentLevels(ctx, l.components)
}

// sameLevel treats warn and warning as one level.
func sameLevel(a, b string) bool { return adminLevelName(a) == adminLevelName(b) }

// adminLevelName is a level as Envoy's admin API names it: warn is warning there.
func adminLevelName(s string) string {
	if s == "warn" {
		return "warning"
	}
	return s
}
