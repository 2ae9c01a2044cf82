// Package lifecycle keeps the agent's long-running parts running: the management HTTP
// server, the health poller, the stats snapshotter, the log-level resets and the orphan
// reaper, listed in one place (internal/cli/run.go) and run by one Group (Start). Each is a
// Part whose Run returns when its context ends; Keep restarts one that fails or panics, with
// back-off (Backoff), logging every failure (a panic with its stack) once, for as long as
// the agent runs. None of them may take Envoy down: only the supervisor decides
// when the agent exits (see internal/cli/run.go's run loop for every exit path).
//
// Why this package is shaped as it is: docs/DESIGN.md.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Back-off between restarts of a failed part: RestartMin, doubling up to RestartMax; a run of
// at least HealthyAfter starts again from RestartMin.
const (
	RestartMin   = 250 * time.Millisecond
	RestartMax   = 30 * time.Second
	HealthyAfter = time.Minute
)

// Part is one long-running part of the agent.
type Part struct {
	// Name names the part in logs ("health poller").
	Name string
	// Run does the part's work until ctx ends, then returns nil. Any other return (or a
	// panic) is a failure, after which Keep runs it again.
	Run func(ctx context.Context) error
}

// PanicError is a panic recovered from a Part, with the stack where it happened.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Safely calls f and turns a panic in it into a *PanicError.
func Safely(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return f()
}

// Keep runs p until ctx ends, restarting it after every failure or panic. It returns when ctx
// has ended and the last run has returned.
func Keep(ctx context.Context, log hclog.Logger, p Part) {
	keep(ctx, log, p, time.After)
}

func keep(ctx context.Context, log hclog.Logger, p Part, after func(time.Duration) <-chan time.Time) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	backoff := Backoff{Min: RestartMin, Max: RestartMax}
	failures := 0 // since the last healthy run
	for {
		started := time.Now()
		err := Safely(func() error { return p.Run(ctx) })
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) >= HealthyAfter {
			failures = 0
		}
		delay := backoff.Delay(failures)
		failures++
		if err == nil {
			err = errors.New("stopped on its own")
		}
		var pe *PanicError
		if errors.As(err, &pe) {
			log.Error(fmt.Sprintf("The %s panicked; restarting it in %s. Envoy is not affected. This is a bug; the stack:\n%s",
				p.Name, delay, pe.Stack), "panic", fmt.Sprint(pe.Value))
		} else {
			log.Error(fmt.Sprintf("The %s failed; restarting it in %s. Envoy is not affected.", p.Name, delay), "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-after(delay):
		}
	}
}

// Group runs parts side by side until Stop.
type Group struct {
	log    hclog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewGroup returns an empty group whose parts log to log.
func NewGroup(log hclog.Logger) *Group {
	ctx, cancel := context.WithCancel(context.Background())
	return &Group{log: log, ctx: ctx, cancel: cancel}
}

// Start runs parts side by side in a new group, each kept running (Keep) until Stop: the
// agent's one list of long-running parts (internal/cli/run.go).
func Start(log hclog.Logger, parts ...Part) *Group {
	g := NewGroup(log)
	for _, p := range parts {
		g.Go(p)
	}
	return g
}

// Go starts p, kept running (Keep) until Stop.
func (g *Group) Go(p Part) {
	g.wg.Go(func() { Keep(g.ctx, g.log, p) })
}

// Stop ends every part and waits for them. Safe to call more than once.
func (g *Group) Stop() {
	g.cancel()
	g.wg.Wait()
}
