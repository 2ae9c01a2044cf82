package cli

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/render"
)

// stepGrace is how long an interrupted pre-start step may take to return after its context is
// cancelled, so it can remove what it made; a step that is stuck (a read from a hung file
// system) is abandoned and dies with the process.
const stepGrace = time.Second

// errInterrupted is what an interrupted step returns to its caller.
var errInterrupted = errors.New("interrupted by a shutdown signal")

// untilSignal runs step until it returns or a shutdown signal arrives on sigs (issue 16, item
// 5: a signal at any time before Envoy runs ends the agent promptly). On a signal, step's
// context is cancelled, step gets stepGrace to return, cleanup (if set) runs when it did,
// and untilSignal returns the signal; the signal is consumed. A signal that comes after step
// returned stays on sigs for the supervisor.
func untilSignal(sigs <-chan os.Signal, step func(ctx context.Context) error, cleanup func()) (os.Signal, error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- step(ctx) }()
	select {
	case err := <-done:
		return nil, err
	case sig := <-sigs:
		cancel(errInterrupted)
		select {
		case <-done:
			if cleanup != nil {
				cleanup()
			}
		case <-time.After(stepGrace):
		}
		return sig, errInterrupted
	}
}

// bootstrapStep renders, validates and writes the bootstrap: the pre-start work that can take
// long (platform facts, templates, user files). It logs the render's warnings.
type bootstrapStep struct {
	cfg     *env.Config
	log     hclog.Logger
	res     *render.Result
	written *render.Output
}

func (b *bootstrapStep) run(ctx context.Context) error {
	res, err := render.Render(ctx, b.cfg, render.Options{})
	if err != nil {
		return errors.New("cannot create the Envoy bootstrap: " + err.Error())
	}
	for _, w := range res.Warnings {
		b.log.Warn(w)
	}
	logOverload(b.log, res.Overload)
	if err := checkPortClash(b.cfg, res.Bootstrap, res.Existing); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	written, err := render.Write(res, b.cfg.Mode.ConfigFile, b.cfg.Mode.TempDir)
	if err != nil {
		return err
	}
	b.res, b.written = res, written
	return nil
}

// discard removes a bootstrap written for an Envoy that will not start.
func (b *bootstrapStep) discard() {
	if b.written != nil {
		b.written.Discard()
	}
}
