package cli

import (
	"context"
	"io"

	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/render"
)

var factsUsage = usage{
	name:     "facts",
	synopsis: "[-o FILE] [--env-file FILE]... [--env KEY=VALUE]... [--inherit-env]",
	summary:  "print this host's platform facts as JSON (for --facts)",
	details: `Asks every platform source the variables point at (the Envoy binary's version, instance and task
metadata, uname, interfaces, the cgroup memory limit). A source that does not answer is a warning
on stderr. Exit 0, 1 for bad variables, 2 for bad flags.`,
	examples: []string{
		"appnet-agent facts -o facts.json            # in a real task, once",
		"appnet-agent render --env-file task.env --facts facts.json   # then anywhere",
	},
}

// cmdFacts asks every platform source of this host (the endpoints and Envoy path come from
// the variables) and prints the answers as JSON, for `render --facts` and `golden --facts`.
func cmdFacts(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&factsUsage, stdout, stderr)
	out := c.fs.String("o", "", "write the facts to `FILE` instead of stdout; "+outputRules)
	var envs envFlags
	envs.register(c.fs)
	if code, ok := c.parseFlagsOnly(args, ""); !ok {
		return code
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
