package tasklife

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/lifecycle"
)

// DefaultPoll is how often the task metadata is read while the agent follows the
// application: ECS's agent answers locally, and a second is well within its rate limit.
const DefaultPoll = time.Second

// ExitWatcher is the APPNET_EXIT_WHEN_APP_EXITS part: it reads the task every poll and, once
// the application has exited (State.Exited), asks for the agent's graceful shutdown, once.
// A failed read is logged (each different error once) and retried at the next poll; it
// never ends the part.
func (a *Apps) ExitWatcher(poll time.Duration, shutdown func(cause string), log hclog.Logger) lifecycle.Part {
	if poll <= 0 {
		poll = DefaultPoll
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	var asked bool // across restarts of the part: ask once
	return lifecycle.Part{Name: "application exit watcher", Run: func(ctx context.Context) error {
		var errs errorOnce
		var last string
		t := time.NewTicker(poll)
		defer t.Stop()
		for !asked {
			st, err := a.Check(ctx)
			switch {
			case err != nil:
				if errs.isNew(err) {
					log.Warn("Cannot read the task metadata to see whether the application has exited; retrying", "error", err)
				}
			case st.Exited():
				log.Info("The application has exited; shutting down (APPNET_EXIT_WHEN_APP_EXITS)", "containers", st.String())
				asked = true
				shutdown("the application has exited: " + st.String())
			case st.String() != last:
				last = st.String()
				log.Info("Watching the application containers; the agent exits once they have all stopped", "containers", last)
			}
			if asked {
				break
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
		<-ctx.Done()
		return nil
	}}
}
