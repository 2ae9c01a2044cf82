package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/redact"
	"github.com/appnet/appnet-agent/internal/render"
	"github.com/appnet/appnet-agent/internal/safefile"
	"github.com/appnet/appnet-agent/internal/supervise"
	"github.com/appnet/appnet-agent/internal/validate"
)

var renderUsage = usage{
	name: "render",
	synopsis: `[-o FILE] [--format yaml|json] [--facts FILE]
        [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env]`,
	summary: "render and validate the bootstrap for this environment, or only for the variables of --env-file/--env",
	details: `The bootstrap is made exactly as run makes it before starting Envoy: variables, platform facts
(collected from this host, or replayed from --facts), templates, user fragments, validation.
Warnings go to stderr. Exit 0 with the bootstrap on stdout (or in FILE), 1 with "error: ..."
when the variables or the bootstrap are invalid, 2 for bad flags.`,
	examples: []string{
		"appnet-agent render > envoy.yaml",
		"appnet-agent render --env-file task.env --facts facts.json --format json",
		"appnet-agent render --env-file task.env --env ENVOY_LOG_LEVEL=debug -o /tmp/envoy.yaml",
	},
}

// cmdRender prints (or writes) the validated bootstrap for the current environment, or for
// the variables of --env-file/--env, with the host's platform facts or those of --facts.
func cmdRender(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&renderUsage, stdout, stderr)
	out := c.fs.String("o", "", "write the bootstrap to `FILE` instead of stdout; "+outputRules)
	format := c.fs.String("format", "yaml", "the output format, `yaml|json`")
	factsFile := c.fs.String("facts", "", "use the platform facts of `FILE` (appnet-agent facts output) instead of collecting them")
	var envs envFlags
	envs.register(c.fs)
	if code, ok := c.parseFlagsOnly(args, " (variables come from the environment, --env-file or --env)"); !ok {
		return code
	}
	if *format != "yaml" && *format != "json" {
		return c.usageError("--format %s: want yaml or json", *format)
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

// fail prints err, with credentials in URLs redacted, and returns exit code 1.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "error: %s\n", redact.Text(err.Error()))
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
