package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/appnet/appnet-agent/internal/validate"
)

const validateUsage = "usage: appnet-agent validate [--strict] FILE..."

// cmdValidate checks bootstrap files with the same validator render uses, reading each as Envoy
// would (YAML when its name ends in .yaml or .yml, JSON otherwise). Errors — what Envoy refuses —
// go to stdout as "FILE: PATH: MESSAGE"; warnings — what Envoy loads but probably not as meant —
// to stderr as "FILE: PATH: warning: MESSAGE". Exit 0 when no file has an error (warnings only,
// or nothing), 1 when one has (or, with --strict, a warning), 2 for bad usage.
//
// A node Envoy would take from --service-node/--service-cluster is only a warning here (render
// and run require it in the bootstrap). APPNET_VALIDATION does not apply: this command reports.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "error: "+validateUsage)
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		data, err := validate.ReadDocument(path) // bounded: validate.MaxDocumentBytes
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			code = 1
			continue
		}
		b, ps := validate.Read(data, validate.FormatOf(path))
		if b != nil {
			ps = append(ps, validate.Inspect(b, validate.Options{})...)
			ps = append(ps, asWarnings(validate.Deprecations(b))...)
		}
		for _, p := range ps {
			if p.Warning {
				fmt.Fprintf(stderr, "%s: %s\n", path, warningLine(p))
			} else {
				fmt.Fprintf(stdout, "%s: %s\n", path, p)
			}
		}
		if ps.HasErrors() || (*strict && len(ps) > 0) {
			code = 1
		}
	}
	return code
}

// warningLine renders a warning as "PATH: warning: MESSAGE" ("warning: MESSAGE" without a path).
func warningLine(p validate.Problem) string {
	if p.Path == "" {
		return "warning: " + p.Message
	}
	return p.Path + ": warning: " + p.Message
}

func asWarnings(ps []validate.Problem) validate.Problems {
	for i := range ps {
		ps[i].Warning = true
	}
	return ps
}
