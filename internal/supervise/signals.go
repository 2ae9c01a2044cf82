package supervise

import (
	"os"
	"os/signal"
	"syscall"
)

// ShutdownSignals start the graceful shutdown (R3).
var ShutdownSignals = []os.Signal{syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT}

// NotifySignals subscribes to ShutdownSignals on a buffered channel and returns it, for
// Options.Signals. main calls it as its very first action: from then on these signals are
// queued instead of killing the agent (B32), even while the bootstrap is rendered. Pass the
// channel to signal.Stop to unsubscribe.
func NotifySignals() chan os.Signal {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, ShutdownSignals...)
	// SIGHUP would kill the agent (and Envoy through the parent-death signal) without a drain;
	// neither the agent nor Envoy with hot restart disabled has anything to reload on it.
	signal.Ignore(syscall.SIGHUP)
	return ch
}
