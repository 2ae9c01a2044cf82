// Package testflag declares the -update flag once for every test binary, so that
// `go test ./... -update` works across the module: packages with golden files read Update, the
// others import this package blank only so the flag is defined.
package testflag

import "flag"

// Update asks tests to rewrite their golden files instead of comparing against them.
var Update = flag.Bool("update", false, "rewrite golden files instead of comparing against them")
