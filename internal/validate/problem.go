// Package validate decodes and checks Envoy bootstraps the way Envoy itself would, without running Envoy: a strict,
// Envoy-lenient decode (Decode), PGV rules on every message including unpacked Any payloads plus cross-reference
// checks (Check), a lint pass for our own templates (LintNode), deprecation warnings (Deprecations) and a stable
// serialisation of the validated proto (CanonicalJSON, CanonicalYAML). Envoy's load-time rules live in loadtime.
//
// Why this package is shaped as it is (its own YAML emitter, every extension linked): docs/DESIGN.md.
package validate

import (
	"strconv"
	"strings"
)

// Problem is one finding, with a field path like
// "static_resources.listeners[0].filter_chains[0].filters[0].typed_config<HttpConnectionManager>.stat_prefix".
type Problem struct {
	Path    string
	Message string
	// Warning marks a finding Envoy does not refuse: the bootstrap loads, but probably not as meant (a key given
	// twice, a cluster looked up only when traffic needs it...). Errors are what Envoy refuses at load.
	Warning bool
}

// String renders the problem as "path: message", or just the message when there is no path.
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is a list of findings. It implements error, one Problem per line.
type Problems []Problem

// Error joins the problems, one per line.
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Errors returns the problems that are errors, in order; nil if there are none.
func (ps Problems) Errors() Problems { return ps.filter(false) }

// Warnings returns the problems that are warnings, in order; nil if there are none.
func (ps Problems) Warnings() Problems { return ps.filter(true) }

func (ps Problems) filter(warning bool) Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning == warning {
			out = append(out, p)
		}
	}
	return out
}

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// asError turns an empty list into a nil error, so that callers never see a non-nil error holding no problems.
func (ps Problems) asError() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// joinPath appends a field name to a dotted path.
func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
