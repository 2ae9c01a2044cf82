// Package redact hides credentials embedded in configuration values — URL passwords and
// token-like query parameters — so that `appnet-agent env`, every log line and every error
// can show the rest of a value. Value works on one value; Text finds URLs inside free text
// (an error message that quotes a value, a log line).
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Replacement stands where a credential was.
const Replacement = "REDACTED"

// The expressions are compiled on first use, not at package initialisation: most runs of the agent
// never log or print a value that needs them, and every run paid for compiling them.

// urlUserinfo finds the password part of URLs: scheme://user:password@.
var urlUserinfo = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:"']*):[^/@\s"']*@`)
})

// secretKey matches query parameter names that carry credentials.
var secretKey = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(token|secret|password|passwd|signature|credential|api[-_]?key|access[-_]?key)`)
})

// secretParam finds, in free text, a query parameter whose name looks like a credential and
// its value, up to the next separator, space or quote.
var secretParam = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([?&;][^=&;?#\s"']*(?i:token|secret|password|passwd|signature|credential|api[-_]?key|access[-_]?key)[^=&;?#\s"']*=)[^&;#\s"']*`)
})

// Value redacts one value, which may be a URL.
func Value(v string) string {
	v = urlUserinfo().ReplaceAllString(v, "$1:"+Replacement+"@")
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if secretKey().MatchString(k) {
				q.Set(k, Replacement)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
			v = u.String()
		}
	}
	return v
}

// Text redacts every URL password and credential-like query parameter in s.
func Text(s string) string {
	if !strings.ContainsAny(s, "@?&;") { // the common case: nothing to look for
		return s
	}
	s = urlUserinfo().ReplaceAllString(s, "$1:"+Replacement+"@")
	return secretParam().ReplaceAllString(s, "${1}"+Replacement)
}
