package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/appnet/appnet-agent/internal/api"
)

// version and commit are set at build time (make build, make release, the Dockerfile) with
// -ldflags "-X github.com/appnet/appnet-agent/internal/cli.version=v0.1.0
// -X github.com/appnet/appnet-agent/internal/cli.commit=FULL_SHA".
var (
	version = "dev"
	commit  = "unknown"
)

// controlPlaneModule is the go-control-plane module whose Envoy API the validator decodes.
const controlPlaneModule = "github.com/envoyproxy/go-control-plane/envoy"

var versionUsage = usage{
	name:     "version",
	synopsis: "(or appnet-agent --version)",
	summary:  "print the agent's version and commit, and the Go, go-control-plane and Envoy API versions",
	examples: []string{"appnet-agent version", "appnet-agent --version"},
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&versionUsage, stdout, stderr)
	if code, ok := c.parseFlagsOnly(args, ""); !ok {
		return code
	}
	b := buildInfo()
	fmt.Fprintf(stdout, "appnet-agent %s\ncommit: %s\ngo: %s %s/%s\ngo-control-plane: %s %s\nenvoy API: %s\n",
		b.Version, commit, b.GoVersion, runtime.GOOS, runtime.GOARCH, controlPlaneModule, b.ControlPlaneVersion,
		envoyAPI(b.ControlPlaneVersion))
	return 0
}

// buildInfo is the agent's, Go's and go-control-plane's versions (`version`, and
// appnet_agent_build_info on /metrics).
func buildInfo() api.BuildInfo {
	b := api.BuildInfo{Version: version, GoVersion: runtime.Version(), ControlPlaneVersion: "unknown"}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == controlPlaneModule {
				b.ControlPlaneVersion = d.Version
			}
		}
	}
	return b
}

// envoyAPI is the Envoy release whose API a go-control-plane envoy module version carries:
// the module is versioned like Envoy (v1.40.0 holds Envoy 1.40's API).
func envoyAPI(moduleVersion string) string {
	parts := strings.SplitN(strings.TrimPrefix(moduleVersion, "v"), ".", 3)
	if len(parts) < 2 || !strings.HasPrefix(moduleVersion, "v") {
		return "unknown"
	}
	return "Envoy " + parts[0] + "." + parts[1]
}
