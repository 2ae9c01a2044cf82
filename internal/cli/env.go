package cli

import (
	"flag"
	"io"
	"os"

	"github.com/appnet/appnet-agent/internal/env"
)

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
