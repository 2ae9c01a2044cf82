package cli

import (
	"io"
	"os"

	"github.com/appnet/appnet-agent/internal/env"
)

var envUsage = usage{
	name:     "env",
	synopsis: "[--markdown]",
	summary:  "list every supported variable",
	details: `For each variable: its type, default, allowed values, when it is read, and its current value in
this environment (URL credentials redacted).`,
	examples: []string{"appnet-agent env", "appnet-agent env --markdown > variables.md"},
}

// cmdEnv lists every supported variable (with current values), or the README table with --markdown.
func cmdEnv(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&envUsage, stdout, stderr)
	markdown := c.fs.Bool("markdown", false, "print the README's Markdown table instead")
	if code, ok := c.parseFlagsOnly(args, ""); !ok {
		return code
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
