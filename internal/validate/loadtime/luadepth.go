package loadtime

import "strings"

// luaMaxLevels is LuaJIT's limit on syntactic nesting: LJ_MAX_XLEVEL (200, src/lj_def.h). Its
// parser takes a level for the main chunk and for every expression, block and function body it
// enters (synlevel_begin in src/lj_parse.c) and fails with "chunk has too many syntax levels"
// when it reaches 200.
const luaMaxLevels = 200

// luaTooDeep returns the line where code first nests brackets ((, {, [) and blocks (function,
// do, then, else, repeat) more than limit deep, skipping strings and comments; 0 when it never
// does. Each of those costs LuaJIT at least one level on top of the main chunk's, so code
// deeper than luaMaxLevels-2 cannot load in Envoy. Checked before the script is parsed: a Lua
// parser's memory grows with the nesting (800 KB of nested parentheses took 300 MB).
func luaTooDeep(code string, limit int) int {
	depth, line := 0, 1
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == '-' && strings.HasPrefix(code[i:], "--"):
			if end, ok := longBracket(code, i+2); ok {
				line += strings.Count(code[i:end], "\n")
				i = end
			} else if nl := strings.IndexByte(code[i:], '\n'); nl >= 0 {
				i += nl
			} else {
				i = len(code)
			}
		case c == '"' || c == '\'':
			i = quotedEnd(code, i)
		case c == '[':
			if end, ok := longBracket(code, i); ok {
				line += strings.Count(code[i:end], "\n")
				i = end
				continue
			}
			depth++
			i++
		case c == '(' || c == '{':
			depth++
			i++
		case c == ')' || c == '}' || c == ']':
			depth--
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(code) && (code[j] == '_' || code[j] == '.' && c >= '0' && c <= '9' ||
				code[j] >= 'a' && code[j] <= 'z' || code[j] >= 'A' && code[j] <= 'Z' || code[j] >= '0' && code[j] <= '9') {
				j++
			}
			switch code[i:j] {
			case "function", "do", "then", "repeat":
				depth++
			case "end", "until", "elseif":
				depth--
			}
			i = j
		default:
			i++
		}
		if depth > limit {
			return line
		}
	}
	return 0
}

// longBracket returns the end of a long bracket ([[...]], [==[...]==]) opening at i.
func longBracket(code string, i int) (int, bool) {
	if i >= len(code) || code[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(code) && code[j] == '=' {
		j++
	}
	if j >= len(code) || code[j] != '[' {
		return 0, false
	}
	closing := "]" + strings.Repeat("=", j-i-1) + "]"
	if end := strings.Index(code[j+1:], closing); end >= 0 {
		return j + 1 + end + len(closing), true
	}
	return len(code), true
}

// quotedEnd returns the end of the string literal opening at i (or the end of its line, where
// an unfinished one stops).
func quotedEnd(code string, i int) int {
	q := code[i]
	for j := i + 1; j < len(code); j++ {
		switch code[j] {
		case '\\':
			j++
		case q:
			return j + 1
		case '\n':
			return j
		}
	}
	return len(code)
}
