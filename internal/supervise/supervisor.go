package supervise

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/lifecycle"
)

// Admin is what the supervisor needs from Envoy's admin API; *envoyadmin.Client has it.
type Admin interface {
	FailHealthcheck(ctx context.Context) error
	DrainListeners(ctx context.Context, graceful, inboundOnly bool) error
	DownstreamConnections(ctx context.Context) (int, error)
}

// AppWaiter is what the supervisor needs to know about the task's application containers;
// *tasklife.Apps has it.
type AppWaiter interface {
	// RunningApps names the application containers that have not stopped.
	RunningApps(ctx context.Context) ([]string, error)
}

// Defaults for the Options durations left zero.
const (
	DefaultKillGrace      = 5 * time.Second
	DefaultBackoffInitial = 250 * time.Millisecond
	DefaultBackoffMax     = 10 * time.Second
	DefaultHealthyAfter   = 5 * time.Minute
	DefaultDrainPoll      = 250 * time.Millisecond
	DefaultAppPoll        = time.Second
	DefaultRepeatWindow   = time.Second
)

// Options configure a Supervisor. Argv is required; everything else has a default.
type Options struct {
	// Argv is Envoy's command line, argv[0] being the binary (see Args). A bare name is looked
	// up in PATH.
	Argv []string
	// LogLevel, when set, supplies the value after -l at every (re)start, so a level changed
	// through the management API survives an Envoy restart (H3).
	LogLevel func() string
	// Env is Envoy's environment; nil means the agent's own at each start.
	Env []string
	// Stdin is given to Envoy as is; nil means os.Stdin.
	Stdin *os.File
	// Stdout and Stderr receive Envoy's output, one whole line per Write (R7); nil means the
	// agent's os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Signals delivers shutdown requests (earlysignal.ForRun). Nil: only ctx stops Run.
	Signals <-chan os.Signal
	// Admin drains Envoy on shutdown. Nil: no drain, Envoy is stopped at once.
	Admin Admin
	// Reaper, when set, is told which child is Envoy so it never reaps it (NewReaper).
	Reaper *Reaper
	// Logger receives the supervisor's own lines. Nil discards them.
	Logger hclog.Logger
	// OnChange, when set, is called with every new state (start, exit, phase change), in
	// order, from the supervisor's goroutine. It must not block.
	OnChange func(Snapshot)
	// AgentStarted is reported in Snapshot; zero means the time New was called.
	AgentStarted time.Time
	// BeforeRestart, when set, runs before every start of Envoy but the first, e.g. to write
	// back a bootstrap file removed while Envoy ran. An error is logged and Envoy is started
	// anyway: its own error then says what is missing.
	BeforeRestart func() error

	// RestartCount is how many restarts are allowed before the agent gives up
	// (APPNET_ENVOY_RESTART_COUNT). The budget is restored after HealthyAfter of running.
	RestartCount int
	// DrainWait is the longest wait for connections to drain on shutdown
	// (LISTENER_DRAIN_WAIT_TIME_S).
	DrainWait time.Duration
	// MinDrain is the shortest drain (APPNET_MIN_DRAIN_TIME_S): no downstream connections
	// left ends the wait only once it has passed, because clients holding a stale endpoint
	// list still arrive for a few seconds. At most DrainWait.
	MinDrain time.Duration
	// KillGrace is how long Envoy has to exit after SIGTERM before SIGKILL (default 5 s).
	KillGrace time.Duration
	// BackoffInitial and BackoffMax shape the delay before the second and later restarts
	// (defaults 250 ms and 10 s); the first restart is immediate. Negative BackoffInitial
	// means no delay at all.
	BackoffInitial, BackoffMax time.Duration
	// HealthyAfter is the run time after which an exit counts as a first failure again
	// (default 5 min).
	HealthyAfter time.Duration
	// DrainPoll is the period of the connection count polls while draining (default 250 ms).
	DrainPoll time.Duration
	// Apps, when set, are the task's application containers (ECS task metadata). A shutdown
	// then drains the inbound listeners only and, after that drain, keeps Envoy running, its
	// outbound listeners serving the application, until none of them runs any more
	// (PhaseWaitingForApp), at most until DrainWait+AppExitWait after the shutdown began.
	// Nil: every listener drains and Envoy stops after the drain, as without task metadata.
	Apps AppWaiter
	// AppExitWait is how much longer than DrainWait Envoy may wait for the application
	// (APPNET_APP_EXIT_WAIT_S).
	AppExitWait time.Duration
	// AppPoll is the period of the application polls (default 1 s).
	AppPoll time.Duration
	// CgroupRoot is where the container's cgroup files are (default
	// platform.DefaultCgroupRoot): an Envoy killed by SIGKILL while the container's oom_kill
	// count grew was killed by the kernel's OOM killer, which its exit reason says.
	CgroupRoot string
	// RepeatWindow is how long after the shutdown signal the same signal again is taken for
	// the same request, not a second one that cuts the waits short (default 1 s; negative:
	// every repeat is a second request).
	RepeatWindow time.Duration
	// Now is the clock (default time.Now); tests move it to cross HealthyAfter.
	Now func() time.Time
	// Adopt, when set, is Run's first Envoy, started already by Spawn (here, or before an
	// exec: TakeOverEnvoy), which logged its start: Run watches it, forwards its output and
	// goes on as after its own first start — or, when it did not start, as after its own
	// failure to start. A shutdown request that is pending when Run begins drains it.
	Adopt *Spawned
}

