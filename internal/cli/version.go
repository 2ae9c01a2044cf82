package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/appnet/appnet-agent/internal/api"
)

// version is set at build time with -ldflags "-X github.com/appnet/appnet-agent/internal/cli.version=...".
var version = "dev"

func cmdVersion(_ []string, stdout, _ io.Writer) int {
	b := buildInfo()
	fmt.Fprintf(stdout, "appnet-agent %s\ngo %s\ngo-control-plane/envoy %s\n", b.Version, b.GoVersion, b.ControlPlaneVersion)
	return 0
}

// buildInfo is the agent's, Go's and go-control-plane's versions (`version`, and
// appnet_agent_build_info on /metrics).
func buildInfo() api.BuildInfo {
	b := api.BuildInfo{Version: version, GoVersion: runtime.Version(), ControlPlaneVersion: "unknown"}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/envoyproxy/go-control-plane/envoy" {
				b.ControlPlaneVersion = d.Version
			}
		}
	}
	return b
}
