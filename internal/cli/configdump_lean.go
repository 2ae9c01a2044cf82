//go:build appnet_lean

package cli

import (
	"io"

	"github.com/appnet/appnet-agent/internal/agentrun"
)

// redactConfigDump redacts Envoy's config dump through appnet-agent-full (agentrun.RedactWith): the
// lean build links only the types the built-in templates emit, and not configdump's admin
// API (envoy/admin/v3 and the tap, metrics and data packages it brings), whose package
// initialisation would delay every start. It serves the in-process fallback (no supervisor);
// the supervisor runs appnet-agent-full itself.
func redactConfigDump(r io.Reader, w io.Writer) error { return agentrun.RedactWith(agentPath())(r, w) }
