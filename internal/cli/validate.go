package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/appnet/appnet-agent/internal/validate"
)

var validateUsage = usage{
	name:     "validate",
	synopsis: "[--] FILE...",
	summary:  "validate Envoy bootstraps (YAML or JSON)",
	details: `Each FILE is checked the way Envoy loads it: strict decoding, the API's rules in every typed_config,
cross-references and Envoy's load-time rules. Problems go to stdout as FILE: path.to.field: message;
warnings (deprecated fields, removed extensions, a node Envoy would take from its flags) to stderr.
Exit 0 when every file is valid, 1 when any is not, 2 for usage errors. After --, every argument
is a FILE, even one that starts with "-".`,
	examples: []string{
		"appnet-agent validate envoy.yaml",
		"appnet-agent render --env-file task.env -o envoy.yaml && appnet-agent validate envoy.yaml",
		"appnet-agent validate -- -odd-name.yaml",
	},
}

// cmdValidate checks bootstrap files with the same validator render uses.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&validateUsage, stdout, stderr)
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
		// Envoy takes node.id/node.cluster from --service-node/--service-cluster when the file lacks them, so a
		// file given to validate only gets a warning for them (render and run require them).
		b, err := validate.Decode(data)
		if err == nil {
			if probs := validate.CheckWith(b, validate.Options{}); len(probs) > 0 {
				err = probs
			}
		}
		if err != nil {
			code = 1
			var ps validate.Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					fmt.Fprintf(stdout, "%s: %s\n", path, p)
				}
			} else {
				fmt.Fprintf(stdout, "%s: %v\n", path, err)
			}
			continue
		}
		for _, p := range validate.Warnings(b) {
			fmt.Fprintf(stderr, "%s: warning: %s\n", path, p)
		}
		// The same warnings render and run give (they check aws_iam only for an Envoy of 1.35 or later; validate
		// checks for Envoy 1.35 to 1.40).
		for _, p := range append(validate.Deprecations(b), validate.AwsIamUses(b)...) {
			fmt.Fprintf(stderr, "%s: warning: %s\n", path, p)
		}
	}
	return code
}
