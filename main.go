// Command appnet-agent renders, validates and supervises the Envoy sidecar of Amazon ECS Service
// Connect and AWS App Mesh tasks. main only wires packages together; see README.md for the CLI.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/appnet/appnet-agent/internal/startup" // its init pauses GC during start-up
	"github.com/appnet/appnet-agent/internal/supervise"
)

func main() {
	var sigs chan os.Signal
	if isRun(os.Args[1:]) {
		sigs = supervise.NotifySignals() // before anything else, so no shutdown signal is missed (R3)
	}
	os.Exit(dispatch(os.Args[1:], sigs, os.Stdout, os.Stderr))
}

// isRun reports the default command: no sub-command, only run flags.
func isRun(args []string) bool {
	if len(args) == 0 {
		return true
	}
	_, sub := subcommands[args[0]]
	return !sub
}

var subcommands = map[string]bool{"render": true, "facts": true, "golden": true, "validate": true, "env": true, "version": true, "help": true, "-h": true, "--help": true}

// dispatch runs one sub-command and returns the process exit code.
func dispatch(args []string, sigs chan os.Signal, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "render":
			return cmdRender(args[1:], stdout, stderr)
		case "facts":
			startup.Done()
			return cmdFacts(args[1:], stdout, stderr)
		case "golden":
			startup.Done() // many renders: collect as usual
			return cmdGolden(args[1:], stdout, stderr)
		case "validate":
			startup.Done() // may read many files: collect as usual
			return cmdValidate(args[1:], stdout, stderr)
		case "env":
			startup.Done()
			return cmdEnv(args[1:], stdout, stderr)
		case "version":
			return cmdVersion(stdout)
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	return cmdRun(args, sigs, stderr)
}

const usage = `Usage:
  appnet-agent [-envoyConfigPath PATH] [-logLevel LEVEL] [-envoyReadiness]
                                 run: render the bootstrap, start and supervise Envoy
  appnet-agent render [-o FILE] [--format yaml|json] [--facts FILE]
                    [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env]
                                 render and validate the bootstrap for this environment,
                                 or only for the variables of --env-file/--env
  appnet-agent facts [-o FILE] [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env]
                                 print this host's platform facts as JSON (for --facts)
  appnet-agent golden [--update] [--template-dir DIR] [--facts FILE] [--junit FILE] CASES...
                                 check NAME.env cases against NAME.yaml / NAME.error
  appnet-agent validate FILE...  validate Envoy bootstraps (YAML or JSON)
  appnet-agent env [--markdown]  list every supported variable
  appnet-agent version           print versions
`
