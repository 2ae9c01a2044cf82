package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// ownFuncs are the template functions of our own, in every build: q (the one quoting function for
// strings), pbDuration, toJson (flow-style JSON that fails loudly) and include (execute a named
// template into a string, so a partial can be indented).
func ownFuncs(include func(name string, data any) (string, error)) template.FuncMap {
	return template.FuncMap{
		"q":          quote,
		"pbDuration": pbDuration,
		"toJson":     toJSON,
		"include":    include,
	}
}

// builtInFuncs is what the built-in templates call: our own functions and, under sprig's names and
// with sprig's signatures and results, the few of sprig's they use (TestBuiltInTemplatesCallOnlyBuiltInFuncs
// keeps the list complete, TestBuiltInSprigSubsetMatchesSprig the results identical). The lean build
// (funcs_lean.go) gives the templates only these, so it does not link sprig and the ~2 ms of package
// initialisation its dependencies cost (semver, decimal, the crypto and uuid packages).
func builtInFuncs(include func(name string, data any) (string, error)) template.FuncMap {
	fm := ownFuncs(include)
	fm["indent"] = indentBlock
	fm["nindent"] = nindentBlock
	fm["trim"] = strings.TrimSpace
	return fm
}

// indentBlock puts spaces spaces before every line of s (sprig's indent). A negative count panics
// like sprig's, which text/template reports as the call's error.
func indentBlock(spaces int, s string) string {
	pad := strings.Repeat(" ", spaces)
	var b strings.Builder
	b.Grow(len(s) + (strings.Count(s, "\n")+1)*len(pad))
	for {
		b.WriteString(pad)
		line, rest, more := strings.Cut(s, "\n")
		b.WriteString(line)
		if !more {
			return b.String()
		}
		b.WriteByte('\n')
		s = rest
	}
}

// nindentBlock is indentBlock after a line break (sprig's nindent), for a block placed under a key.
func nindentBlock(spaces int, s string) string { return "\n" + indentBlock(spaces, s) }

// quote renders a string as a YAML double-quoted scalar that means the same in YAML 1.1 and 1.2,
// so no environment value can change the document's structure. Invalid UTF-8 is refused rather
// than silently replaced.
func quote(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("q: want a string, got %T (numbers and booleans are written bare)", v)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("q: invalid UTF-8 in %q", s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= 0x20 && r < 0x7f,
			r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029,
			r >= 0xe000 && r <= 0xfffd && r != 0xfeff,
			r >= 0x10000:
			b.WriteRune(r)
		default: // C0/C1 controls, DEL, line/paragraph separators, BOM, non-characters
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// pbDuration renders a duration in protobuf JSON form ("90s", "1.500s"); Go's "1m30s" is invalid there.
func pbDuration(v any) (string, error) {
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case *time.Duration:
		if x == nil {
			return "", fmt.Errorf("pbDuration: nil duration")
		}
		d = *x
	default:
		return "", fmt.Errorf("pbDuration: want a time.Duration, got %T", v)
	}
	return formatDuration(d), nil
}

// formatDuration uses 0, 3, 6 or 9 fractional digits, like protobuf's JSON mapping.
func formatDuration(d time.Duration) string {
	sec, nanos := int64(d/time.Second), int64(d%time.Second)
	sign := ""
	if d < 0 {
		sign, sec, nanos = "-", -sec, -nanos
	}
	s := sign + strconv.FormatInt(sec, 10)
	switch {
	case nanos == 0:
	case nanos%1e6 == 0:
		s += fmt.Sprintf(".%03d", nanos/1e6)
	case nanos%1e3 == 0:
		s += fmt.Sprintf(".%06d", nanos/1e3)
	default:
		s += fmt.Sprintf(".%09d", nanos)
	}
	return s + "s"
}

// toJSON renders a value as single-line JSON, which is valid flow-style YAML; unlike sprig's it
// reports errors and escapes nothing for HTML. Characters that JSON may carry raw but YAML forbids or
// reads as a line break (DEL, C1 controls including NEL, BOM, U+FFFE/U+FFFF; encoding/json already
// escapes C0 controls and U+2028/U+2029) are written as \uXXXX escapes, which mean the same in both.
func toJSON(v any) (string, error) {
	out, ok := appendJSON(make([]byte, 0, 512), v, 0) // the template data's types, without reflection
	if !ok {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", fmt.Errorf("toJson: %w", err)
		}
		out = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	if !hasYAMLForbidden(out) {
		return string(out), nil
	}
	// Outside strings JSON is ASCII, so every such character is inside a string, where an escape is valid.
	var e strings.Builder
	e.Grow(len(out) + 16)
	for _, r := range string(out) {
		if yamlForbiddenRune(r) {
			fmt.Fprintf(&e, `\u%04x`, r)
		} else {
			e.WriteRune(r)
		}
	}
	return e.String(), nil
}

// yamlForbiddenRune reports the characters toJSON must escape.
func yamlForbiddenRune(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfeff || r == 0xfffe || r == 0xffff
}

func hasYAMLForbidden(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] >= 0x7f {
			return bytes.ContainsFunc(b[i:], yamlForbiddenRune)
		}
	}
	return false
}
