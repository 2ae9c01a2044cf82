package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/render"
)

const factsUsage = "usage: appnet-agent facts [-o FILE] [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env]"

// cmdFacts asks every platform source of this host (the endpoints and Envoy path come from
// the variables) and prints the answers as JSON, for `render --facts` and `golden --facts`.
func cmdFacts(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("facts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the facts to `FILE` instead of stdout; "+outputRules)
	var envs envFlags
	envs.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "error: "+factsUsage)
		return 2
	}
	log := newLogger(stderr, "info")
	cfg, err := envs.load(log)
	if err != nil {
		return fail(stderr, err)
	}
	facts, warnings := platform.Capture(context.Background(), render.PlatformInputs(cfg))
	for _, w := range warnings {
		log.Warn(w)
	}
	data, err := platform.EncodeHostFacts(facts)
	if err != nil {
		return fail(stderr, err)
	}
	return writeOutput(*out, data, 0o644, stdout, stderr)
}
