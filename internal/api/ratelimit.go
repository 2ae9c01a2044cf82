package api

import (
	"net/http"

	"golang.org/x/time/rate"
)

// limit is one endpoint's budget. Each endpoint has its own (H2): the reference shared one
// 10/s bucket among all four, so scrapes and probes starved /status of health checkers
// (B25).
type limit struct {
	perSecond rate.Limit
	burst     int
	// inflight, when > 0, also bounds concurrent requests: a stats dump holds memory in
	// proportion to Envoy's body while it runs.
	inflight int
}

// Budgets per endpoint. /status is served from memory in microseconds; its limit only stops
// a runaway client from eating a core. The others call Envoy's single-threaded admin API.
var (
	statusLimit  = limit{perSecond: 1000, burst: 1000}
	metricsLimit = statusLimit // /metrics is built from memory too, and open like /status
	statsLimit   = limit{perSecond: 10, burst: 20, inflight: 4}
	loggingLimit = limit{perSecond: 10, burst: 20}
	drainLimit   = limit{perSecond: 10, burst: 20}
)

// limited wraps h with the budget l: 429 "Too Many Requests" once it is spent, as in the
// reference.
func limited(l limit, h http.Handler) http.Handler {
	lim := rate.NewLimiter(l.perSecond, l.burst)
	var slots chan struct{}
	if l.inflight > 0 {
		slots = make(chan struct{}, l.inflight)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !lim.Allow() {
			tooMany(w)
			return
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			default:
				tooMany(w)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func tooMany(w http.ResponseWriter) {
	http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
}
