// Command appnet-agent renders, validates and supervises the Envoy sidecar of Amazon ECS Service
// Connect and AWS App Mesh tasks. main only subscribes to signals and hands over to internal/cli;
// see README.md for the command line.
package main

import (
	"os"

	"github.com/appnet/appnet-agent/internal/cli"
	"github.com/appnet/appnet-agent/internal/supervise"
)

func main() {
	var sigs chan os.Signal
	if cli.IsRun(os.Args[1:]) {
		sigs = supervise.NotifySignals() // before anything else, so no shutdown signal is missed
	}
	os.Exit(cli.Main(os.Args[1:], sigs, os.Stdout, os.Stderr))
}
