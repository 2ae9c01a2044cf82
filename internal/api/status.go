package api

import (
	"encoding/json"
	"net/http"
	"time"
)

// Values of the /status fields (docs/API.md).
const (
	Healthy           = "HEALTHY"
	Unhealthy         = "UNHEALTHY"
	Live              = "LIVE"
	Unreachable       = "UNREACHABLE"
	Connected         = "CONNECTED"
	NotConnected      = "NOT_CONNECTED"
	NotInitialized    = "NOT_INITIALIZED"
	Initialized       = "INITIALIZED"
	UpdateSuccessful  = "UPDATE_SUCCESSFUL"
	UpdateFailed      = "UPDATE_FAILED"
	DrainPhaseDrain   = "DRAINING"
	DrainPhaseAppWait = "WAITING_FOR_APP_EXIT"
	DrainPhaseStop    = "STOPPING"
	DrainPhaseStopped = "STOPPED"
)

// Status is the /status body. The first nine fields are the reference agent's, in its order
// and with its omissions (clients compare the JSON); the fields after them are
// appnet-agent's own (H1) and are omitted while empty.
type Status struct {
	HealthStatus                          string     `json:"healthStatus"`
	AgentUptime                           string     `json:"agentUptime"`
	EnvoyPid                              string     `json:"envoyPid"`
	EnvoyState                            string     `json:"envoyState"`
	EnvoyRestartCount                     string     `json:"envoyRestartCount"`
	ManagementServerConnectionStatus      string     `json:"managementServerConnectionStatus,omitempty"`
	ManagementServerDisconnectedTimestamp *time.Time `json:"managementServerDisconnectedTimestamp,omitempty"`
	EnvoyReadinessState                   string     `json:"envoyReadinessState"`
	InitialConfigUpdateStatus             string     `json:"initialConfigUpdateStatus,omitempty"`

	// EnvoyExitCode is the last Envoy exit's code (128+signal when killed), once one exited.
	EnvoyExitCode string `json:"envoyExitCode,omitempty"`
	// LastExitReason reads e.g. "exited with code 3" or "killed by signal 9 (killed)".
	LastExitReason string `json:"lastExitReason,omitempty"`
	// DrainPhase is DRAINING, WAITING_FOR_APP_EXIT (Envoy serves the application's outbound
	// calls until it has stopped), STOPPING or STOPPED once the agent is shutting down.
	DrainPhase string `json:"drainPhase,omitempty"`
	// HealthCheckError says why the last health poll could not read Envoy's state.
	HealthCheckError string `json:"healthCheckError,omitempty"`
	// BootstrapProblems counts what the validator found in the bootstrap Envoy runs with: its
	// warnings, and the errors APPNET_VALIDATION=warn let through.
	BootstrapProblems int `json:"bootstrapProblems,omitempty"`
}

// statusHandler serves /status: any method, query ignored, as in the reference; the body is
// built from memory, never from a call to Envoy.
type statusHandler struct{ health *Health }

func (h statusHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	body, err := json.MarshalIndent(h.health.Status(), "", "  ")
	if err != nil { // cannot happen with these field types; answer rather than panic
		http.Error(w, "cannot encode the status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
