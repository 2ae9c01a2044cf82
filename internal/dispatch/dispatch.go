// Package dispatch decides, before anything else of the agent is initialised, whether the
// lean build of appnet-agent (build tag appnet_lean: a validator that knows only the message
// types the built-in templates emit) can serve this invocation, and otherwise execs the full
// build, appnet-agent-full, installed next to it (docs/DESIGN.md, "The lean entry point").
//
// The lean build serves `run` and `render` when nothing but the built-in templates makes the
// bootstrap (no bootstrap file with content, no fragment, file or inline, no template overlay),
// and the commands that validate nothing (LeanCommands). Every other invocation — user input,
// validate, golden — is the full build's, which validates exactly as a single binary did.
// Choosing full is always correct; lean is only a faster way to the same verdict, so when
// unsure the decision is full.
//
// The package imports only errors, io/fs, os, slices and syscall, which os itself needs: Go
// initialises, at each step, the first package in import-path order whose imports are all
// initialised, so its init (exec_lean.go) runs right after os, before any Envoy API package
// (github.com/envoyproxy sorts after github.com/appnet), and the exec costs the user-input
// path only the lean binary's runtime start. Importing strings or path/filepath, which sort
// after google.golang.org, would put the whole protobuf runtime's initialisation before it
// (TestLeanExecsFullBeforeTheEnvoyAPI).
package dispatch

import (
	"errors"
	"io/fs"
	"os"
	"slices"
)

// FullName is the full build's executable name, looked up in the lean binary's directory.
const FullName = "appnet-agent-full"

// Marker is set in the environment of the full build when the lean build execs it, and
// removed by the full build's main (Arrived) so that nothing it starts inherits it. A lean
// build that finds it set was itself exec'd as appnet-agent-full: it refuses instead of
// looping.
const Marker = "APPNET_AGENT_DISPATCHED"

// UserInputVars are the variables that hand the agent configuration it did not write: a
// bootstrap, resources, stats, sinks or tracing fragments (files or inline), template
// overlays. A run that sets one (non-empty) is the full build's. internal/env marks the same
// variables with the struct tag input:"user"; a test keeps the two equal.
var UserInputVars = []string{
	"ENVOY_CONFIG_FILE", "ENVOY_CONFIG",
	"ENVOY_RESOURCES_CONFIG_FILE", "ENVOY_RESOURCES_CONFIG",
	"ENVOY_STATS_CONFIG_FILE", "ENVOY_STATS_CONFIG",
	"ENVOY_STATS_SINKS_CFG_FILE", "ENVOY_STATS_SINKS_CFG",
	"ENVOY_TRACING_CFG_FILE", "ENVOY_TRACING_CFG",
	"APPNET_TEMPLATE_DIR",
}

// LeanCommands are the subcommands the lean build serves besides run: those that validate
// nothing (help, version, env, facts, wait, admin — so `wait` and `admin` in an application's
// container need appnet-agent alone), and render, which is run's bootstrap on stdout and the
// lean build's when run's would be. validate, golden and the supervisor's config-dump
// redaction — and any command added later until it is listed here — are the full build's.
var LeanCommands = []string{
	"help", "-h", "--help", "-help", "version", "--version", "-version",
	"env", "facts", "wait", "admin", "render",
}

// userInputFlags are the flags of run and render that bring configuration from elsewhere:
// a bootstrap path, or variables from files or arguments instead of the environment.
var userInputFlags = []string{"envoyConfigPath", "env-file", "env"}

// NeedsFull tells whether the invocation args (os.Args[1:]) must be served by the full
// build, and why (for the message when it is missing); "" when the lean build serves it.
// getenv and stat are os.Getenv and os.Stat, replaceable in tests.
func NeedsFull(args []string, getenv func(string) string, stat func(string) (fs.FileInfo, error)) string {
	if len(args) > 0 && !isFlag(args[0]) && !slices.Contains(LeanCommands, args[0]) {
		return "the " + args[0] + " command"
	}
	if len(args) > 0 && slices.Contains(LeanCommands, args[0]) && args[0] != "render" {
		return ""
	}
	for _, a := range args {
		if isFlag(a) && slices.Contains(userInputFlags, flagName(a)) {
			return "-" + flagName(a)
		}
	}
	for _, name := range UserInputVars {
		value := getenv(name)
		if value == "" {
			continue
		}
		if name == "ENVOY_CONFIG_FILE" && !hasContent(value, stat) {
			continue // the default bootstrap is written there
		}
		return name + " is set"
	}
	return ""
}

