//go:build !appnet_lean

package cli

import "github.com/appnet/appnet-agent/internal/configdump"

// redactConfigDump redacts Envoy's config dump in this process: it needs the descriptor of every Envoy
// API type a dump may hold, which the full build links.
var redactConfigDump = configdump.Redact
