package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/render"
	"github.com/appnet/appnet-agent/internal/safefile"
	"github.com/appnet/appnet-agent/internal/supervise"
	"github.com/appnet/appnet-agent/internal/validate"
)

const renderUsage = "usage: appnet-agent render [-o FILE] [--format yaml|json] [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env] [--facts FILE]"

// cmdRender prints (or writes) the validated bootstrap for the current environment, or for
// the variables of --env-file/--env, with the host's platform facts or those of --facts.
func cmdRender(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the bootstrap to `FILE` instead of stdout; "+outputRules)
	format := fs.String("format", "yaml", "output format: yaml or json")
	factsFile := fs.String("facts", "", "use the platform facts of `FILE` (appnet-agent facts output) instead of collecting them")
	var envs envFlags
	envs.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || (*format != "yaml" && *format != "json") {
		fmt.Fprintln(stderr, "error: "+renderUsage)
		return 2
	}
	log := newLogger(stderr, "info")
	var opts render.Options
	if *factsFile != "" {
		facts, err := platform.ReadHostFacts(*factsFile)
		if err != nil {
			return fail(stderr, err)
		}
		opts.Collector = platform.Replay(facts)
	}
	cfg, err := envs.load(log)
	if err != nil {
		return fail(stderr, err)
	}
	res, err := render.Render(context.Background(), cfg, opts)
	if err != nil {
		return fail(stderr, err)
	}
	for _, w := range res.Warnings {
		log.Warn(w)
	}
	logOverload(log, res.Overload)
	supervise.Concurrency(cfg, res.Facts.CPU, log) // logs a --concurrency the CPU quota decides
	data := res.Bytes
	if *format == "json" {
		if data, err = validate.CanonicalJSON(res.Bootstrap); err != nil {
			return fail(stderr, err)
		}
	}
	for p, content := range res.SideFiles {
		if err := safefile.Replace(p, content, 0o644); err != nil { // as run writes it: never through a link
			return fail(stderr, err)
		}
	}
	return writeOutput(*out, data, 0o600, stdout, stderr)
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "error: %v\n", err)
	return 1
}

func newLogger(w io.Writer, level string) hclog.Logger { return logging.New(w, level) }

// logOverload logs how Envoy's overload manager was derived (its numbers and their source),
// or why there is none, when a variable asked for one; a user file replacing it is a warning.
func logOverload(log hclog.Logger, o *render.Overload) {
	switch {
	case o == nil:
	case o.Replaced:
		log.Warn(o.String())
	default:
		log.Info(o.String())
	}
}
