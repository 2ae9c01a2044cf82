package main

import (
	"fmt"
	"io"
)

// cmdRun will start and supervise Envoy (issue: Supervisor). Until then it refuses to run rather
// than pretending to.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "error: running Envoy is not implemented yet; use `appnet-agent render`")
	return 1
}