// Supervisor runs Envoy; see Run. It reports every change of its state to Options.OnChange.
type Supervisor struct {
	opts     Options
	log      hclog.Logger
	now      func() time.Time
	st       state
	fwd      forwarders
	netAdmin bool
	capsOnce sync.Once
	runOnce  sync.Once

	// requests carries the one shutdown request RequestShutdown makes (POST /shutdown, the
	// application exit watcher); requested says it was made.
	requests  chan string
	requested atomic.Bool
}

// New returns a supervisor for opts. It starts nothing.
func New(opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AgentStarted.IsZero() {
		opts.AgentStarted = opts.Now()
	}
	opts.KillGrace = orDefault(opts.KillGrace, DefaultKillGrace)
	opts.BackoffInitial = orDefault(opts.BackoffInitial, DefaultBackoffInitial)
	opts.BackoffMax = orDefault(opts.BackoffMax, DefaultBackoffMax)
	opts.HealthyAfter = orDefault(opts.HealthyAfter, DefaultHealthyAfter)
	opts.DrainPoll = orDefault(opts.DrainPoll, DefaultDrainPoll)
	opts.AppPoll = orDefault(opts.AppPoll, DefaultAppPoll)
	opts.RepeatWindow = orDefault(opts.RepeatWindow, DefaultRepeatWindow)
	s := &Supervisor{opts: opts, log: opts.Logger, now: opts.Now, requests: make(chan string, 1)}
	s.fwd.log = opts.Logger
	s.st.s = Snapshot{Phase: PhaseStarting, AgentStarted: opts.AgentStarted, RestartsLeft: opts.RestartCount}
	s.st.onChange = opts.OnChange
	if opts.Adopt != nil && opts.Adopt.p != nil {
		// Before any reaping pass: the adopted Envoy may be a zombie already.
		opts.Reaper.own(opts.Adopt.p.pid)
	}
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// errRunTwice guards against a second Run, which would start a second Envoy.
var errRunTwice = errors.New("supervise: Run called twice")

// Run starts Envoy and supervises it until the agent should exit, and returns the agent's
// exit code. Run may be called once.
//
// Every way out, and its exit code:
//
//   - Envoy cannot be started: the binary is missing (127) or cannot be executed (126). No
//     retry: it would fail the same way. A transient start failure (e.g. EAGAIN) is retried
//     like an exit, within the restart budget; when the budget is spent: 126.
//   - Envoy exits (any code, or killed) and the restart budget is spent (RestartCount restarts
//     since the last run of at least HealthyAfter): Envoy's exit code, or 128+signal when it
//     was killed. Never 0 for a failure; 0 only if Envoy itself exited 0.
//   - A shutdown request (a signal on Options.Signals, or ctx cancelled) while Envoy runs:
//     the phase turns draining at once (/status stops reporting HEALTHY); POST
//     /healthcheck/fail, then POST /drain_listeners?graceful; wait until Envoy reports no
//     downstream connections, but not before MinDrain, and at most DrainWait (a second
//     request — a different signal, or the same one after RepeatWindow — cuts the wait
//     short; a failed admin call is logged and the wait goes on);
//     then SIGTERM, then SIGKILL after KillGrace (at once on another request). The code is 0
//     when Envoy exited 0 or by our SIGTERM; 137 when it had to be SIGKILLed; Envoy's own
//     code (or 128+signal) when it ended otherwise, including on its own during the drain.
//   - A shutdown request before Envoy first started: 0. While waiting to restart: the exit
//     code of the Envoy that just failed (never 0 for a failure), 0 if it had exited 0.
//   - Run called a second time, or with an empty Argv: 1, nothing started.
//
// Before returning, Run waits (briefly) for Envoy's last output lines to be written.
func (s *Supervisor) Run(ctx context.Context) int {
	first := false
	s.runOnce.Do(func() { first = true })
	if !first {
		s.log.Error(errRunTwice.Error())
		return 1
	}
	if len(s.opts.Argv) == 0 || s.opts.Argv[0] == "" {
		s.log.Error("supervise: no Envoy command line")
		s.st.phase(PhaseStopped)
		return 1
	}
	defer s.fwd.finish(2 * time.Second)
	adopt := s.opts.Adopt
	s.prepare(adopt != nil)

	// Asked to stop while the bootstrap was being prepared: do not start Envoy at all. (An
	// adopted Envoy runs already: the request drains it below.)
	if adopt == nil {
		select {
		case sig := <-s.opts.Signals:
			s.log.Info("Shutdown requested before Envoy started; exiting", "signal", sig.String())
			s.st.phase(PhaseStopped)
			return 0
		case cause := <-s.requests:
			s.log.Info("Shutdown requested before Envoy started; exiting", "cause", cause)
			s.st.phase(PhaseStopped)
			return 0
		case <-ctx.Done():
			s.log.Info("Shutdown requested before Envoy started; exiting")
			s.st.phase(PhaseStopped)
			return 0
		default:
		}
	}

	restarts := 0 // since the budget was last restored
	for first := true; ; first = false {
		if !first && s.opts.BeforeRestart != nil {
			if err := s.opts.BeforeRestart(); err != nil {
				s.log.Error("Cannot prepare Envoy's restart; restarting it anyway", "error", err)
			}
		}
		argv := s.argv()
		s.st.phase(PhaseStarting)
		var p *proc
		var err error
		if first && adopt != nil { // Spawn logged its command and its start or failure
			if err = adopt.err; err == nil {
				p = s.adopt(adopt)
			}
		} else {
			s.log.Info("Executing command: [" + strings.Join(argv, " ") + "]")
			if p, err = s.spawn(argv); err != nil {
				s.log.Error(err.Error())
			}
		}
		if err != nil {
			var se *startError
			if !errors.As(err, &se) {
				se = &startError{path: argv[0], err: err}
			}
			x := exit{code: se.exitCode(), reason: "not started: " + se.err.Error()}
			s.st.exited(x, s.now(), s.opts.RestartCount-restarts)
			if se.permanent() || restarts >= s.opts.RestartCount {
				s.st.phase(PhaseStopped)
				return x.code
			}
			restarts++
			if code, stop := s.pause(ctx, restarts, x.code); stop {
				return code
			}
			continue
		}
		s.st.started(p.pid, p.started, s.opts.RestartCount-restarts)
		if !first || adopt == nil {
			s.log.Info("Envoy started", "pid", p.pid)
		}

		select {
		case <-p.done:
		case sig := <-s.opts.Signals:
			return s.shutdown(ctx, p, request{sig: sig, at: s.now()})
		case cause := <-s.requests:
			return s.shutdown(ctx, p, request{cause: cause, at: s.now()})
		case <-ctx.Done():
			return s.shutdown(ctx, p, request{at: s.now()})
		}

		if p.exited.Sub(p.started) >= s.opts.HealthyAfter {
			restarts = 0 // a long healthy run restores the budget and the backoff
		}
		s.attributeOOM(p, false)
		s.st.exited(p.x, p.exited, s.opts.RestartCount-restarts)
		s.logExit(p)
		if restarts >= s.opts.RestartCount {
			logf := s.log.Error
			if p.x.code == 0 {
				logf = s.log.Info
			}
			logf("Envoy exited and the restart budget is spent; the agent exits with Envoy's code",
				"restart_count", s.opts.RestartCount, "exit_code", p.x.code)
			s.st.phase(PhaseStopped)
			return p.x.code
		}
		restarts++
		if code, stop := s.pause(ctx, restarts, p.x.code); stop {
			return code
		}
	}
}

// prepare does the once-per-run process set-up: the open-files limit, inherited descriptors
// and capabilities. quiet: Spawn did it (and said so) before the exec; only the set-up that an
// exec undoes is done again, silently.
func (s *Supervisor) prepare(quiet bool) {
	if n, err := raiseNofile(); err != nil {
		s.log.Warn("Failed to setup open files limit", "error", err)
	} else {
		s.log.Debug("Open files limit raised to the hard limit", "limit", n)
	}
	if err := closeOnExecInherited(); err != nil {
		s.log.Warn("Cannot mark inherited descriptors close-on-exec; Envoy may inherit them", "error", err)
	}
	if hasPermittedNetAdmin() {
		s.netAdmin = true
		if quiet {
			return
		}
		s.log.Info("Found NET_ADMIN capability in Agent's Permitted Flag, raising it in Inheritable and Ambient flags for Envoy to inherit.")
	}
}

// argv is Options.Argv with the -l value from Options.LogLevel.
func (s *Supervisor) argv() []string {
	argv := append([]string(nil), s.opts.Argv...)
	if s.opts.LogLevel == nil {
		return argv
	}
	if lvl := s.opts.LogLevel(); lvl != "" {
		for i := 1; i+1 < len(argv); i++ {
			if argv[i] == "-l" {
				argv[i+1] = lvl
				break
			}
		}
	}
	return argv
}

func (s *Supervisor) logExit(p *proc) {
	logf := s.log.Warn
	if p.x.code == 0 {
		logf = s.log.Info // a clean exit (e.g. after our SIGTERM) is not a warning
	}
	logf("Envoy process exited", "pid", p.pid, "status", p.x.reason,
		"ran", p.exited.Sub(p.started).Round(time.Millisecond).String())
}

// backoff is the delay before restart number n (1-based) since the budget was restored: none
// for the first, then BackoffInitial doubling up to BackoffMax.
func (s *Supervisor) backoff(n int) time.Duration {
	if n <= 1 || s.opts.BackoffInitial < 0 {
		return 0
	}
	return lifecycle.Backoff{Min: s.opts.BackoffInitial, Max: s.opts.BackoffMax}.Delay(n - 2)
}

// pause waits before restart n. A shutdown request, pending or arriving while waiting, ends
// Run with the last exit code: there is no Envoy to drain, and a failure is never reported as 0.
func (s *Supervisor) pause(ctx context.Context, n, lastCode int) (code int, stop bool) {
	d := s.backoff(n)
	s.st.phase(PhaseRestarting)
	if d > 0 {
		s.log.Info("Restarting Envoy after a delay", "restart", n, "of", s.opts.RestartCount, "delay", d.String())
	} else {
		s.log.Info("Restarting Envoy", "restart", n, "of", s.opts.RestartCount)
	}
	var wait <-chan time.Time // nil: no delay, only look for a pending request
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		wait = t.C
	}
	select {
	case sig := <-s.opts.Signals:
		s.log.Info("Shutdown requested while Envoy is not running; exiting", "signal", sig.String())
	case cause := <-s.requests:
		s.log.Info("Shutdown requested while Envoy is not running; exiting", "cause", cause)
	case <-ctx.Done():
		s.log.Info("Shutdown requested while Envoy is not running; exiting")
	default:
		if wait == nil {
			return 0, false
		}
		select {
		case <-wait:
			return 0, false
		case sig := <-s.opts.Signals:
			s.log.Info("Shutdown requested while Envoy is not running; exiting", "signal", sig.String())
		case cause := <-s.requests:
			s.log.Info("Shutdown requested while Envoy is not running; exiting", "cause", cause)
		case <-ctx.Done():
			s.log.Info("Shutdown requested while Envoy is not running; exiting")
		}
	}
	s.st.phase(PhaseStopped)
	return lastCode, true
}

// RequestShutdown asks Run for the graceful shutdown a signal would start (POST /shutdown,
// the application exit watcher), with cause for the log. Only the first request counts: it
// returns false when one was made already. Unlike a second signal, a repeated request
// does not hurry a shutdown under way. Safe to call from any goroutine, before or during
// Run; a request made before Envoy started ends Run at once with 0.
func (s *Supervisor) RequestShutdown(cause string) bool {
	if !s.requested.CompareAndSwap(false, true) {
		return false
	}
	s.requests <- cause
	return true
}
