package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/platform"
)

// encodingJSON is what toJSON wrote before appendJSON: encoding/json without HTML escaping.
func encodingJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n"), err
}

// jsonCases are values of every type appendJSON writes, with the edge cases of each.
func jsonCases() []any {
	loop := map[string]any{}
	loop["self"] = loop
	var nilMap map[string]any
	var nilList []any
	return []any{
		nil, "", "plain", "quote \" backslash \\ slash /", "<&> stay raw", "\b\f\n\r\t\x00\x01\x1f\x7f",
		"é ü 日本 😀", "\u2028\u2029", "bad \xff\xfe utf-8 \xc3", "\u0085 \ufeff \ufffe \uffff",
		true, false, 0, -1, math.MaxInt64, int64(math.MinInt64),
		0.0, math.Copysign(0, -1), 1.0, -2.5, 1000.0, 0.1, 1e-6, 9.99e-7, 1e-7, -1e-7, 1e20, 1e21, 1.5e300, 5e-324,
		math.MaxFloat64, float64(1 << 53), math.Inf(1), math.NaN(),
		nilMap, map[string]any{}, map[string]any{"b": 1.0, "a": "x", "A": true, "": nil, "é": []any{}},
		map[string]string{"z": "1", "y": "\n"}, map[string][]string{"eth0": {"192.0.2.2/24"}, "lo": nil},
		nilList, []any{}, []any{"a", 2, true, nil, []any{map[string]any{"k": 1.5}}}, []string{"a", "b\"c"}, []string(nil),
		(*platform.Interfaces)(nil), &platform.Interfaces{},
		&platform.Interfaces{IPv4: map[string][]string{"eth0": {"10.0.0.1/24"}}},
		&platform.Interfaces{IPv6: map[string][]string{"lo": {"::1/128"}}},
		&platform.Interfaces{IPv4: map[string][]string{"lo": {"127.0.0.1/8"}}, IPv6: map[string][]string{"lo": {"::1/128"}, "eth0": {}}},
		map[string]any{"nested": map[string]any{"inf": math.Inf(-1)}}, // encoding/json's error
		loop, // encoding/json's error
		map[string]any{"other type": float32(1.5)},      // encoding/json's answer
		map[string]any{"number": json.Number("12")},     // encoding/json's answer
		map[string]any{"struct": struct{ A int }{A: 1}}, // encoding/json's answer
	}
}

// TestAppendJSONMatchesEncodingJSON: toJSON writes what encoding/json writes (and fails where it
// fails), for every value of the types appendJSON knows and for others it hands over.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	check := func(v any) {
		t.Helper()
		want, wantErr := encodingJSON(v)
		got, gotErr := toJSON(v)
		if wantErr != nil {
			if gotErr == nil {
				t.Errorf("%#v: toJSON = %s, encoding/json fails: %v", v, got, wantErr)
			}
			return
		}
		if gotErr != nil || got != escapeYAMLForbidden(want) {
			t.Errorf("%#v:\ntoJSON        %s (%v)\nencoding/json %s", v, got, gotErr, want)
		}
	}
	for _, v := range jsonCases() {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		check(randomJSONValue(r, 0))
	}
}

// escapeYAMLForbidden is toJSON's step after encoding: the characters YAML forbids, escaped.
func escapeYAMLForbidden(s string) string {
	var b strings.Builder
	for _, r := range s {
		if yamlForbiddenRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// randomJSONValue builds a value of the template data's shapes, strings drawn from awkward bytes.
func randomJSONValue(r *rand.Rand, depth int) any {
	pieces := []string{"a", "Z", " ", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "\xff", "\xc3", "é", "\u0085", "\u2028", "\ufeff", "😀", "<", "&"}
	str := func() string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	k := r.IntN(10)
	if depth > 3 {
		k = r.IntN(5)
	}
	switch k {
	case 0:
		return str()
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.IntN(1 << 20)
	case 3:
		return math.Float64frombits(r.Uint64())
	case 4:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(50)-25))
	case 5, 6:
		m := map[string]any{}
		for range r.IntN(4) {
			m[str()] = randomJSONValue(r, depth+1)
		}
		return m
	case 7:
		var l []any
		for range r.IntN(4) {
			l = append(l, randomJSONValue(r, depth+1))
		}
		return l
	case 8:
		return map[string][]string{str(): {str(), str()}}
	default:
		return &platform.Interfaces{IPv4: map[string][]string{str(): {str()}}}
	}
}
