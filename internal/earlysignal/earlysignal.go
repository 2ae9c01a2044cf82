// Package earlysignal subscribes to the signals that would otherwise kill the agent, from
// its package initialisation rather than from main: the agent's package initialisation (the
// Envoy API and protobuf registrations) takes about 10 ms, and a SIGTERM in that window used
// to kill the agent with 143 instead of starting its clean shutdown.
//
// Go initialises, at each step, the first package in import-path order whose imports are all
// initialised (Go spec, "Package initialization"). This package imports only os, os/signal,
// syscall and dispatch (which imports no more than os needs), brought up within the first few
// milliseconds, so it is initialised among the first of the program's packages; main imports
// it so that it is linked in. What remains (docs/OPERATIONS.md, "Shutdown and drain"; docs/DESIGN.md): the process's
// and the runtime's start and the standard library packages initialised before os/signal, a
// few milliseconds, during which a signal still has its default action.
//
// main then calls ForRun for the run command, which keeps the subscriptions, or Release for
// every other subcommand, which restores the default actions (a CLI killed by SIGTERM or
// SIGPIPE behaves as one) and re-raises any signal that arrived meanwhile.
//
// Each subscription waits for a round trip to the runtime's signal-mask thread (two thread
// wake-ups: 0.04–2 ms each on the 2-core virtual machine measured, docs/DESIGN.md). So the
// main thread makes one: SIGTERM, which a container stop sends. SIGQUIT, SIGINT and SIGPIPE
// (and SIGHUP for a subcommand) are subscribed by a goroutine while the package
// initialisation goes on, and ForRun and Release wait for it: nothing writes to a pipe before
// either returns, and a SIGINT or SIGQUIT in those few extra milliseconds, only ever typed by
// a person, has its default action as in the window before. A run that starts Envoy ignores
// SIGHUP at once (signal.Ignore makes no round trip), and the orphan reaper subscribes to
// SIGCHLD itself when its reaping starts, after Envoy's start (supervise.Reaper.Part).
package earlysignal

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/appnet/appnet-agent/internal/dispatch"
)

// Shutdown are the signals that request the graceful shutdown (R3).
var Shutdown = []os.Signal{syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT}

var (
	shutdown = make(chan os.Signal, 8)
	hangup   = make(chan os.Signal, 1)
	// brokenPipe is never read: subscribing is what matters. A write to a pipe whose reader is
	// gone then fails with EPIPE instead of killing the agent (on stdout and stderr the Go
	// runtime would otherwise die of the SIGPIPE). Signal delivery never blocks on a full
	// channel.
	brokenPipe = make(chan os.Signal, 1)
)

// subscribed is closed once the goroutine of init has made its subscriptions.
var subscribed = make(chan struct{})

func init() {
	signal.Notify(shutdown, syscall.SIGTERM)
	run := dispatch.StartsEnvoy(os.Args[1:])
	if run {
		signal.Ignore(syscall.SIGHUP) // what ForRun does, without a round trip
	}
	go func() {
		signal.Notify(shutdown, Shutdown...) // SIGTERM again: already subscribed, no round trip
		if !run {
			signal.Notify(hangup, syscall.SIGHUP)
		}
		signal.Notify(brokenPipe, syscall.SIGPIPE)
		close(subscribed)
	}()
}

// ForRun hands the run command its shutdown signals, subscribed since package
// initialisation, including any that already arrived. SIGHUP is ignored from now on: it
// would kill the agent (and Envoy through the parent-death signal) without a drain, and
// neither the agent nor Envoy with hot restart disabled has anything to reload on it.
// SIGPIPE stays caught, so writes to a vanished reader fail with EPIPE; Envoy starts with
// the default action (a caught signal is reset by exec).
func ForRun() chan os.Signal {
	<-subscribed
	signal.Ignore(syscall.SIGHUP)
	return shutdown
}

// Release gives the subscribed signals back their default actions, for the subcommands
// other than run, and re-raises one that arrived before (it then acts as it would have).
func Release() {
	<-subscribed
	signal.Reset(append([]os.Signal{syscall.SIGHUP, syscall.SIGPIPE}, Shutdown...)...)
	for _, ch := range []chan os.Signal{shutdown, hangup} {
		select {
		case sig := <-ch:
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
		default:
		}
	}
}
