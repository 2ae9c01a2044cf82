package validate

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// legacyJSON rewrites a JSON bootstrap written in the legacy syntax protobuf's JSON lexer accepts (Envoy reads a
// bootstrap whose name does not end in .yaml or .yml with that parser directly, legacy syntax allowed) as strict
// JSON with the same line breaks, so that the YAML parser reads what Envoy's lexer reads. The legacy forms
// (protobuf v35.1 src/google/protobuf/json/internal/lexer.h and lexer.cc; lexer_test.cc's DoLegacy cases):
//
//   - strings in single quotes, in which \' is an escape (lexer.cc:350-388);
//   - object keys as bare words of letters, digits and '_', not starting with a digit and not null, true or false
//     (lexer.h:315-321, lexer.cc:494-506);
//   - a comma after the last element of an array or object (lexer.h:277-291, 307-334);
//   - \U as well as \u for a Unicode escape (lexer.cc:457-463);
//   - raw control characters inside strings (lexer.cc:474-487).
//
// Everything else is as strict as protobuf's lexer: whitespace is space, tab, CR and LF only; numbers follow
// ParseRawNumber (lexer.cc:211-286); the document is one object with nothing after it (parser.cc:1360-1363).
// It returns an error saying where the input stops being such JSON.
func legacyJSON(data []byte) ([]byte, error) {
	l := &legacyLexer{in: data, line: 1, out: make([]byte, 0, len(data)+len(data)/8)}
	l.space()
	if l.pos >= len(l.in) || l.in[l.pos] != '{' {
		return nil, l.fail("expected '{'")
	}
	if err := l.value(0); err != nil {
		return nil, err
	}
	l.space()
	if l.pos < len(l.in) {
		return nil, l.fail("extraneous characters after end of JSON object")
	}
	return l.out, nil
}

type legacyLexer struct {
	in   []byte
	pos  int
	line int
	out  []byte
}

func (l *legacyLexer) fail(msg string) error {
	return fmt.Errorf("invalid JSON at line %d: %s", l.line, msg)
}

// space copies whitespace, keeping line breaks where they were.
func (l *legacyLexer) space() {
	for l.pos < len(l.in) {
		switch c := l.in[l.pos]; c {
		case '\n':
			l.line++
			fallthrough
		case ' ', '\t', '\r':
			l.out = append(l.out, c)
			l.pos++
		default:
			return
		}
	}
}

func (l *legacyLexer) peek() byte {
	l.space()
	if l.pos < len(l.in) {
		return l.in[l.pos]
	}
	return 0
}

func (l *legacyLexer) value(depth int) error {
	if depth > maxDepth {
		return l.fail("nested too deeply")
	}
	switch c := l.peek(); {
	case c == '{':
		return l.object(depth)
	case c == '[':
		return l.array(depth)
	case c == '"' || c == '\'':
		return l.str()
	case c == '-' || c >= '0' && c <= '9':
		return l.number()
	case c == 't':
		return l.literal("true")
	case c == 'f':
		return l.literal("false")
	case c == 'n':
		return l.literal("null")
	case c == 0:
		return l.fail("unexpected end of input")
	default:
		return l.fail(fmt.Sprintf("unexpected character: '%c'", c))
	}
}

func (l *legacyLexer) literal(word string) error {
	if len(l.in)-l.pos < len(word) || string(l.in[l.pos:l.pos+len(word)]) != word {
		return l.fail("expected " + word)
	}
	l.out = append(l.out, word...)
	l.pos += len(word)
	return nil
}

// object follows VisitObject: keys quoted or bare, a trailing comma allowed.
func (l *legacyLexer) object(depth int) error {
	return l.sequence('{', '}', func() error {
		var err error
		if c := l.peek(); c == '"' || c == '\'' {
			err = l.str()
		} else {
			err = l.bareWord()
		}
		if err != nil {
			return err
		}
		if l.peek() != ':' {
			return l.fail("expected ':'")
		}
		l.out = append(l.out, ':')
		l.pos++
		return l.value(depth + 1)
	})
}

// array follows VisitArray: a trailing comma allowed.
func (l *legacyLexer) array(depth int) error {
	return l.sequence('[', ']', func() error { return l.value(depth + 1) })
}

// sequence reads open, items separated by commas (one may follow the last), and close.
func (l *legacyLexer) sequence(open, close byte, item func() error) error {
	l.out = append(l.out, open)
	l.pos++
	if l.peek() == close {
		l.out = append(l.out, close)
		l.pos++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		comma := l.peek() == ','
		if comma {
			l.pos++
		}
		if l.peek() == close {
			l.out = append(l.out, close)
			l.pos++
			return nil
		}
		if !comma {
			return l.fail("expected ','")
		}
		l.out = append(l.out, ',')
	}
}

