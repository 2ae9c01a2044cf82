package render

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/appnet/appnet-agent/internal/platform"
)

// appendJSON appends v as encoding/json encodes it (HTML escaping off) for the value types the
// template data holds: node metadata and the static runtime are maps of strings, booleans,
// numbers, lists and maps, and the task's interfaces. ok is false for anything else — another
// type, a number JSON has no form for, nesting past maxNesting — and toJSON then asks
// encoding/json, whose result or error stands.
//
// Why not encoding/json for everything: in a fresh process its first encode of these types
// builds an encoder per type by reflection, and it walks maps through reflection; that was
// ~0.3 ms of every start (docs/DESIGN.md). TestAppendJSONMatchesEncodingJSON holds the two equal.
func appendJSON(b []byte, v any, depth int) ([]byte, bool) {
	if depth > maxNesting {
		return b, false
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendJSONString(b, v), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case float64:
		return appendJSONFloat(b, v)
	case map[string]any:
		return appendJSONMap(b, v, depth)
	case map[string]string:
		return appendJSONMap(b, v, depth)
	case map[string][]string:
		return appendJSONMap(b, v, depth)
	case []any:
		return appendJSONList(b, v, depth)
	case []string:
		return appendJSONList(b, v, depth)
	case *platform.Interfaces:
		return appendJSONInterfaces(b, v, depth)
	}
	return b, false
}

func appendJSONMap[V any](b []byte, m map[string]V, depth int) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendJSON(b, m[k], depth+1); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func appendJSONList[V any](b []byte, l []V, depth int) ([]byte, bool) {
	if l == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i, e := range l {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendJSON(b, e, depth+1); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendJSONInterfaces follows platform.Interfaces' JSON tags: ipv4 and ipv6, each omitted
// when empty.
func appendJSONInterfaces(b []byte, ifs *platform.Interfaces, depth int) ([]byte, bool) {
	if ifs == nil {
		return append(b, "null"...), true
	}
	b = append(b, '{')
	ok := true
	if len(ifs.IPv4) > 0 {
		b = append(b, `"ipv4":`...)
		b, ok = appendJSONMap(b, ifs.IPv4, depth+1)
	}
	if ok && len(ifs.IPv6) > 0 {
		if len(ifs.IPv4) > 0 {
			b = append(b, ',')
		}
		b = append(b, `"ipv6":`...)
		b, ok = appendJSONMap(b, ifs.IPv6, depth+1)
	}
	return append(b, '}'), ok
}

// appendJSONFloat writes f as encoding/json does: the shortest form, with an exponent only
// below 1e-6 or from 1e21, written without a leading zero (1e-7, not 1e-07).
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b, true
}

// appendJSONString writes s as a JSON string the way encoding/json does without HTML escaping:
// quote, backslash and control characters escaped (\b, \f, \n, \r, \t by name), invalid UTF-8
// as U+FFFD, and U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
