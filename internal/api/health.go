package api

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/appnet/appnet-agent/internal/supervise"
)

// FastPollInterval is the health poll period until Envoy is LIVE (H1).
const FastPollInterval = 250 * time.Millisecond

// healthStatsFilter selects, in one request, the control-plane connection gauge and the
// listener failure counter. The reference asked for the gauge alone, so its UPDATE_FAILED
// check never saw the counter.
const healthStatsFilter = `^(control_plane\.connected_state|listener_manager\.listener_create_failure)$`

const (
	statConnected      = "control_plane.connected_state"
	statListenerFailed = "listener_manager.listener_create_failure"
)

// HealthOptions configure a Health poller.
type HealthOptions struct {
	// Admin polls Envoy; use a client without retries and with a short timeout (the
	// reference's is 2 s): a poll wants the state now.
	Admin *envoyadmin.Client
	// Interval is the poll period once Envoy is LIVE (HC_POLL_INTERVAL_MS); Fast the one
	// before (default FastPollInterval).
	Interval, Fast time.Duration
	// DisconnectedTimeout is how long a LIVE Envoy stays HEALTHY without its control plane
	// (HC_DISCONNECTED_TIMEOUT_S).
	DisconnectedTimeout time.Duration
	// Relay ignores the control-plane connection (APPNET_ENABLE_RELAY_MODE_FOR_XDS).
	Relay bool
	// AgentStarted is the base of agentUptime.
	AgentStarted time.Time
	// HolderIn, when set, returns the process among pid and its descendants that holds the
	// admin API's listening socket, 0 for none (envoyadmin.Target.HolderIn). The poller checks
	// it for each new Envoy before trusting an answer, so that another process answering on
	// Envoy's admin address (a leftover Envoy, another task on a shared host network) is never
	// taken for the Envoy the agent runs, while an Envoy started by a wrapper script (a
	// descendant of the process the agent started) is.
	HolderIn func(pid int) (int, error)
	// BootstrapProblems is what /status reports as bootstrapProblems: the validator's errors
	// (APPNET_VALIDATION=warn) and warnings for the bootstrap Envoy runs with.
	BootstrapProblems int
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger hclog.Logger
}

// Health polls Envoy's admin API and keeps what /status reports (the reference agent's health
// check, with H1). It learns about Envoy's process from the supervisor through EnvoyChanged. Its
// methods are safe for concurrent use; Run is its one goroutine.
type Health struct {
	opts    HealthOptions
	log     hclog.Logger
	trigger chan struct{} // a poll is wanted now; capacity 1, so requests coalesce

	mu sync.Mutex
	st healthState
}

// healthState is everything /status is made of. Fields are written under Health.mu.
type healthState struct {
	polled         bool // at least one poll finished
	envoyState     string
	connection     string    // "", CONNECTED or NOT_CONNECTED
	disconnectedAt time.Time // when NOT_CONNECTED was first seen; zero while connected
	readiness      string
	initialConfig  string
	evaluatedStart int // the supervisor's Starts for which initialConfig was decided
	pollError      string

	sup      supervise.Snapshot
	haveSup  bool
	lastPID  int
	shutdown bool // the supervisor entered its drain: report drainPhase from now on
	// ownerChecked is the supervisor's Starts for which the admin listener was found to be
	// that Envoy's (or could not be checked); -1 before.
	ownerChecked int
	// ownerVerdict is the kind of the last ownership verdict (see checkOwner), logged when it
	// changes.
	ownerVerdict string
}

// NewHealth returns a poller; Run starts it.
func NewHealth(o HealthOptions) *Health {
	if o.Fast <= 0 {
		o.Fast = FastPollInterval
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AgentStarted.IsZero() {
		o.AgentStarted = o.Now()
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return &Health{opts: o, log: o.Logger, trigger: make(chan struct{}, 1),
		st: healthState{readiness: NotInitialized, evaluatedStart: -1, ownerChecked: -1}}
}

// Poll asks for a poll as soon as possible (coalesced with any pending request).
func (h *Health) Poll() {
	select {
	case h.trigger <- struct{}{}:
	default:
	}
}

// EnvoyChanged records the supervisor's new state. A start or an exit triggers a poll at
// once, so /status reflects it within milliseconds rather than one period later (H1). It
// never blocks, as supervise.Options.OnChange requires.
func (h *Health) EnvoyChanged(s supervise.Snapshot) {
	h.mu.Lock()
	prev := h.st.sup
	h.st.sup, h.st.haveSup = s, true
	if s.Running {
		h.st.lastPID = s.PID
	}
	if s.Phase == supervise.PhaseDraining || s.Phase == supervise.PhaseWaitingForApp || s.Phase == supervise.PhaseStopping {
		h.st.shutdown = true
	}
	h.mu.Unlock()
	if s.Starts != prev.Starts || !s.LastExit.Equal(prev.LastExit) {
		h.Poll()
	}
}

// Run polls until ctx ends: first when Envoy starts (EnvoyChanged) or Poll is called, then
// every Fast until Envoy is LIVE, then every Interval, and at once after every start and
// exit.
func (h *Health) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var tick <-chan time.Time // nil until the first poll
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.trigger:
		case <-tick:
		}
		next := h.opts.Interval
		if h.pollOnce(ctx) != Live {
			next = h.opts.Fast
		}
		timer.Reset(next)
		tick = timer.C
	}
}

