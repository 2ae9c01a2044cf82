package main

import (
	"regexp"
	"strings"
)

// site is one place in a C++ file that rejects configuration.
type site struct {
	line     int
	kind     string // throw, status, pgv, panic
	function string
	message  string
	literal  bool // the message has text of its own (not only a value passed on)
}

// sitePatterns find the calls that reject configuration, in source with comments masked.
var sitePatterns = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`\bthrow\s+(?:[A-Za-z_][A-Za-z_0-9]*::)*[A-Za-z_0-9]*Exception\s*\(`), "throw"},
	{regexp.MustCompile(`\bthrowEnvoyExceptionOrPanic\s*\(`), "throw"},
	{regexp.MustCompile(`\bExceptionUtil::throwEnvoyException\s*\(`), "throw"},
	{regexp.MustCompile(`\bthrowProtoValidationException\s*\(`), "pgv"},
	{regexp.MustCompile(`\babsl::(?:InvalidArgument|FailedPrecondition|Unimplemented|OutOfRange|NotFound|AlreadyExists)Error\s*\(`), "status"},
	{regexp.MustCompile(`\bPANIC\s*\(`), "panic"},
}

// definitionRE matches a line that declares or defines one of the throwing helpers rather than calling it.
var definitionRE = regexp.MustCompile(`^\s*(?:static\s+|inline\s+|\[\[noreturn\]\]\s+|ABSL_ATTRIBUTE_NORETURN\s+)*void\s+(?:\w+::)*throw\w*\s*\(`)

// scan lists the sites of one file.
func scan(src string, header bool) []site {
	masked := maskComments(src)
	lines := strings.Split(masked, "\n")
	lineStart := make([]int, len(lines))
	off := 0
	for i, l := range lines {
		lineStart[i] = off
		off += len(l) + 1
	}
	lineOf := func(pos int) int { // 0-based
		lo, hi := 0, len(lineStart)-1
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if lineStart[mid] <= pos {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		return lo
	}
	var out []site
	for _, p := range sitePatterns {
		for _, m := range p.re.FindAllStringIndex(masked, -1) {
			ln := lineOf(m[0])
			text := lines[ln]
			if inMacro(lines, ln) || definitionRE.MatchString(text) {
				continue
			}
			args, ok := callArgs(masked, m[1]-1)
			if !ok {
				continue
			}
			msg := renderArgs(args)
			if ident := identRE.FindStringSubmatch(strings.TrimSpace(splitTop(args, ',')[0])); ident != nil {
				msg = localMessage(lines, ln, ident[1], msg)
			}
			out = append(out, site{
				line:     ln + 1,
				kind:     p.kind,
				function: enclosingFunction(lines, ln, header),
				message:  msg,
				literal:  strings.Trim(strings.ReplaceAll(msg, "{}", ""), " .:,;'\"-()[]") != "",
			})
		}
	}
	return out
}

// identRE matches an argument that is a local variable (possibly converted to a string).
var identRE = regexp.MustCompile(`^(?:std::string\()?([a-z_][A-Za-z0-9_]*)\)?(?:\.c_str\(\))?$`)

// localMessage renders the message a local variable holds when the call passes one ("const std::string message =
// fmt::format(...); ... InvalidArgumentError(message)"): the nearest assignment within the few lines above.
func localMessage(lines []string, ln int, ident, fallback string) string {
	assign := regexp.MustCompile(`\b` + ident + `\s*=\s*(.*)$`)
	for i := ln - 1; i >= 0 && i >= ln-12; i-- {
		m := assign.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		expr := m[1]
		for j := i + 1; !strings.HasSuffix(strings.TrimSpace(expr), ";") && j < len(lines) && j <= i+8; j++ {
			expr += "\n" + lines[j]
		}
		expr = strings.TrimSuffix(strings.TrimSpace(expr), ";")
		if out := strings.Join(strings.Fields(render(expr)), " "); out != "{}" && out != "" {
			return out
		}
		return fallback
	}
	return fallback
}

// inMacro reports a line that is part of a #define (macros only pass errors on).
func inMacro(lines []string, ln int) bool {
	for i := ln; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, "#define") {
			return true
		}
		if i < ln && !strings.HasSuffix(strings.TrimRight(lines[i], " "), "\\") {
			return false
		}
		if i == ln && i > 0 && !strings.HasSuffix(strings.TrimRight(lines[i-1], " "), "\\") {
			return false
		}
	}
	return false
}

