package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/appnet/appnet-agent/internal/lifecycle"
)

// killWait bounds the wait for a SIGKILLed Envoy to be reaped. Only a process stuck in the
// kernel (uninterruptible sleep) takes longer; the agent then exits anyway.
const killWait = 10 * time.Second

// request is the shutdown request being served: the signal that made it (nil for a
// cancelled context) and when it arrived.
type request struct {
	sig os.Signal
	at  time.Time
}

// repeatedBy reports whether sig, arriving at now, repeats this request rather than making
// another: the same signal within window. A wrapper that signals both the agent and its
// process group, or a runtime and an init that both forward a stop, deliver one SIGTERM
// twice within milliseconds; that must not cut the drain short.
func (r request) repeatedBy(sig os.Signal, now time.Time, window time.Duration) bool {
	return r.sig != nil && sig == r.sig && now.Sub(r.at) < window
}

// repeat reports whether sig, arriving during the shutdown for req, repeats it (and logs
// that it is passed over) rather than being another request.
func (s *Supervisor) repeat(req request, sig os.Signal) bool {
	if !req.repeatedBy(sig, s.now(), s.opts.RepeatWindow) {
		return false
	}
	s.log.Info("The same signal again right after the first; it is the same shutdown request",
		"signal", sig.String(), "after", s.now().Sub(req.at).Round(time.Millisecond).String())
	return true
}

// shutdown is R3, after the first shutdown request while Envoy runs: no more restarts; fail
// health checks, drain the listeners and wait for the connections to go (at least MinDrain,
// at most DrainWait); SIGTERM; SIGKILL after KillGrace. Any further request (a different
// signal, the same one after RepeatWindow, or ctx when the first was a signal) skips the rest
// of the current wait. It returns the agent's exit code (see Run).
func (s *Supervisor) shutdown(ctx context.Context, p *proc, req request) int {
	var ctxDone <-chan struct{} // a later cancellation hurries; one that caused this does not
	if ctx.Err() == nil {
		ctxDone = ctx.Done()
	}
	cause := "context cancelled"
	if req.sig != nil {
		cause = req.sig.String()
	}
	s.log.Info("Shutdown requested", "cause", cause)
	s.st.phase(PhaseDraining)
	s.drainPhase(p, req, ctxDone)

	s.st.phase(PhaseStopping)
	sentTerm := false
	select {
	case <-p.done:
	default:
		s.log.Info("Stopping Envoy with SIGTERM", "pid", p.pid, "grace", s.opts.KillGrace.String())
		if err := p.signal(syscall.SIGTERM); err != nil {
			s.log.Warn("Cannot signal Envoy", "error", err)
		}
		sentTerm = true
		t := time.NewTimer(s.opts.KillGrace)
		kill := false
	grace:
		for {
			select {
			case <-p.done:
			case <-t.C:
				s.log.Warn("Envoy did not exit after SIGTERM; sending SIGKILL", "grace", s.opts.KillGrace.String())
				kill = true
			case sig := <-s.opts.Signals:
				if s.repeat(req, sig) {
					continue
				}
				s.log.Warn("Another shutdown request; sending SIGKILL to Envoy now", "signal", sig.String())
				kill = true
			case <-ctxDone:
				s.log.Warn("Another shutdown request; sending SIGKILL to Envoy now")
				kill = true
			}
			break grace
		}
		t.Stop()
		if kill {
			_ = p.signal(syscall.SIGKILL)
			w := time.NewTimer(killWait)
			select {
			case <-p.done:
				w.Stop()
			case <-w.C:
				s.log.Error("Envoy did not die after SIGKILL; exiting without it", "pid", p.pid)
				s.st.phase(PhaseStopped)
				return 128 + int(syscall.SIGKILL)
			}
		}
	}
	s.st.exited(p.x, p.exited, 0) // shutting down: no more restarts
	s.logExit(p)
	s.st.phase(PhaseStopped)
	if sentTerm && p.x.signal == syscall.SIGTERM {
		return 0 // died of our SIGTERM's default action: stopped as asked
	}
	return p.x.code
}

