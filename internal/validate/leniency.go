package validate

import (
	"strconv"
	"strings"

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

// classify resolves a scalar the way Envoy's YAML loader does (yaml-cpp, then parseYamlNode in
// source/common/protobuf/utility.cc): quoted and block scalars are strings; plain scalars are null, bool or integer
// when yaml-cpp's converters accept them, and strings otherwise (floats included — the JSON parser converts them
// by field type later). In JSON input plain numbers keep their JSON meaning, as when Envoy loads a .json file.
// It returns the kind and, for integers, the canonical decimal text.
func classify(n *yaml.Node, jsonInput bool) (scalarKind, string) {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 ||
		(n.Style&yaml.TaggedStyle != 0 && n.Tag == "!!str") {
		return kindString, n.Value
	}
	s := n.Value
	switch s {
	case "", "~", "null", "Null", "NULL":
		return kindNull, ""
	}
	if b, ok := yamlCppBool(s); ok {
		if b {
			return kindBool, "true"
		}
		return kindBool, "false"
	}
	if jsonInput && isJSONNumber(s) {
		return kindNumber, s
	}
	if v, ok := yamlCppInt(s); ok {
		if v >= -1<<31 && v < 1<<31 {
			return kindInt, strconv.FormatInt(v, 10)
		}
		return kindBigInt, strconv.FormatInt(v, 10)
	}
	return kindString, s
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
