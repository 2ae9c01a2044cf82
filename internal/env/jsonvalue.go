package env

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// JSONObject is a variable holding a JSON object; nil when unset. Its numbers are float64,
// as in the Struct Envoy's node metadata holds.
type JSONObject map[string]any

// maxJSONDepth bounds the nesting of a JSON variable: node metadata is a flat map in
// practice, and a deep one would only cost stack and time.
const maxJSONDepth = 32

// Decode requires a JSON object (D7: arrays, scalars and null are rejected, not dropped), with
// no key twice at any level, nesting at most maxJSONDepth deep, and numbers that a double
// holds exactly: nothing is changed or dropped on the way to the bootstrap.
func (o *JSONObject) Decode(v string) error {
	m, err := decodeJSONObject(v)
	if err != nil {
		return err
	}
	*o = m
	return nil
}

// PortMapping is APPNET_LISTENER_PORT_MAPPING: a JSON object of listener name → port.
type PortMapping map[string]any

// Decode requires a JSON object whose values are whole numbers in 1..65535.
func (p *PortMapping) Decode(v string) error {
	m, err := decodeJSONObject(v)
	if err != nil {
		return err
	}
	for k, val := range m {
		f, ok := val.(float64)
		if !ok || f != math.Trunc(f) || f < 1 || f > 65535 {
			return fmt.Errorf("the port of %q is %s; ports are whole numbers in 1..65535", k, jsonText(val))
		}
	}
	*p = PortMapping(m)
	return nil
}

func decodeJSONObject(v string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(v))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %v", quoteShort(v), err)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("%s is not a JSON object", quoteShort(v))
	}
	m, err := readObject(d, 1)
	if err == nil {
		if _, extra := d.Token(); !errors.Is(extra, io.EOF) {
			err = errors.New("unexpected content after the object")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid JSON object: %v", quoteShort(v), err)
	}
	return m, nil
}

// readObject reads the members of an object whose '{' was consumed.
func readObject(d *json.Decoder, depth int) (map[string]any, error) {
	m := map[string]any{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // inside an object the decoder only yields string keys here
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		val, err := readValue(d, depth)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", key, err)
		}
		m[key] = val
	}
	_, err := d.Token() // '}'
	return m, err
}

func readValue(d *json.Decoder, depth int) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
		}
		if t == '{' {
			return readObject(d, depth+1)
		}
		list := []any{} // an empty array stays one: nil would be written as null
		for d.More() {
			v, err := readValue(d, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := d.Token() // ']'
		return list, err
	case json.Number:
		return exactNumber(t)
	default:
		return t, nil // string, bool, nil
	}
}

// exactNumber converts a JSON number to the float64 it becomes in the bootstrap, refusing
// one that would change: out of a double's range (1e999), or an integer beyond 2^53 that a
// double rounds.
func exactNumber(n json.Number) (float64, error) {
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %s is out of range", n)
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || float64(i) != f || (i > 1<<53 || i < -(1<<53)) {
			return 0, fmt.Errorf("number %s cannot be kept exactly (node metadata numbers are doubles; quote it as a string)", n)
		}
	}
	return f, nil
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(bytes.TrimSpace(b))
}

// quoteShort quotes a value for an error message, shortened when long.
func quoteShort(v string) string {
	if len(v) > 80 {
		return strconv.Quote(v[:80]) + "…"
	}
	return strconv.Quote(v)
}