// drainPhase asks Envoy to drain and waits until it reports no downstream connections, the
// drain deadline passes, Envoy exits, or another shutdown request arrives.
func (s *Supervisor) drainPhase(p *proc, req request, ctxDone <-chan struct{}) {
	if s.opts.Admin == nil || s.opts.DrainWait <= 0 {
		s.log.Info("No drain configured; stopping Envoy at once")
		return
	}
	dctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainWait)
	defer cancel()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		if err := lifecycle.Safely(func() error { s.drain(dctx); return nil }); err != nil {
			var pe *lifecycle.PanicError
			errors.As(err, &pe)
			s.log.Error("The drain panicked; stopping Envoy now. This is a bug; the stack:\n"+string(pe.Stack), "panic", fmt.Sprint(pe.Value))
		}
	}()
wait:
	for {
		select {
		case <-drained:
		case <-p.done:
			s.log.Warn("Envoy exited while draining", "status", p.x.reason)
		case sig := <-s.opts.Signals:
			if s.repeat(req, sig) {
				continue
			}
			s.log.Info("Another shutdown request; skipping the rest of the drain wait", "signal", sig.String())
		case <-ctxDone:
			s.log.Info("Another shutdown request; skipping the rest of the drain wait")
		}
		break wait
	}
	cancel()
	<-drained
}

// drain fails Envoy's health checks (POST /healthcheck/fail: load balancers that probe
// Envoy take it out), drains its listeners (POST /drain_listeners?graceful) and polls the
// connection count every DrainPoll until it is 0 with MinDrain passed, or ctx ends. Every
// failure is logged (each different one once) and none ends the wait early: only a
// successful 0 does.
func (s *Supervisor) drain(ctx context.Context) {
	start := time.Now()
	minEnd := start.Add(s.opts.MinDrain)
	if err := s.opts.Admin.FailHealthcheck(ctx); err != nil {
		s.log.Warn("Failing Envoy's health checks failed; draining anyway", "error", describeAdminError(ctx, err))
	} else {
		s.log.Info("Envoy now fails its health checks")
	}
	s.log.Info("Draining Envoy listeners...")
	if err := s.opts.Admin.DrainListeners(ctx, true, false); err != nil {
		s.log.Error("Draining Envoy listeners failed; still waiting for connections to close", "error", describeAdminError(ctx, err))
		if ctx.Err() != nil {
			return
		}
	}
	s.log.Info("Waiting for Envoy to drain listeners", "min_wait", s.opts.MinDrain.String(), "max_wait", s.opts.DrainWait.String())
	t := time.NewTicker(s.opts.DrainPoll)
	defer t.Stop()
	lastErr, waitingForMin := "", false
	for {
		n, err := s.opts.Admin.DownstreamConnections(ctx)
		switch {
		case ctx.Err() != nil:
		case err == nil && n == 0 && !time.Now().Before(minEnd):
			s.log.Info("Graceful Envoy listener draining completed: no downstream connections left",
				"after", time.Since(start).Round(time.Millisecond).String())
			return
		case err == nil && n == 0 && !waitingForMin:
			waitingForMin = true
			s.log.Info("No downstream connections left; draining for the minimum time still, for clients with stale endpoints",
				"min_wait", s.opts.MinDrain.String())
		case err != nil && err.Error() != lastErr:
			lastErr = err.Error()
			s.log.Warn("Cannot read Envoy's downstream connections; still waiting", "error", err)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				s.log.Info("Drain wait over; downstream connections may remain",
					"after", time.Since(start).Round(time.Millisecond).String())
			}
			return
		case <-t.C:
		}
	}
}

// describeAdminError adds to an admin call's error why it ended, when the drain wait did.
func describeAdminError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w (the drain deadline passed)", err)
	case ctx.Err() != nil:
		return fmt.Errorf("%w (the drain wait was cut short)", err)
	}
	return err
}
