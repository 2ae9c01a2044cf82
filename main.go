// Command appnet-agent renders, validates and supervises the Envoy sidecar of Amazon ECS Service
// Connect and AWS App Mesh tasks. main only takes the signals subscribed during package
// initialisation (internal/earlysignal) and hands over to internal/cli; see README.md for the
// command line.
//
// It is built twice: with the tag appnet_lean as appnet-agent, the entry point, whose first
// package initialisation (internal/dispatch) execs the other build, appnet-agent-full, for
// user input and most subcommands; and without it as appnet-agent-full. internal/prefault is
// linked for its package initialisation alone.
package main

import (
	"os"

	"github.com/appnet/appnet-agent/internal/cli"
	"github.com/appnet/appnet-agent/internal/dispatch"
	"github.com/appnet/appnet-agent/internal/earlysignal"
	_ "github.com/appnet/appnet-agent/internal/prefault" // its init: the render's first heap pages, early
)

func main() {
	dispatch.Arrived()
	var sigs chan os.Signal
	if cli.IsRun(os.Args[1:]) {
		sigs = earlysignal.ForRun()
	} else {
		earlysignal.Release()
	}
	os.Exit(cli.Main(os.Args[1:], sigs, os.Stdout, os.Stderr))
}
