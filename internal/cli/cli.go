// Package cli is appnet-agent's command line: one file per subcommand, and the table below
// that maps each subcommand's name to it. Without a subcommand the agent runs Envoy (run.go).
package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/appnet/appnet-agent/internal/startup"
)

// command is one subcommand.
type command struct {
	names []string // the first is the name; the others are aliases
	// usage is the synopsis and a one-line description, for the overview of `help`.
	usage string
	// collect ends the start-up GC pause before the command runs: it reads many files or
	// polls for long, so it must collect garbage as usual.
	collect bool
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is every subcommand, in the order `help` lists them (after run).
var commands = []command{
	{names: []string{"render"}, run: cmdRender, usage: `render [-o FILE] [--format yaml|json] [--facts FILE]
        [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env]
    render and validate the bootstrap for this environment, or only for the variables of
    --env-file/--env`},
	{names: []string{"facts"}, run: cmdFacts, collect: true, usage: `facts [-o FILE] [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env]
    print this host's platform facts as JSON (for --facts)`},
	{names: []string{"golden"}, run: cmdGolden, collect: true, usage: `golden [--update] [--template-dir DIR] [--facts FILE] [--junit FILE] CASES...
    check NAME.env cases against NAME.yaml / NAME.error`},
	{names: []string{"validate"}, run: cmdValidate, collect: true, usage: `validate FILE...
    validate Envoy bootstraps (YAML or JSON)`},
	{names: []string{"env"}, run: cmdEnv, collect: true, usage: `env [--markdown]
    list every supported variable`},
	{names: []string{"version"}, run: cmdVersion, usage: `version
    print versions`},
	// help's run is nil: it prints this table, which therefore cannot refer to it (Main calls cmdHelp).
	{names: []string{"help", "-h", "--help"}, usage: `help
    print this overview`},
}

const runUsage = `[-envoyConfigPath PATH] [-logLevel LEVEL] [-envoyReadiness]
    run: render the bootstrap, start and supervise Envoy (no subcommand)`

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
		return cmdRun(args, sigs, stdout, stderr)
	case cmd.run == nil:
		return cmdHelp(stdout)
	}
	if cmd.collect {
		startup.Done()
	}
	return cmd.run(args[1:], stdout, stderr)
}

// cmdHelp prints the overview of every command.
func cmdHelp(stdout io.Writer) int {
	var b strings.Builder
	b.WriteString("Usage:\n  appnet-agent " + runUsage + "\n")
	for _, c := range commands {
		b.WriteString("  appnet-agent " + c.usage + "\n")
	}
	fmt.Fprint(stdout, b.String())
	return 0
}
