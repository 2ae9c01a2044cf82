package supervise

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// appPhase follows the inbound drain when the task's application containers are known: Envoy
// keeps running, its outbound listeners serving the application's last calls (flushing a
// queue, committing a transaction), until none of the application containers runs any
// more. It ends then, at deadline, when Envoy exits, or on another shutdown request. A
// failed read of the task metadata is logged and retried; it never ends the wait early.
func (s *Supervisor) appPhase(p *proc, req request, ctxDone <-chan struct{}, deadline time.Time) {
	wait := time.Until(deadline)
	if wait <= 0 {
		s.log.Info("No time left to wait for the application; stopping Envoy",
			"deadline", "LISTENER_DRAIN_WAIT_TIME_S + APPNET_APP_EXIT_WAIT_S")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var running []string // the last answer, for the final line
	ended := s.waitInterruptibly(ctx, cancel, p, req, ctxDone, "wait for the application",
		func(ctx context.Context) { running = s.awaitApps(ctx, wait) })
	if ended && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.log.Warn("The wait for the application is over; stopping Envoy while application containers still run",
			"running", strings.Join(running, ", "), "waited", wait.Round(time.Millisecond).String())
	}
}

// awaitApps polls the application containers every AppPoll until none runs (it returns
// nil) or ctx ends (it returns the last known running ones). It logs the start of the wait,
// with the containers it waits for, and its end, once each.
func (s *Supervisor) awaitApps(ctx context.Context, budget time.Duration) []string {
	start := time.Now()
	t := time.NewTicker(s.opts.AppPoll)
	defer t.Stop()
	var running []string
	lastErr, announced := "", false
	for {
		names, err := s.opts.Apps.RunningApps(ctx)
		switch {
		case ctx.Err() != nil:
			return running
		case err != nil:
			if err.Error() != lastErr {
				lastErr = err.Error()
				s.log.Warn("Cannot read the task metadata to see whether the application has stopped; still waiting", "error", err)
			}
		case len(names) == 0:
			if announced {
				s.log.Info("The application containers have stopped; stopping Envoy",
					"after", time.Since(start).Round(time.Millisecond).String())
			} else {
				s.log.Info("No application container is running; stopping Envoy")
			}
			return nil
		default:
			if !announced {
				announced = true
				s.log.Info("Waiting for the application to stop; Envoy's outbound listeners keep serving it",
					"running", strings.Join(names, ", "), "max_wait", budget.Round(time.Millisecond).String())
			} else if !slices.Equal(names, running) {
				s.log.Debug("Still waiting for application containers", "running", strings.Join(names, ", "))
			}
			running = names
		}
		select {
		case <-ctx.Done():
			return running
		case <-t.C:
		}
	}
}