// maskComments blanks out comments (keeping newlines and string literals), so that patterns and parentheses in
// comments are not seen.
func maskComments(src string) string {
	b := []byte(src)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '/':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			b[i], b[i+1] = ' ', ' '
			for i += 2; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		case b[i] == 'R' && i+1 < len(b) && b[i+1] == '"' && (i == 0 || !isIdent(b[i-1])):
			i = skipRaw(b, i+1)
		case b[i] == '"':
			i = skipQuoted(b, i, '"')
		case b[i] == '\'' && !(i > 0 && isDigit(b[i-1])):
			i = skipQuoted(b, i, '\'')
		}
	}
	return string(b)
}

func isIdent(c byte) bool { return c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipQuoted returns the index of the closing quote of the literal opening at i.
func skipQuoted(b []byte, i int, q byte) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case q, '\n':
			return j
		}
	}
	return len(b) - 1
}

// skipRaw returns the index of the closing quote of the raw string literal whose opening quote is at i.
func skipRaw(b []byte, i int) int {
	open := strings.IndexByte(string(b[i:]), '(')
	if open < 0 {
		return i
	}
	delim := ")" + string(b[i+1:i+open]) + "\""
	end := strings.Index(string(b[i+open:]), delim)
	if end < 0 {
		return len(b) - 1
	}
	return i + open + end + len(delim) - 1
}

// callArgs returns the text between the parenthesis at open and its match.
func callArgs(s string, open int) (string, bool) {
	b := []byte(s)
	depth := 0
	for i := open; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = skipQuoted(b, i, '"')
		case 'R':
			if i+1 < len(b) && b[i+1] == '"' && !isIdent(b[i-1]) {
				i = skipRaw(b, i+1)
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				return s[open+1 : i], true
			}
		}
	}
	return "", false
}

// splitTop splits an argument list at its top-level commas (or at another separator).
func splitTop(s string, sep byte) []string {
	b := []byte(s)
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = skipQuoted(b, i, '"')
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '<':
			// template arguments: std::vector<a, b> is rare in messages; treat '<' as an operator.
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

var (
	literalRE = regexp.MustCompile(`^(?:u8|L|u|U)?"((?:[^"\\]|\\.)*)"$`)
	callRE    = regexp.MustCompile(`^([A-Za-z_][\w:]*(?:<[^()]*>)?)\s*\(([\s\S]*)\)$`)
)

// renderArgs renders a site's message: the text Envoy builds, with {} for every value filled in at run time.
func renderArgs(args string) string {
	parts := splitTop(args, ',')
	msg := render(parts[0])
	return strings.Join(strings.Fields(msg), " ")
}

// render renders one C++ expression that builds a message.
func render(expr string) string {
	e := strings.TrimSpace(expr)
	for strings.HasPrefix(e, "(") {
		inner, ok := callArgs(e, 0)
		if !ok || len(inner)+2 != len(e) {
			break
		}
		e = strings.TrimSpace(inner)
	}
	if e == "" {
		return ""
	}
	if lits, ok := adjacentLiterals(e); ok {
		return lits
	}
	if parts := splitTop(e, '+'); len(parts) > 1 {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(render(p))
		}
		return b.String()
	}
	if m := callRE.FindStringSubmatch(e); m != nil {
		args := splitTop(m[2], ',')
		switch name := m[1]; {
		case strings.HasSuffix(name, "format") || strings.HasSuffix(name, "StrFormat") || strings.HasSuffix(name, "sprintf"):
			f := strings.TrimSpace(args[0])
			if inner := callRE.FindStringSubmatch(f); inner != nil && strings.HasSuffix(inner[1], "runtime") {
				f = inner[2]
			}
			out := render(f)
			if strings.HasSuffix(name, "StrFormat") || strings.HasSuffix(name, "sprintf") {
				out = printfVerbRE.ReplaceAllString(out, "{}")
			}
			return out
		case strings.HasSuffix(name, "StrCat"):
			var b strings.Builder
			for _, a := range args {
				b.WriteString(render(a))
			}
			return b.String()
		case strings.HasSuffix(name, "string") || strings.HasSuffix(name, "string_view"):
			return render(args[0])
		}
	}
	return "{}"
}

