package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/appnet/appnet-agent/internal/supervise"
)

// Probe endpoints (issue 21): status codes for Kubernetes probes and load balancers, which
// read the code and not /status's JSON. Both answer from memory, with a one-line reason.
const (
	PathReady = "/ready"
	PathLive  = "/live"
)

// readyHandler serves GET /ready: 200 when /status would say HEALTHY and the agent is not
// shutting down, else 503 with the reason.
type readyHandler struct{ health *Health }

func (h readyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !probeMethod(w, r) {
		return
	}
	st := h.health.Status()
	if st.HealthStatus == Healthy && st.DrainPhase == "" {
		probeAnswer(w, http.StatusOK, "ready: Envoy is "+st.EnvoyState+" and HEALTHY")
		return
	}
	probeAnswer(w, http.StatusServiceUnavailable, "not ready: "+notReadyReason(st))
}

// notReadyReason says why st is not ready, from its most telling field.
func notReadyReason(st Status) string {
	switch {
	case st.DrainPhase != "":
		return "the agent is shutting down (drainPhase " + st.DrainPhase + ")"
	case st.HealthStatus == "":
		return "Envoy's health was not checked yet"
	case st.EnvoyState != Live:
		why := "Envoy is " + st.EnvoyState
		if st.HealthCheckError != "" {
			why += " (" + st.HealthCheckError + ")"
		}
		return why
	case st.InitialConfigUpdateStatus == UpdateFailed:
		return "Envoy failed to create listeners from its initial configuration (initialConfigUpdateStatus " + UpdateFailed + ")"
	case st.ManagementServerConnectionStatus != Connected:
		state := st.ManagementServerConnectionStatus
		if state == "" {
			state = "unknown"
		}
		return "Envoy's connection to its control plane is " + state + " beyond HC_DISCONNECTED_TIMEOUT_S"
	}
	return "healthStatus is " + st.HealthStatus
}

// liveHandler serves GET /live: 200 while the agent runs and Envoy runs, is starting, is
// being restarted within the restart budget, or is being drained; 503 once Envoy exited for
// good (no restarts left) and the agent is about to exit.
type liveHandler struct{ svc *Service }

func (h liveHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !probeMethod(w, r) {
		return
	}
	h.svc.mu.Lock()
	sup := h.svc.lastSup
	h.svc.mu.Unlock()
	live, why := liveness(sup)
	if live {
		probeAnswer(w, http.StatusOK, "live: "+why)
		return
	}
	probeAnswer(w, http.StatusServiceUnavailable, "not live: "+why)
}

// liveness judges the supervisor's state for /live.
func liveness(sup supervise.Snapshot) (bool, string) {
	switch {
	case sup.Running:
		return true, fmt.Sprintf("Envoy is running (pid %d)", sup.PID)
	case sup.Phase == supervise.PhaseDraining || sup.Phase == supervise.PhaseStopping:
		return true, "the agent is shutting down Envoy (" + string(sup.Phase) + ")"
	case sup.Phase == supervise.PhaseStopped:
		return false, "Envoy has stopped and the agent is exiting"
	case sup.Starts == 0:
		return true, "Envoy is starting"
	case sup.Exited && sup.RestartsLeft > 0:
		return true, fmt.Sprintf("Envoy %s and is being restarted (%d restarts left)", sup.LastExitReason, sup.RestartsLeft)
	case sup.Exited:
		return false, "Envoy " + sup.LastExitReason + " and no restarts are left (APPNET_ENVOY_RESTART_COUNT)"
	}
	return true, "Envoy is starting"
}

// probeMethod allows GET and HEAD; it answers 405 to the others.
func probeMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	textError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s answers GET and HEAD only", r.URL.Path))
	return false
}

func probeAnswer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(strings.TrimSpace(msg) + "\n"))
}
