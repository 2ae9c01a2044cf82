package validate

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
)

// The scalar readers below reproduce what protobuf's C++ JSON parser (which Envoy uses, with its legacy syntax
// allowed) accepts for a field of each type, so that the bootstrap Envoy loads is the one we decode. Citations are
// to protobuf v35.1 (Envoy 1.40's; v30.2, Envoy 1.35's, behaves the same) and to the abseil-cpp release Envoy 1.40
// builds with (20260817.0); each reader names the functions it follows, and leniency_test.go has a case for each.

// isASCIISpace is absl::ascii_isspace: space, \t, \n, \v, \f, \r.
func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func trimASCIISpace(s string) string {
	for len(s) > 0 && isASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func hasASCIISpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isASCIISpace(s[i]) {
			return true
		}
	}
	return false
}

// atoi is absl::SimpleAtoi in base 10 (abseil strings/numbers.cc safe_parse_sign_and_base, lines 1190-1260): ASCII
// whitespace around the number is ignored, one sign (- or +) is allowed, then decimal digits only. It returns the
// sign and magnitude; ok is false for anything else or a magnitude beyond uint64.
func atoi(s string) (neg bool, mag uint64, ok bool) {
	s = trimASCIISpace(s)
	if s == "" {
		return false, 0, false
	}
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" {
		return false, 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false, 0, false
		}
	}
	mag, err := strconv.ParseUint(s, 10, 64)
	return neg, mag, err == nil
}

// atoiSigned is absl::SimpleAtoi into an int64.
func atoiSigned(s string) (int64, bool) {
	neg, mag, ok := atoi(s)
	switch {
	case !ok:
		return 0, false
	case neg && mag <= 1<<63:
		return -int64(mag), true
	case !neg && mag < 1<<63:
		return int64(mag), true
	}
	return 0, false
}

// atod is absl::SimpleAtod (abseil strings/numbers.cc:87-121 over absl::from_chars, strings/internal/
// charconv_parse.cc): ASCII whitespace around it is ignored, a leading + is dropped (not "+-"), then an optional -,
// then "inf", "infinity" or "nan" (with an optional "(chars)") in any letter case, or a decimal mantissa with at
// least one digit (".5" and "5." count) and an optional exponent. Everything must be consumed. An overflow reads as
// an infinity; no hexadecimal.
func atod(s string) (float64, bool) {
	s = trimASCIISpace(s)
	if s == "" {
		return 0, false
	}
	if s[0] == '+' {
		s = s[1:]
		if s == "" || s[0] == '-' {
			return 0, false
		}
	}
	body := s
	neg := false
	if body != "" && body[0] == '-' {
		neg, body = true, body[1:]
	}
	if v, ok := infOrNaN(body); ok {
		if neg {
			return -v, true
		}
		return v, true
	}
	if !decimalFloat(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); !isNum || ne.Err != strconv.ErrRange {
			return 0, false
		}
		// ParseFloat returns ±Inf for an overflow and 0 for an underflow, as SimpleAtod does.
	}
	return f, true
}

// infOrNaN reads from_chars' inf/infinity/nan(...) forms (charconv_parse.cc:299-351) spanning all of s.
func infOrNaN(s string) (float64, bool) {
	l := strings.ToLower(s)
	switch {
	case l == "inf" || l == "infinity":
		return math.Inf(1), true
	case l == "nan":
		return math.NaN(), true
	case strings.HasPrefix(l, "nan(") && strings.HasSuffix(l, ")"):
		for _, c := range l[4 : len(l)-1] {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				return 0, false
			}
		}
		return math.NaN(), true
	}
	return 0, false
}

// decimalFloat reports digits [. digits] [e|E [+|-] digits] with at least one mantissa digit, all of s.
func decimalFloat(s string) bool {
	i := skipDigits(s, 0)
	digits := i
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		digits += j - i - 1
		i = j
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := skipDigits(s, j)
		if k == j {
			return false // from_chars leaves a bare "e" unread, so SimpleAtod refuses the string
		}
		i = k
	}
	return i == len(s)
}

// atob is absl::SimpleAtob (abseil strings/numbers.cc:122-137): true, t, yes, y, 1 and false, f, no, n, 0 in any
// letter case.
func atob(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "1":
		return true, true
	case "false", "f", "no", "n", "0":
		return false, true
	}
	return false, false
}

// intBits describes an integer field: its width and signedness.
type intBits struct {
	bits     int // 32 or 64
	unsigned bool
}

