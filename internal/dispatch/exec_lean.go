//go:build appnet_lean

package dispatch

import (
	"os"
	"syscall"
)

// Lean reports whether this is the lean build.
const Lean = true

// init is the lean entry point's decision (package doc): it returns when this build serves
// the invocation, and otherwise replaces the process with appnet-agent-full (same pid,
// arguments and environment, plus Marker) or, when that cannot be done, exits 1 naming why.
func init() {
	if os.Getenv(Marker) != "" {
		self, _ := os.Executable()
		fail(self + " is the lean build of appnet-agent, run as " + FullName +
			" by another appnet-agent; install the three binaries of one release side by side")
	}
	reason := NeedsFull(os.Args[1:], os.Getenv, os.Stat)
	if reason == "" {
		return
	}
	full, err := FullPath()
	if err != nil {
		fail(reason + " needs the full validator, but " + err.Error())
	}
	env := append(os.Environ(), Marker+"=1")
	err = syscall.Exec(full, os.Args, env)
	for err == syscall.EINTR {
		err = syscall.Exec(full, os.Args, env)
	}
	fail(reason + " needs the full validator, " + full + ", which cannot be run: " + err.Error() +
		"; the image and the release install appnet-agent, " + FullName + " and appnet-agent-supervisor side by side")
}

// fail reports an invocation this build cannot serve, before anything else of the agent has
// started (so in plain text: the log is not set up), and exits 1.
func fail(msg string) {
	_, _ = os.Stderr.WriteString("appnet-agent: error: " + msg + "\n")
	os.Exit(1)
}