// pollOnce asks Envoy for /ready and the two stats, updates the state, and returns
// envoyState. While no Envoy process runs there is nothing to ask: whoever answers on the
// admin address is not the Envoy the agent supervises.
func (h *Health) pollOnce(ctx context.Context) string {
	h.mu.Lock()
	sup, haveSup, checked := h.st.sup, h.st.haveSup, h.st.ownerChecked == h.st.sup.Starts
	h.mu.Unlock()
	if haveSup && !sup.Running {
		return h.record(sup, func(st *healthState) {
			st.envoyState, st.pollError = Unreachable, notRunning(sup)
		})
	}

	state, readyErr := h.opts.Admin.Ready(ctx)
	answered := readyErr == nil || envoyadmin.Answered(readyErr)
	if answered && haveSup && !checked {
		if foreign := h.checkOwner(sup); foreign != "" {
			return h.record(sup, func(st *healthState) { st.envoyState, st.pollError = Unreachable, foreign })
		}
	}
	var stats map[string]uint64
	var statsErr error
	if answered {
		stats, statsErr = h.opts.Admin.Stats(ctx, healthStatsFilter)
	}
	if ctx.Err() != nil {
		return "" // stopping: do not record the cancellation as Envoy's state
	}
	now := h.opts.Now()
	return h.record(sup, func(st *healthState) {
		st.pollError = ""
		if readyErr != nil {
			st.envoyState = Unreachable
			st.pollError = readyErr.Error()
		} else {
			st.envoyState = state
		}
		switch {
		case !answered:
			// No answer at all: the connection fields keep their last values (reference).
		case statsErr == nil:
			if !h.opts.Relay {
				st.setConnection(stats[statConnected] == 1, now)
			}
			if st.envoyState == Live && st.evaluatedStart != sup.Starts {
				// The first LIVE poll of each Envoy decides whether its initial configuration
				// loaded; a restarted Envoy is judged afresh.
				st.initialConfig = UpdateSuccessful
				if stats[statListenerFailed] > 0 {
					st.initialConfig = UpdateFailed
					h.log.Error("Envoy failed to create listeners from its initial configuration",
						statListenerFailed, stats[statListenerFailed])
				}
				st.readiness = Initialized
				st.evaluatedStart = sup.Starts
			}
		case envoyadmin.Answered(statsErr):
			// Envoy answered, but not with the stats: as in the reference, not connected.
			if !h.opts.Relay {
				st.setConnection(false, now)
			}
			if st.pollError == "" {
				st.pollError = statsErr.Error()
			}
		default:
			if st.pollError == "" {
				st.pollError = statsErr.Error()
			}
		}
	})
}

// record applies a poll's findings, unless the Envoy process changed while the poll ran
// (they would describe the previous one; the change triggered a new poll), and returns
// envoyState.
func (h *Health) record(polled supervise.Snapshot, apply func(st *healthState)) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := &h.st
	if st.sup.Starts != polled.Starts || st.sup.Running != polled.Running {
		return st.envoyState
	}
	st.polled = true
	apply(st)
	return st.envoyState
}

// Ownership verdicts (healthState.ownerVerdict).
const (
	verdictOwn        = "own"        // the process the agent started holds the admin listener
	verdictDescendant = "descendant" // a process below it does (a wrapper started Envoy)
	verdictForeign    = "foreign"    // another process does
	verdictUnknown    = "unknown"    // it cannot be checked here
)

