//go:build !appnet_lean

package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/appnet/appnet-agent/internal/golden"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/safefile"
)

// cmdGolden renders every case of CASES (directories of NAME.env, or case files) and
// compares it with its expectation. Exit 0: all passed; 1: any mismatch or broken case;
// 2: usage (flags, unreadable CASES, --facts or --template-dir).
func cmdGolden(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&goldenUsage, stdout, stderr)
	update := c.fs.Bool("update", false, "rewrite expectations that no longer match, create NAME.yaml for new cases that render")
	templateDir := c.fs.String("template-dir", "", "APPNET_TEMPLATE_DIR for every case that does not set it")
	factsFile := c.fs.String("facts", "", "platform facts of every case (appnet-agent facts output); NAME.facts.json overrides them")
	junit := c.fs.String("junit", "", "also write a JUnit XML report to `FILE`; "+outputRules)
	operands, code, ok := c.parse(args)
	if !ok {
		return code
	}
	usageErr := func(err error) int { return c.usageError("%v", err) }
	if len(operands) == 0 {
		return usageErr(fmt.Errorf("no CASES given"))
	}
	r := &golden.Runner{TemplateDir: *templateDir, Update: *update}
	if *templateDir != "" {
		if st, err := os.Stat(*templateDir); err != nil || !st.IsDir() {
			return usageErr(fmt.Errorf("--template-dir %s: not a directory", *templateDir))
		}
	}
	if *factsFile != "" {
		facts, err := platform.ReadHostFacts(*factsFile)
		if err != nil {
			return usageErr(err)
		}
		r.Facts = facts
	}
	cases, err := golden.Discover(operands)
	if err != nil {
		return usageErr(err)
	}
	results := r.Run(context.Background(), cases)
	if err := golden.WriteText(stdout, results); err != nil {
		return fail(stderr, err)
	}
	if *junit != "" {
		var b bytes.Buffer
		if err := golden.WriteJUnit(&b, "appnet-agent golden", results); err != nil {
			return usageErr(err)
		}
		if err := safefile.WriteOutput(*junit, b.Bytes(), 0o644, stdout); err != nil {
			return usageErr(fmt.Errorf("--junit: %w", err))
		}
	}
	for _, res := range results {
		if !res.OK() {
			return 1
		}
	}
	return 0
}
