package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/appnet/appnet-agent/internal/validate"
)

// cmdValidate checks bootstrap files with the same validator render uses.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "error: usage: appnet-agent validate FILE...")
		return 2
	}
	code := 0
	for _, path := range args {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			code = 1
			continue
		}
		b, err := validate.Bootstrap(data)
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
		for _, p := range validate.Deprecations(b) {
			fmt.Fprintf(stderr, "%s: warning: %s\n", path, p)
		}
	}
	return code
}
