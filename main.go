// Command appnet-agent renders, validates and supervises the Envoy sidecar of Amazon ECS Service
// Connect and AWS App Mesh tasks. main only wires packages together; see README.md for the CLI.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs one sub-command and returns the process exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "render":
			return cmdRender(args[1:], stdout, stderr)
		case "validate":
			return cmdValidate(args[1:], stdout, stderr)
		case "env":
			return cmdEnv(args[1:], stdout, stderr)
		case "version":
			return cmdVersion(stdout)
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	return cmdRun(args, stdout, stderr)
}

const usage = `Usage:
  appnet-agent [-envoyConfigPath PATH] [-logLevel LEVEL] [-envoyReadiness]
                                 run: render the bootstrap, start and supervise Envoy
  appnet-agent render [-o FILE] [--format yaml|json]
                                 render and validate the bootstrap for this environment
  appnet-agent validate FILE...  validate Envoy bootstraps (YAML or JSON)
  appnet-agent env [--markdown]  list every supported variable
  appnet-agent version           print versions
`
