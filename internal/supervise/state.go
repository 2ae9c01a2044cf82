package supervise

import (
	"sync"
	"time"
)

// Phase is where the supervisor is in Envoy's life cycle.
type Phase string

// Phases, in the order a normal life goes through them. Restarting is the wait between an
// Envoy exit and the next start.
const (
	PhaseStarting   Phase = "starting"
	PhaseRunning    Phase = "running"
	PhaseRestarting Phase = "restarting"
	PhaseDraining   Phase = "draining"
	// PhaseWaitingForApp follows the inbound drain when the task's application containers
	// are known (Options.Apps): Envoy keeps serving their outbound calls until they stop.
	PhaseWaitingForApp Phase = "waiting_for_app"
	PhaseStopping      Phase = "stopping"
	PhaseStopped       Phase = "stopped"
)

// Snapshot is a consistent copy of the supervisor's state, for /status and logs.
type Snapshot struct {
	Phase        Phase
	AgentStarted time.Time // when the agent started (Options.AgentStarted)
	PID          int       // Envoy's pid while it runs, else 0
	Running      bool
	EnvoyStarted time.Time // start of the current (or last) Envoy
	Starts       int       // Envoy processes started over the agent's life
	Restarts     int       // restarts performed over the agent's life: max(Starts-1, 0)
	// RestartsLeft is how many more exits the supervisor restarts before the agent gives up
	// (APPNET_ENVOY_RESTART_COUNT minus the restarts since the budget was last restored); 0
	// once a shutdown began.
	RestartsLeft int
	// The last Envoy exit, when Exited is true. LastExitCode is the exit status, or 128+signal
	// when Envoy was killed; LastExitReason reads "exited with code 3" or "killed by signal 9
	// (killed)".
	Exited         bool
	LastExitCode   int
	LastExitSignal int // the signal that killed the last Envoy; 0 when it exited by itself
	LastExitReason string
	LastExit       time.Time
	// OOMKills counts the Envoy exits the kernel's OOM killer caused (see Options.CgroupRoot).
	OOMKills int
}

// state holds the Snapshot behind a mutex and tells Options.OnChange about every change.
type state struct {
	mu       sync.Mutex
	s        Snapshot
	onChange func(Snapshot)
}

// update applies f and reports the result. OnChange runs outside the lock, in the
// supervisor's goroutine, so it sees changes in order.
func (st *state) update(f func(s *Snapshot)) {
	st.mu.Lock()
	f(&st.s)
	s := st.s
	st.mu.Unlock()
	if st.onChange != nil {
		st.onChange(s)
	}
}

func (st *state) phase(p Phase) { st.update(func(s *Snapshot) { s.Phase = p }) }

func (st *state) started(pid int, at time.Time, restartsLeft int) {
	st.update(func(s *Snapshot) {
		s.Phase, s.PID, s.Running, s.EnvoyStarted = PhaseRunning, pid, true, at
		s.Starts++
		s.Restarts = s.Starts - 1
		s.RestartsLeft = restartsLeft
	})
}

func (st *state) exited(x exit, at time.Time, restartsLeft int) {
	st.update(func(s *Snapshot) {
		s.PID, s.Running = 0, false
		s.Exited, s.LastExitCode, s.LastExitReason, s.LastExit = true, x.code, x.reason, at
		s.LastExitSignal = int(x.signal)
		s.RestartsLeft = restartsLeft
		if x.oom {
			s.OOMKills++
		}
	})
}