// parseInt reads an integer field's value the way ParseInt/ParseUInt do (protobuf parser.cc:171-268): a quoted
// number may not contain whitespace (parser.cc:213-219); absl::SimpleAtoi first, and if that fails, a number
// SimpleAtod reads that is finite, integral and within ±2^53 (signed) or [0, 2^54] (unsigned)
// (ParseFloatStringAsInt); then the 32-bit range. quoted says the value was a JSON string. It returns the
// canonical decimal text.
func parseInt(text string, quoted bool, kind intBits) (string, bool) {
	if quoted && hasASCIISpace(text) {
		return "", false
	}
	if kind.unsigned {
		if neg, mag, ok := atoi(text); ok && !neg {
			return checkedUint(mag, kind)
		}
		d, ok := atod(text)
		if !ok || math.IsInf(d, 0) || math.IsNaN(d) || d < 0 || d > 18014398509481984.0 || d != math.Trunc(d) {
			return "", false
		}
		return checkedUint(uint64(d), kind)
	}
	if v, ok := atoiSigned(text); ok {
		return checkedInt(v, kind)
	}
	d, ok := atod(text)
	if !ok || math.IsInf(d, 0) || math.IsNaN(d) || d < -9007199254740992.0 || d > 9007199254740992.0 || d != math.Trunc(d) {
		return "", false
	}
	return checkedInt(int64(d), kind)
}

func checkedInt(v int64, kind intBits) (string, bool) {
	if kind.bits == 32 && (v < math.MinInt32 || v > math.MaxInt32) {
		return "", false
	}
	return strconv.FormatInt(v, 10), true
}

func checkedUint(v uint64, kind intBits) (string, bool) {
	if kind.bits == 32 && v > math.MaxUint32 {
		return "", false
	}
	return strconv.FormatUint(v, 10), true
}

// parseFloat reads a float or double field's string value the way ParseFp does (parser.cc:270-314): "NaN",
// "Infinity" and "-Infinity", or anything absl::SimpleAtod reads; a finite value beyond a float's range is refused
// for 32-bit fields. It returns the JSON protojson accepts for the value.
func parseFloat(text string, bits int) (string, bool) {
	switch text {
	case "NaN", "Infinity", "-Infinity":
		return strconv.Quote(text), true
	}
	d, ok := atod(text)
	if !ok {
		return "", false
	}
	return floatJSON(d, bits)
}

func floatJSON(d float64, bits int) (string, bool) {
	switch {
	case math.IsNaN(d):
		return `"NaN"`, true
	case math.IsInf(d, 1):
		return `"Infinity"`, true
	case math.IsInf(d, -1):
		return `"-Infinity"`, true
	case bits == 32 && math.IsInf(float64(float32(d)), 0):
		return "", false
	}
	return strconv.FormatFloat(d, 'g', -1, 64), true
}

// base64Value is the value of each base64 character in parser.cc's table (parser.cc:71-108): the standard and the
// URL-safe alphabets both, -1 for anything else.
var base64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = int8(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// decodeBase64 follows DecodeBase64InPlace (parser.cc:116-169): both alphabets may be mixed; "=" padding is only
// recognised in a final group of four; without padding a trailing group of 2 or 3 characters decodes, 1 does not.
func decodeBase64(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)*3/4+2)
	end := len(s)
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a, b, c, d := base64Value[s[i]], base64Value[s[i+1]], base64Value[s[i+2]], base64Value[s[i+3]]
		if a < 0 || b < 0 || c < 0 || d < 0 {
			if end-i == 4 && s[i+3] == '=' {
				end--
				if s[i+2] == '=' {
					end--
				}
			}
			break
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		out = append(out, byte(v>>16), byte(v>>8), byte(v))
	}
	if i >= end {
		return out, true
	}
	rest := s[i:end]
	for j := 0; j < len(rest); j++ {
		if base64Value[rest[j]] < 0 {
			return nil, false
		}
	}
	switch len(rest) {
	case 2:
		v := uint32(base64Value[rest[0]])<<18 | uint32(base64Value[rest[1]])<<12
		return append(out, byte(v>>16)), true
	case 3:
		v := uint32(base64Value[rest[0]])<<18 | uint32(base64Value[rest[1]])<<12 | uint32(base64Value[rest[2]])<<6
		return append(out, byte(v>>16), byte(v>>8)), true
	}
	return nil, false
}

// bytesJSON re-encodes a bytes field's value in the standard alphabet protojson reads.
func bytesJSON(text string) (string, bool) {
	b, ok := decodeBase64(text)
	if !ok {
		return "", false
	}
	return `"` + base64.StdEncoding.EncodeToString(b) + `"`, true
}
