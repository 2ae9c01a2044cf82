package validate

// Scalar quoting for the canonical YAML emitter: a string is written plain only when YAML 1.1, YAML 1.2 and
// Envoy's loader all read it back as the same string.

// appendYAMLString appends s plain when plainSafe allows, else double-quoted.
func appendYAMLString(b []byte, s string) []byte {
	if plainSafe(s) {
		return append(b, s...)
	}
	return appendDoubleQuoted(b, s)
}

// appendDoubleQuoted appends s as a YAML double-quoted scalar on one line that every YAML 1.1 and 1.2 reader
// (and yaml-cpp) reads back as exactly s: '"' and '\' are escaped, newline and tab as \n and \t, and every
// character YAML forbids raw, treats as a line break or may strip (C0 and C1 controls, DEL, U+2028, U+2029, BOM,
// U+FFFE, U+FFFF) as \uXXXX. Invalid UTF-8 bytes become U+FFFD (protobuf strings are valid UTF-8).
func appendDoubleQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\t':
			b = append(b, '\\', 't')
		case r >= 0x20 && r < 0x7f,
			r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029,
			r >= 0xe000 && r <= 0xfffd && r != 0xfeff,
			r >= 0x10000:
			b = append(b, string(r)...)
		default:
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		}
	}
	return append(b, '"')
}

// plainSafe reports whether s can be written as a plain scalar that YAML 1.1 (the spec's regular expressions, not
// only what common libraries implement), YAML 1.2 and Envoy's loader (yaml-cpp, then parseYamlNode) all read as
// exactly the string s. It is deliberately conservative: printable ASCII from a small set, a letter, digit, "/" or
// "_" first, no ": " or " #", no flow indicators or quotes, nothing that any of them reads as null, a boolean, a
// number (any base, underscores, sexagesimal, exponents) or a timestamp.
func plainSafe(s string) bool {
	if s == "" || s[len(s)-1] == ' ' || s[len(s)-1] == ':' {
		return false
	}
	c := s[0]
	if !(isAlnum(c) || c == '/' || c == '_') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || plainMiddle[c] {
			if c == ':' && s[i+1] == ' ' { // s does not end in ':', so s[i+1] exists
				return false
			}
			continue
		}
		return false
	}
	if c >= '0' && c <= '9' {
		return !numberLike(s)
	}
	return len(s) > len("infinity") || !specialWord(s)
}

// specialWord reports, in any letter case, the words some reader takes for null, a boolean or a float.
func specialWord(s string) bool {
	var lower [8]byte
	n := copy(lower[:], s)
	for i := range n {
		if c := lower[i]; c >= 'A' && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	switch string(lower[:n]) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity":
		return true
	}
	return false
}

// plainMiddle are the characters besides letters and digits allowed after the first one of a plain scalar.
var plainMiddle = func() (t [256]bool) {
	for _, c := range []byte(" -._/:@%+=~()$^;?!*&<>") {
		t[c] = true
	}
	return t
}()

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// numberLike reports a string starting with a digit that some reader may take for a number or a timestamp: one
// made only of characters that occur in YAML 1.1/1.2 and C++/Go number syntax (digits, hex digits, signs, "_",
// ".", ":", "x", "o", "p"), which includes YAML 1.1's "1.2.3" float and "1:20" sexagesimal forms, or one starting
// like a date ("2024-01-02").
func numberLike(s string) bool {
	all := true
	for i := 0; i < len(s) && all; i++ {
		all = numberChar[s[i]]
	}
	if all {
		return true
	}
	return len(s) >= 8 && allDigits(s[:4]) && s[4] == '-' && s[5] >= '0' && s[5] <= '9'
}

var numberChar = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF_.:+-xXoOpP") {
		t[c] = true
	}
	return t
}()

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
