package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/appnet/appnet-agent/internal/golden"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/safefile"
)

const goldenUsage = "usage: appnet-agent golden [--update] [--template-dir DIR] [--facts FILE] [--junit FILE] CASES..."

// cmdGolden renders every case of CASES (directories of NAME.env, or case files) and
// compares it with its expectation. Exit 0: all passed; 1: any mismatch or broken case;
// 2: usage (flags, unreadable CASES, --facts or --template-dir).
func cmdGolden(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("golden", flag.ContinueOnError)
	fs.SetOutput(stderr)
	update := fs.Bool("update", false, "rewrite expectations that no longer match, create NAME.yaml for new cases that render")
	templateDir := fs.String("template-dir", "", "APPNET_TEMPLATE_DIR for every case that does not set it")
	factsFile := fs.String("facts", "", "platform facts of every case (appnet-agent facts output); NAME.facts.json overrides them")
	junit := fs.String("junit", "", "also write a JUnit XML report to `FILE`; "+outputRules)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(err error) int {
		fmt.Fprintf(stderr, "error: %v\n%s\n", err, goldenUsage)
		return 2
	}
	if fs.NArg() == 0 {
		return usage(fmt.Errorf("no CASES given"))
	}
	r := &golden.Runner{TemplateDir: *templateDir, Update: *update}
	if *templateDir != "" {
		if st, err := os.Stat(*templateDir); err != nil || !st.IsDir() {
			return usage(fmt.Errorf("--template-dir %s: not a directory", *templateDir))
		}
	}
	if *factsFile != "" {
		facts, err := platform.ReadHostFacts(*factsFile)
		if err != nil {
			return usage(err)
		}
		r.Facts = facts
	}
	cases, err := golden.Discover(fs.Args())
	if err != nil {
		return usage(err)
	}
	results := r.Run(context.Background(), cases)
	if err := golden.WriteText(stdout, results); err != nil {
		return fail(stderr, err)
	}
	if *junit != "" {
		var b bytes.Buffer
		if err := golden.WriteJUnit(&b, "appnet-agent golden", results); err != nil {
			return usage(err)
		}
		if err := safefile.WriteOutput(*junit, b.Bytes(), 0o644, stdout); err != nil {
			return usage(fmt.Errorf("--junit: %w", err))
		}
	}
	for _, res := range results {
		if !res.OK() {
			return 1
		}
	}
	return 0
}
