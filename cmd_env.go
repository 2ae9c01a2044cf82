package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/env"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// cmdEnv lists every supported variable (with current values), or the README table with --markdown.
func cmdEnv(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	fs.SetOutput(stderr)
	markdown := fs.Bool("markdown", false, "print the README's Markdown table instead")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	var err error
	if *markdown {
		err = env.WriteMarkdown(stdout)
	} else {
		err = env.WriteText(stdout, os.LookupEnv)
	}
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}

func cmdVersion(stdout io.Writer) int {
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