// bareWord follows ParseBareWord: [A-Za-z0-9_]+, not starting with a digit, not null/true/false.
func (l *legacyLexer) bareWord() error {
	start := l.pos
	for l.pos < len(l.in) {
		c := l.in[l.pos]
		if c != '_' && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			break
		}
		l.pos++
	}
	w := string(l.in[start:l.pos])
	if w == "" || (w[0] >= '0' && w[0] <= '9') || w == "null" || w == "true" || w == "false" {
		l.pos = start
		return l.fail("expected a string or a bare word as object key")
	}
	l.out = appendString(l.out, w)
	return nil
}

// number follows ParseRawNumber: the longest run of a JSON-ish number, then no leading zero, no trailing '.', a
// value absl::SimpleAtod reads as finite, and a delimiter after it.
func (l *legacyLexer) number() error {
	start := l.pos
	state := 0 // 0 integer part, 1 fraction, 2 exponent
	var prev byte
	for l.pos < len(l.in) {
		c := l.in[l.pos]
		digit := c >= '0' && c <= '9'
		lastDigit := prev >= '0' && prev <= '9'
		ok := digit ||
			(state == 0 && c == '-' && !lastDigit) ||
			(state == 0 && lastDigit && c == '.') ||
			(state != 2 && lastDigit && (c == 'e' || c == 'E')) ||
			((prev == 'e' || prev == 'E') && (c == '-' || c == '+'))
		if !ok {
			break
		}
		switch {
		case c == '.':
			state = 1
		case c == 'e' || c == 'E':
			state = 2
		}
		prev = c
		l.pos++
	}
	text := string(l.in[start:l.pos])
	digits := text
	if digits != "" && digits[0] == '-' {
		digits = digits[1:]
	}
	switch {
	case text == "" || text == "-":
		return l.fail("expected a number")
	case len(digits) > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9':
		return l.fail("number cannot have extraneous leading zero")
	case text[len(text)-1] == '.':
		return l.fail("number cannot have trailing period")
	}
	if d, ok := atod(text); !ok || math.IsInf(d, 0) {
		return l.fail("invalid number: '" + text + "'")
	}
	l.out = append(l.out, text...)
	if c := l.peek(); c != 0 && c != ',' && c != ']' && c != '}' {
		return l.fail(fmt.Sprintf("unexpected character: '%c'", c))
	}
	return nil
}

// str follows ParseUtf8: double or single quotes; escapes \" \\ \/ \b \f \n \r \t, \' (legacy), \uXXXX and
// \UXXXX (legacy) with surrogate pairs; raw control characters allowed; the result must be valid UTF-8. It is
// written back as a double-quoted JSON string.
func (l *legacyLexer) str() error {
	quote := l.in[l.pos]
	l.pos++
	var s []byte
	for {
		if l.pos >= len(l.in) {
			return l.fail("EOF inside string")
		}
		c := l.in[l.pos]
		l.pos++
		switch {
		case c == quote:
			if !utf8.Valid(s) {
				return l.fail("Invalid UTF-8 string")
			}
			l.out = appendString(l.out, string(s))
			return nil
		case c == '\\':
			if l.pos >= len(l.in) {
				return l.fail("EOF inside string")
			}
			e := l.in[l.pos]
			l.pos++
			if e == 'u' || e == 'U' {
				r, err := l.unicodeEscape()
				if err != nil {
					return err
				}
				s = utf8.AppendRune(s, r)
				continue
			}
			simple := simpleEscape(e)
			if simple == 0 {
				return l.fail(fmt.Sprintf("invalid escape char: '%c'", e))
			}
			s = append(s, simple)
		default:
			if c == '\n' {
				l.line++
			}
			s = append(s, c)
		}
	}
}

// simpleEscape is ParseSimpleEscape with legacy syntax (lexer.cc:350-376); 0 for an invalid escape.
func simpleEscape(e byte) byte {
	switch e {
	case '"', '\\', '/', '\'':
		return e
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return 0
}

// unicodeEscape reads the four hex digits after \u (a high surrogate must be followed by \u and a low one).
func (l *legacyLexer) unicodeEscape() (rune, error) {
	hex4 := func() (rune, error) {
		if len(l.in)-l.pos < 4 {
			return 0, l.fail("invalid Unicode escape")
		}
		var v rune
		for _, c := range l.in[l.pos : l.pos+4] {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				v = v<<4 | rune(c-'A'+10)
			default:
				return 0, l.fail("invalid Unicode escape")
			}
		}
		l.pos += 4
		return v, nil
	}
	r, err := hex4()
	if err != nil {
		return 0, err
	}
	switch {
	case r >= 0xdc00 && r <= 0xdfff:
		return 0, l.fail("unpaired low surrogate")
	case r >= 0xd800 && r <= 0xdbff:
		if len(l.in)-l.pos < 2 || l.in[l.pos] != '\\' || l.in[l.pos+1] != 'u' {
			return 0, l.fail("expected '\\u'")
		}
		l.pos += 2
		low, err := hex4()
		if err != nil {
			return 0, err
		}
		if low < 0xdc00 || low > 0xdfff {
			return 0, l.fail("invalid low surrogate")
		}
		return 0x10000 + (r&0x3ff)<<10 | (low & 0x3ff), nil
	}
	return r, nil
}
