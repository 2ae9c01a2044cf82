package validate

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// scalarKind is what a YAML scalar means once converted to JSON.
type scalarKind uint8

const (
	kindString scalarKind = iota
	kindNull
	kindBool
	kindInt    // fits in int32: a JSON number
	kindBigInt // outside int32: a JSON string holding the decimal value (Envoy does the same)
	kindNumber // JSON input only: the literal JSON number
)

// classify resolves a scalar the way Envoy's YAML loader does: yaml-cpp 0.9.0 parses it, then parseYamlNode
// (source/common/protobuf/yaml_utility.cc) makes a google.protobuf.Value of it, which is printed as JSON for the
// JSON parser. A scalar whose tag is the non-specific "!" — every quoted or block scalar that has no explicit tag
// (yaml-cpp singledocparser.cpp:92-94), and one tagged "!" — is a string. Any other scalar is a bool or an integer
// when yaml-cpp's converters read it so, and a string otherwise: floats too (the JSON parser converts strings by
// field type), and explicitly tagged scalars as well, whatever the tag (only "!" counts, so "!!str 123" is the
// number 123). An untagged plain null, ~, Null, NULL or empty scalar is null (singledocparser.cpp:96-101). In JSON
// input, numbers keep their JSON meaning, as when Envoy reads a .json file with the JSON parser directly.
// It returns the kind and, for integers, the canonical decimal text.
func (c *converter) classify(n *yaml.Node) (scalarKind, string) {
	tagged := n.Style&yaml.TaggedStyle != 0
	if !tagged && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return kindString, n.Value
	}
	s := n.Value
	if !tagged {
		switch s {
		case "", "~", "null", "Null", "NULL":
			return kindNull, ""
		}
	}
	if c.jsonInput && !tagged && isJSONNumber(s) {
		return kindNumber, s
	}
	kind, text := kindString, s
	if b, ok := yamlCppBool(s); ok {
		kind, text = kindBool, strconv.FormatBool(b)
	} else if v, ok := yamlCppInt(s); ok {
		kind, text = kindBigInt, strconv.FormatInt(v, 10)
		if v >= -1<<31 && v < 1<<31 {
			kind = kindInt
		}
	}
	if kind != kindString && !tagged && c.nonSpecificTag(n) {
		return kindString, s
	}
	return kind, text
}

// nonSpecificTag reports a plain-looking scalar written with the "!" tag ("! 123"), which the YAML parser
// resolves like an untagged one but yaml-cpp keeps as a string. Only the source shows it: a tagged node's
// position is its tag's.
func (c *converter) nonSpecificTag(n *yaml.Node) bool {
	if c.src == nil || c.jsonInput || n.Line < 1 || n.Column < 1 {
		return false
	}
	if c.srcLines == nil {
		c.srcLines = append(c.srcLines, 0)
		for i, b := range c.src {
			if b == '\n' {
				c.srcLines = append(c.srcLines, i+1)
			}
		}
	}
	if n.Line > len(c.srcLines) {
		return false
	}
	off := c.srcLines[n.Line-1]
	for col := 1; col < n.Column && off < len(c.src); col++ { // columns count characters
		_, size := utf8.DecodeRune(c.src[off:])
		off += size
	}
	return off+1 < len(c.src) && c.src[off] == '!' && (c.src[off+1] == ' ' || c.src[off+1] == '\t')
}

// yamlCppBool mirrors YAML::convert<bool>: y/n/yes/no/true/false/on/off, each in lower, UPPER or Capitalised form.
func yamlCppBool(s string) (value, ok bool) {
	if len(s) == 0 || len(s) > 5 {
		return false, false
	}
	lower := strings.ToLower(s)
	if s != lower && s != strings.ToUpper(s) && s != strings.ToUpper(s[:1])+lower[1:] {
		return false, false
	}
	switch lower {
	case "y", "yes", "true", "on":
		return true, true
	case "n", "no", "false", "off":
		return false, true
	}
	return false, false
}

// yamlCppInt mirrors YAML::convert<int64_t>, which reads the text with a C++ stream in base auto-detection:
// optional sign, then 0x hex, leading-0 octal, or decimal, and nothing else (no 0o, 0b or underscores).
func yamlCppInt(s string) (int64, bool) {
	body := s
	if body != "" && (body[0] == '-' || body[0] == '+') {
		body = body[1:]
	}
	if body == "" {
		return 0, false
	}
	digits, base := body, 10
	switch {
	case len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X'):
		digits, base = body[2:], 16
	case len(body) > 1 && body[0] == '0':
		digits, base = body[1:], 8
	}
	for i := 0; i < len(digits); i++ {
		if !isDigitIn(digits[i], base) {
			return 0, false
		}
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, false
	}
	if s[0] == '-' {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func isDigitIn(c byte, base int) bool {
	switch base {
	case 8:
		return c >= '0' && c <= '7'
	case 16:
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	return c >= '0' && c <= '9'
}

// isJSONNumber reports whether s is a number in JSON syntax.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	i = skipDigits(s, i)
	if i == start || (s[start] == '0' && i-start > 1) {
		return false
	}
	if i < len(s) && s[i] == '.' {
		if d := i + 1; skipDigits(s, d) == d {
			return false
		}
		i = skipDigits(s, i+1)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if skipDigits(s, i) == i {
			return false
		}
		i = skipDigits(s, i)
	}
	return i == len(s)
}

// skipDigits returns the index after the run of ASCII digits at s[i:].
func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// enumName returns the canonical name of the enum value s names in any letter case (Envoy parses enums with
// case_insensitive_enum_parsing), or "" when there is none.
func enumName(ed protoreflect.EnumDescriptor, s string) string {
	vals := ed.Values()
	if v := vals.ByName(protoreflect.Name(s)); v != nil {
		return s
	}
	for i := 0; i < vals.Len(); i++ {
		if name := string(vals.Get(i).Name()); strings.EqualFold(name, s) {
			return name
		}
	}
	return ""
}
