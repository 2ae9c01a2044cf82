package env

import (
	"net/url"
	"regexp"
)

// urlUserinfo finds the password part of URLs in a value: scheme://user:password@.
var urlUserinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*):[^/@\s]*@`)

// Redact hides credentials embedded in a value (URL passwords and token-like query
// parameters), so that `appnet-agent env`, logs and errors can show the rest of it.
func Redact(v string) string {
	v = urlUserinfo.ReplaceAllString(v, "$1:REDACTED@")
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if secretQueryKey.MatchString(k) {
				q.Set(k, "REDACTED")
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

// secretQueryKey matches query parameter names that carry credentials.
var secretQueryKey = regexp.MustCompile(`(?i)(token|secret|password|passwd|signature|credential|api[-_]?key|access[-_]?key)`)