var printfVerbRE = regexp.MustCompile(`%[-+ #0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z]`)

// adjacentLiterals joins a sequence of string literals ("a" "b"), as the compiler does.
func adjacentLiterals(e string) (string, bool) {
	var b strings.Builder
	rest := strings.TrimSpace(e)
	if rest == "" || (rest[0] != '"' && !strings.HasPrefix(rest, "R\"")) {
		return "", false
	}
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "R\""):
			end := skipRaw([]byte(rest), 1)
			open := strings.IndexByte(rest, '(')
			closeAt := strings.LastIndex(rest[:end], ")")
			if open < 0 || closeAt < open {
				return "", false
			}
			b.WriteString(rest[open+1 : closeAt])
			rest = strings.TrimSpace(rest[end+1:])
		case rest[0] == '"':
			end := skipQuoted([]byte(rest), 0, '"')
			lit := rest[:end+1]
			m := literalRE.FindStringSubmatch(lit)
			if m == nil {
				return "", false
			}
			b.WriteString(unescape(m[1]))
			rest = strings.TrimSpace(rest[end+1:])
		default:
			return "", false
		}
	}
	return b.String(), true
}

func unescape(s string) string {
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, " ", `\t`, " ", `\'`, "'").Replace(s)
}

// functionRE takes the qualified name before the parameter list of a function definition.
var functionRE = regexp.MustCompile(`([~A-Za-z_][\w:~<>,]*)\s*\(`)

// enclosingFunction guesses the C++ function around line ln: the nearest line above that starts a definition. In a
// .cc file that is a line at column 0 (Envoy's style does not indent namespaces); in a header, a member defined in
// its class body is indented by one or two levels and its head ends the line with "{" or ")".
func enclosingFunction(lines []string, ln int, header bool) string {
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	for i := ln - 1; i >= 0; i-- {
		l := lines[i]
		t := strings.TrimSpace(l)
		switch {
		case t == "":
			continue
		case !header && indent(l) != 0:
			continue
		case header && (indent(l) > 4 || indent(l) > 0 && !strings.HasSuffix(t, "{") && !strings.HasSuffix(t, ")") &&
			!strings.HasSuffix(t, "override {")):
			continue
		}
		if strings.HasPrefix(t, "}") || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "namespace") ||
			strings.HasPrefix(t, "public:") || strings.HasPrefix(t, "private:") || strings.HasPrefix(t, "protected:") ||
			strings.HasPrefix(t, "template") || strings.HasSuffix(t, ";") && !strings.Contains(t, "{") {
			continue
		}
		m := functionRE.FindStringSubmatch(t)
		if m == nil || isKeyword(m[1]) {
			continue
		}
		return m[1]
	}
	return ""
}

func isKeyword(s string) bool {
	switch s {
	case "if", "for", "while", "switch", "return", "catch", "sizeof", "TRY_ASSERT_MAIN_THREAD", "END_TRY", "CATCH",
		"ASSERT", "RELEASE_ASSERT", "ENVOY_LOG", "ENVOY_BUG", "IS_ENVOY_BUG", "static_cast", "dynamic_cast",
		"reinterpret_cast", "decltype", "template":
		return true
	}
	return false
}