// Renders tells, from the invocation args (os.Args[1:]), whether this process will render a
// bootstrap: run (no subcommand) except the readiness probe (it runs every few seconds and
// renders nothing) and help, or the render command except its help. It only decides whether
// to start the render's set-up early (internal/prefault, internal/cli); a wrong guess costs
// that work or its head start, nothing else.
func Renders(args []string) bool {
	if len(args) > 0 && !isFlag(args[0]) {
		if args[0] != "render" {
			return false
		}
		args = args[1:]
	}
	for _, a := range args {
		if isFlag(a) {
			switch flagName(a) {
			case "envoyReadiness", "h", "help":
				return false
			}
		}
	}
	return true
}

// StartsEnvoy tells whether args (os.Args[1:]) are a run that will start Envoy: Renders, with
// no subcommand (render prints the bootstrap and starts nothing).
func StartsEnvoy(args []string) bool {
	return (len(args) == 0 || isFlag(args[0])) && Renders(args)
}

func isFlag(arg string) bool { return len(arg) > 0 && arg[0] == '-' }

// flagName is the name of the flag arg, as the flag package reads it: one or two dashes, then
// the name up to an "=".
func flagName(arg string) string {
	name := arg[1:]
	if len(name) > 0 && name[0] == '-' {
		name = name[1:]
	}
	for i := range len(name) {
		if name[i] == '=' {
			return name[:i]
		}
	}
	return name
}

// hasContent is false only when path names nothing or an empty regular file — the two cases
// in which the agent writes the bootstrap there (internal/env); anything else, an unreadable
// path included, is left to the full build to judge.
func hasContent(path string, stat func(string) (fs.FileInfo, error)) bool {
	st, err := stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return err != nil || !st.Mode().IsRegular() || st.Size() > 0
}

// FullPath is the full build's executable next to this one (Siblings): the first candidate
// that exists, else appnet-agent-full, whose exec then fails naming it.
func FullPath() (string, error) {
	_, paths, err := Siblings(FullName)
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return paths[0], nil
}

// Siblings returns this executable's path and where the installed binary name may be beside
// it, in the order to try: dir/name, then, for an executable installed under another name, the
// same name with this build's name in it replaced by name (appnet-agent_VERSION_linux_ARCH
// finds appnet-agent-full_VERSION_linux_ARCH and appnet-agent-supervisor_VERSION_linux_ARCH
// beside it, appnet-agent-full_VERSION_linux_ARCH the supervisor's). os.Executable reads
// /proc/self/exe, which the kernel gives with every symbolic link resolved, so a link to
// appnet-agent finds its siblings next to the link's target.
func Siblings(name string) (self string, paths []string, err error) {
	self, err = os.Executable()
	if err != nil {
		return "", nil, errors.New("cannot find the agent's own executable: " + err.Error())
	}
	if self == "" || self[0] != '/' {
		return "", nil, errors.New("the agent's own executable " + self + " is not an absolute path")
	}
	return self, siblingPaths(self, name), nil
}

// siblingPaths is Siblings' answer for the executable at the absolute path self.
func siblingPaths(self, name string) []string {
	dir, base := split(self)
	paths := []string{dir + name}
	for _, build := range []string{FullName, "appnet-agent"} { // the longer first: it contains the other
		if i := index(base, build); i >= 0 {
			if renamed := base[:i] + name + base[i+len(build):]; renamed != base && renamed != name {
				paths = append(paths, dir+renamed)
			}
			break
		}
	}
	return paths
}

// split is path's directory, with its trailing slash, and its last element.
func split(path string) (dir, base string) {
	i := len(path)
	for i > 0 && path[i-1] != '/' {
		i--
	}
	return path[:i], path[i:]
}

// index is strings.Index, which this package may not import (package doc).
func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// Arrived removes Marker from the environment; the full build's main calls it first.
func Arrived() { _ = os.Unsetenv(Marker) }
