//go:build appnet_lean

package cli

import (
	"io"

	"github.com/appnet/appnet-agent/internal/dispatch"
)

// cmdGolden is never reached in the lean build: golden is not one of dispatch.LeanCommands, so the
// lean entry point execs appnet-agent-full for it during package initialisation (internal/dispatch).
// Leaving the command out keeps internal/golden and encoding/xml out of the lean binary, whose
// every start pays for what it links (docs/DESIGN.md, "Where the main thread's time goes").
func cmdGolden(_ []string, _, stderr io.Writer) int {
	_, _ = io.WriteString(stderr, "appnet-agent: error: the golden command is "+dispatch.FullName+
		"'s; the lean build did not hand it over (a bug: please report it)\n")
	return 1
}
