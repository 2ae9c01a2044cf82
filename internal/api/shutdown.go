package api

import (
	"fmt"
	"net/http"

	"github.com/hashicorp/go-hclog"
)

// Paths of the shutdown endpoint: /quitquitquit is Istio's (and Envoy's own admin) name for it.
const (
	PathShutdown = "/shutdown"
	PathQuit     = "/quitquitquit"
)

// shutdownLimit is the shutdown endpoint's budget: one request does the work, the rest only
// learn that it is under way.
var shutdownLimit = limit{perSecond: 10, burst: 20}

// shutdownHandler serves POST /shutdown and POST /quitquitquit: the graceful shutdown a
// SIGTERM starts (drain, wait for the application where the task is known, stop Envoy), after
// which the agent exits 0 once Envoy has stopped. For jobs, whose main container ends with
// it (or with `appnet-agent wait -- CMD`). Repeating it changes nothing.
type shutdownHandler struct {
	// request starts the shutdown with a cause for the log; false when one was requested
	// already. Nil: the agent cannot be shut down this way (a service used on its own).
	request func(cause string) bool
	log     hclog.Logger
}

func (h *shutdownHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		textError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Invalid method [%s] in request; %s takes POST", r.Method, r.URL.Path))
		return
	}
	if r.ContentLength != 0 {
		textError(w, http.StatusBadRequest, fmt.Sprintf("Unexpected content in request. Body size [%d]", r.ContentLength))
		return
	}
	if h.request == nil {
		textError(w, http.StatusServiceUnavailable, "this agent cannot be shut down through its API")
		return
	}
	msg := "OK: the graceful shutdown is under way already\n"
	if h.request("POST " + r.URL.Path) {
		h.log.Info("Shutdown requested through the management API", "path", r.URL.Path)
		msg = "OK: graceful shutdown started; the agent exits once Envoy has stopped\n"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(msg))
}
