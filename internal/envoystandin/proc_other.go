//go:build !linux

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// Outside Linux the process facts are not available; the stand-in targets Linux, and
// these stubs only keep the package building elsewhere.
var (
	pdeathsig    = -1
	inheritedFDs = map[string]string{}
)

func getsid() int { return -1 }

func dieBySignal(sig syscall.Signal, _ bool) {
	signal.Reset(sig)
	_ = syscall.Kill(os.Getpid(), sig)
}
