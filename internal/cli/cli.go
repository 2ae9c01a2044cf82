// Package cli is appnet-agent's command line: one file per subcommand, and the table below
// that maps each subcommand's name to it. Without a subcommand the agent runs Envoy (run.go).
// Every command prints its help with -h or --help (exit 0) and answers a bad flag or
// argument with the error, naming the bad value, and its usage (exit 2); see usage.go.
package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/appnet/appnet-agent/internal/agentrun"
	"github.com/appnet/appnet-agent/internal/dispatch"
	"github.com/appnet/appnet-agent/internal/startup"
	"github.com/appnet/appnet-agent/internal/validate"
)

// command is one subcommand.
type command struct {
	names []string // the first is the name; the others are aliases
	usage *usage
	// collect ends the start-up GC pause before the command runs: it reads many files or
	// polls for long, so it must collect garbage as usual.
	collect bool
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is every subcommand, in the order `help` lists them (after run).
var commands = []command{
	{names: []string{"render"}, run: cmdRender, usage: &renderUsage},
	{names: []string{"facts"}, run: cmdFacts, collect: true, usage: &factsUsage},
	{names: []string{"golden"}, run: cmdGolden, collect: true, usage: &goldenUsage},
	{names: []string{"validate"}, run: cmdValidate, collect: true, usage: &validateUsage},
	{names: []string{"env"}, run: cmdEnv, collect: true, usage: &envUsage},
	{names: []string{"wait"}, run: cmdWait, collect: true, usage: &waitUsage},
	{names: []string{"admin"}, run: cmdAdmin, usage: &adminUsage},
	{names: []string{"version", "--version", "-version"}, run: cmdVersion, usage: &versionUsage},
	// help's run is nil: it prints this table, which therefore cannot refer to it (Main calls cmdHelp).
	{names: []string{"help", "-h", "--help", "-help"}, usage: &helpUsage},
}

// internalCommands are run by the agent's own processes, not by users: help does not list them.
var internalCommands = []command{
	// The long-lived appnet-agent-supervisor links none of the Envoy API's descriptors that
	// redaction reads, so it pipes GET /envoy/config_dump through this (agentrun.RedactWith).
	{names: []string{agentrun.RedactCommand}, run: cmdRedactConfigDump, usage: &redactUsage},
}

var redactUsage = usage{name: agentrun.RedactCommand, summary: "copy Envoy's config dump from stdin to stdout with its secrets redacted (used by appnet-agent-supervisor)"}

// cmdRedactConfigDump is redactConfigDump from stdin to stdout; errors go to stderr, exit 1.
func cmdRedactConfigDump(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "error: %s takes no arguments\n", agentrun.RedactCommand)
		return 2
	}
	if err := redactConfigDump(os.Stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	return 0
}

var helpUsage = usage{name: "help", synopsis: "[COMMAND]", summary: "print this overview, or a command's help (as COMMAND --help does)"}

// lookup is the subcommand args name, or nil for run.
func lookup(args []string) *command {
	if len(args) == 0 {
		return nil
	}
	for i := range commands {
		if slices.Contains(commands[i].names, args[0]) {
			return &commands[i]
		}
	}
	for i := range internalCommands {
		if slices.Contains(internalCommands[i].names, args[0]) {
			return &internalCommands[i]
		}
	}
	return nil
}

// IsRun reports whether args select run (no subcommand, only run's flags), for which main
// keeps the signal subscriptions made during package initialisation (internal/earlysignal).
func IsRun(args []string) bool { return lookup(args) == nil }

// Main runs the subcommand args name (run without one) and returns the process exit code.
// sigs are the shutdown signals (earlysignal.ForRun) when IsRun(args); nil otherwise.
func Main(args []string, sigs chan os.Signal, stdout, stderr io.Writer) int {
	cmd := lookup(args)
	switch {
	case cmd == nil:
		if dispatch.Renders(args) {
			// The decoder's one-time set-up (validate.WarmDecoder) starts here, beside the
			// configuration's load and the log's set-up, ~1.5 ms before the render would start it.
			warmed := validate.WarmDecoder()
			defer warmed()
		}
		return cmdRun(args, sigs, stdout, stderr)
	case cmd.run == nil && args[0] != "help":
		return cmdHelp(nil, stdout, stderr) // -h, --help: the overview, whatever follows
	case cmd.run == nil:
		return cmdHelp(args[1:], stdout, stderr)
	}
	if cmd.collect {
		startup.Done()
	}
	return cmd.run(args[1:], stdout, stderr)
}

// cmdHelp prints the overview of every command, or with an argument that command's help.
func cmdHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !slices.Contains([]string{"-h", "--help", "-help"}, args[0]) {
		if cmd := lookup(args); cmd != nil && cmd.run != nil && len(args) == 1 {
			return cmd.run([]string{"--help"}, stdout, stderr)
		}
		if args[0] == "run" && len(args) == 1 {
			return cmdRun([]string{"--help"}, nil, stdout, stderr)
		}
		fmt.Fprintf(stderr, "error: help %s: no such command (commands: run, %s)\n", strings.Join(args, " "), commandNames())
		return 2
	}
	var b strings.Builder
	b.WriteString("Usage:\n" + runUsage.overview())
	for _, c := range commands {
		b.WriteString(c.usage.overview())
	}
	b.WriteString("\n`appnet-agent COMMAND --help` (or `appnet-agent help COMMAND`) shows a command's flags and examples.\n")
	fmt.Fprint(stdout, b.String())
	return 0
}

// commandNames lists the subcommands' names, for errors.
func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.names[0])
	}
	return strings.Join(names, ", ")
}
