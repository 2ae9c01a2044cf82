package cli

import (
	"fmt"
	"io"

	"github.com/appnet/appnet-agent/internal/validate"
)

var validateUsage = usage{
	name:     "validate",
	synopsis: "[--strict] [--] FILE...",
	summary:  "validate Envoy bootstraps as Envoy reads them (YAML or JSON, by the file's name)",
	details: `Each FILE is read the way Envoy loads it: a name ending in .yaml or .yml as YAML (yaml-cpp's reading),
any other as JSON (protobuf's JSON parser, legacy syntax allowed), with every form those parsers accept;
then the API's rules in every typed_config, cross-references and Envoy's load-time rules.
Errors (what Envoy refuses) go to stdout as FILE: path.to.field: message; warnings (what Envoy loads
but was probably not meant: a key given twice, a cluster looked up only when traffic needs it,
deprecated fields, removed extensions, a node Envoy would take from its flags) to stderr as
FILE: path.to.field: warning: message.
Exit 0 when no file has an error (warnings alone do not fail), 1 when one has (with --strict, also
when one has a warning), 2 for usage errors. After --, every argument is a FILE, even one that
starts with "-". APPNET_VALIDATION does not apply here: this command reports.`,
	examples: []string{
		"appnet-agent validate envoy.yaml",
		"appnet-agent validate --strict envoy.yaml   # fail CI on warnings too",
		"appnet-agent render --env-file task.env -o envoy.yaml && appnet-agent validate envoy.yaml",
		"appnet-agent validate -- -odd-name.yaml",
	},
}

// cmdValidate checks bootstrap files with the same validator render uses, each read as Envoy
// would read a file of that name. A node Envoy would take from --service-node/--service-cluster
// is only a warning here (render and run require it in the bootstrap).
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&validateUsage, stdout, stderr)
	strict := c.fs.Bool("strict", false, "exit 1 on warnings too")
	files, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return c.usageError("no FILE given")
	}
	for _, path := range files {
		data, err := validate.ReadDocument(path) // bounded: validate.MaxDocumentBytes
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			code = 1
			continue
		}
		b, ps := validate.Read(data, validate.FormatOf(path))
		if b != nil {
			ps = append(ps, validate.Inspect(b, validate.Options{})...)
			// The same warnings render and run give (they check aws_iam only for an Envoy of 1.35 or later;
			// validate checks for Envoy 1.35 to 1.40).
			ps = append(ps, asWarnings(append(validate.Deprecations(b), validate.AwsIamUses(b)...))...)
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
