package loadtime

import (
	"errors"
	"regexp/syntax"
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Regular expression rules: source/common/common/regex.cc. Envoy compiles every safe_regex with RE2 when it loads
// the configuration; Go's regexp/syntax parses the same RE2 syntax, so a pattern it refuses RE2 refuses too.

const regexSource = "source/common/common/regex.cc"

func init() {
	// Every RegexMatcher, wherever it is used: route and header matchers, string matchers (CORS, CSRF, RBAC, stats
	// matchers, ...), regex rewrites. The xDS matcher API has its own copy of the message.
	register("envoy.type.matcher.v3.RegexMatcher", re2Matcher)
	register("xds.type.matcher.v3.RegexMatcher", re2Matcher)
}

// re2Matcher: the pattern must compile.
// Envoy: source/common/common/regex.cc (CompiledGoogleReMatcher) — RE2's own error, e.g. "missing ): (a".
func re2Matcher(c *Context, m protoreflect.Message) {
	fd := m.Descriptor().Fields().ByName("regex")
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return
	}
	pattern := m.Get(fd).String()
	if err := parseRegex(pattern); err != nil {
		c.envoyf(c.at("regex"), regexSource, "RE2 cannot compile %q: %s", pattern, reason(err))
	}
}

// parsedRegexes remembers patterns that parse, so that the same bootstrap rendered again (the agent renders on
// every start and every reload, with the same stats tags) does not parse them again. Bounded, because patterns
// come from the input.
var parsedRegexes struct {
	sync.Mutex
	ok map[string]bool
}

const maxParsedRegexes = 1024

func parseRegex(pattern string) error {
	parsedRegexes.Lock()
	known := parsedRegexes.ok[pattern]
	parsedRegexes.Unlock()
	if known {
		return nil
	}
	if _, err := syntax.Parse(withoutAnyByte(pattern), syntax.Perl); err != nil {
		return err
	}
	parsedRegexes.Lock()
	defer parsedRegexes.Unlock()
	if parsedRegexes.ok == nil || len(parsedRegexes.ok) >= maxParsedRegexes {
		parsedRegexes.ok = map[string]bool{}
	}
	parsedRegexes.ok[pattern] = true
	return nil
}

// withoutAnyByte replaces RE2's \C (any byte), which Go's grammar lacks, by an any-character group, so that the
// rest of the pattern is still checked. \C inside a character class stays: RE2 refuses it there too.
func withoutAnyByte(p string) string {
	if !strings.Contains(p, `\C`) {
		return p
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '\\' && i+1 < len(p):
			if p[i+1] == 'C' && !inClass {
				b.WriteString("(?s:.)")
			} else {
				b.WriteString(p[i : i+2])
			}
			i++
			continue
		case ch == '[' && !inClass:
			inClass = true
			b.WriteByte(ch)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' { // a leading ] is a literal
				b.WriteByte(']')
				i++
			}
			continue
		case ch == ']' && inClass:
			inClass = false
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func reason(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code) + ": " + se.Expr
	}
	return err.Error()
}
