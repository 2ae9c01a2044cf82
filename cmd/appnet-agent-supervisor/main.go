// Command appnet-agent-supervisor is the long-lived half of `appnet-agent run` (issue 19): the
// agent renders and validates the bootstrap, writes it, starts Envoy and execs this binary,
// installed next to it, which adopts that Envoy, supervises it and serves the management API for the rest of the task's life
// without the Envoy API (go-control-plane) linked. It is not started by hand: without the
// agent's hand-over it says so and exits 2. See internal/agentrun.
package main

import (
	"os"

	"github.com/appnet/appnet-agent/internal/agentrun"
	"github.com/appnet/appnet-agent/internal/earlysignal"
)

func main() {
	os.Exit(agentrun.Resume(earlysignal.ForRun(), os.Stdout, os.Stderr))
}