// checkOwner verifies that the running Envoy (or a process it started) holds the admin
// listener that answered. It returns why the answer is not Envoy's, or "" when it is (or
// cannot be checked here). A verdict different from the last one is logged.
func (h *Health) checkOwner(sup supervise.Snapshot) string {
	if h.opts.HolderIn == nil {
		return ""
	}
	holder, err := h.opts.HolderIn(sup.PID)
	verdict, why := verdictOwn, ""
	switch {
	case err != nil:
		verdict = verdictUnknown
	case holder == 0:
		verdict = verdictForeign
		why = fmt.Sprintf("the admin address is answered by another process, not by Envoy (pid %d) or a process it started", sup.PID)
	case holder != sup.PID:
		verdict = verdictDescendant
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if verdict != h.st.ownerVerdict {
		h.logVerdict(verdict, h.st.ownerVerdict, sup.PID, holder, err, why)
		h.st.ownerVerdict = verdict
	}
	if verdict != verdictForeign && h.st.sup.Starts == sup.Starts {
		h.st.ownerChecked = sup.Starts
	}
	return why
}

// logVerdict says what an ownership verdict means, at the level it deserves: the expected
// case quietly, unless it ends a foreign one.
func (h *Health) logVerdict(verdict, previous string, pid, holder int, err error, why string) {
	switch verdict {
	case verdictUnknown:
		h.log.Debug("Cannot verify that the admin API answering is Envoy's own; trusting it", "error", err)
	case verdictForeign:
		h.log.Warn("Envoy's health is not trusted: "+why+"; /status stays UNHEALTHY until Envoy's own admin API answers", "pid", pid)
	case verdictDescendant:
		h.log.Info("Envoy's admin API is served by a process below the one the agent started (APPNET_ENVOY_PATH starts Envoy as its child); trusting it",
			"started_pid", pid, "admin_pid", holder)
	case verdictOwn:
		if previous == verdictForeign {
			h.log.Info("Envoy's admin API is now served by Envoy itself; trusting it", "pid", pid)
		} else {
			h.log.Debug("Envoy's admin API is served by Envoy itself", "pid", pid)
		}
	}
}

// notRunning says why there is no Envoy to poll.
func notRunning(sup supervise.Snapshot) string {
	if sup.Exited {
		return "Envoy is not running (" + sup.LastExitReason + ")"
	}
	return "Envoy is not running"
}

// setConnection records the control-plane connection; the disconnection clock starts at the
// first NOT_CONNECTED after anything else and stops only on CONNECTED.
func (st *healthState) setConnection(connected bool, now time.Time) {
	if connected {
		st.connection, st.disconnectedAt = Connected, time.Time{}
		return
	}
	if st.connection != NotConnected {
		st.connection, st.disconnectedAt = NotConnected, now
	}
}

// Status is the /status record now. Health is judged at request time (so the
// disconnection timeout is exact), from the last poll's findings.
func (h *Health) Status() Status {
	now := h.opts.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	st := &h.st
	s := Status{
		AgentUptime:         strconv.FormatInt(int64(now.Sub(h.opts.AgentStarted)/time.Second), 10) + "s",
		EnvoyReadinessState: st.readiness,
		BootstrapProblems:   h.opts.BootstrapProblems,
	}
	if st.haveSup && st.sup.Starts > 0 {
		s.EnvoyPid = strconv.Itoa(st.lastPID)
		s.EnvoyRestartCount = strconv.Itoa(st.sup.Restarts)
	}
	if st.haveSup && st.sup.Exited {
		s.EnvoyExitCode = strconv.Itoa(st.sup.LastExitCode)
		s.LastExitReason = st.sup.LastExitReason
	}
	if st.shutdown {
		switch st.sup.Phase {
		case supervise.PhaseDraining:
			s.DrainPhase = DrainPhaseDrain
		case supervise.PhaseWaitingForApp:
			s.DrainPhase = DrainPhaseAppWait
		case supervise.PhaseStopping:
			s.DrainPhase = DrainPhaseStop
		default:
			s.DrainPhase = DrainPhaseStopped
		}
	}
	if !st.polled {
		return s // the reference's "before the first poll" record: health fields empty
	}
	s.EnvoyState = st.envoyState
	s.InitialConfigUpdateStatus = st.initialConfig
	s.HealthCheckError = st.pollError
	if !h.opts.Relay {
		s.ManagementServerConnectionStatus = st.connection
		if !st.disconnectedAt.IsZero() {
			t := st.disconnectedAt
			s.ManagementServerDisconnectedTimestamp = &t
		}
	}
	s.HealthStatus = h.judge(now)
	return s
}

// judge is the reference's health state machine without its nil-pointer crash: a LIVE
// Envoy whose control-plane connection was never read is not known to be healthy. Two rules
// come first: no Envoy process running means UNHEALTHY whatever answered last, and so does a
// shutdown in progress, so load balancers take the task out before Envoy stops listening.
func (h *Health) judge(now time.Time) string {
	st := &h.st
	switch {
	case st.haveSup && !st.sup.Running, st.shutdown:
		return Unhealthy
	case st.envoyState != Live:
		return Unhealthy
	case st.initialConfig == UpdateFailed:
		return Unhealthy
	case h.opts.Relay:
		return Healthy
	case st.connection == Connected:
		return Healthy
	case st.connection == NotConnected && now.Sub(st.disconnectedAt) < h.opts.DisconnectedTimeout:
		return Healthy
	}
	return Unhealthy
}
