package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Log formats (APPNET_LOG_FORMAT).
const (
	FormatText = "text"
	FormatJSON = "json"
)

// JSONTimeFormat is RFC 3339 with milliseconds, in UTC ("2026-11-25T21:49:19.123Z").
const JSONTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// NewFormat returns a logger writing to w at the given Envoy-style level in format: FormatText
// (the reference's lines, as New) or FormatJSON, one object per logging call:
//
//	{"time":"2026-11-25T21:49:19.123Z","level":"warning","logger":"appnet-agent","pid":4321,
//	 "message":"Envoy exited","fields":{"code":3}}
//
// The keys before "fields" are those of Envoy's JSON lines (supervise.EnvoyJSONLogFormat), so
// one parser reads both. Fields keep their order and types: integers, floats and booleans
// are JSON numbers and booleans; durations, times, errors and anything else their text, as
// in the text format. A key given twice keeps its first place and its last value.
//
// hclog's own JSONFormat was compared and not used (docs/DESIGN.md, "Logging"): its keys are
// "@"-prefixed and differ from Envoy's, it flattens fields into the top level (where a field
// named "level" would overwrite the level), and it encodes a time.Duration as integer
// nanoseconds; it costs about the same per line.
func NewFormat(w io.Writer, level, format string) hclog.Logger {
	if format != FormatJSON {
		return New(w, level)
	}
	return newLogger(w, level, jsonLine)
}

// jsonLine renders one call as one JSON object and a newline.
func jsonLine(now time.Time, pid int, level hclog.Level, msg string, args []any) []byte {
	var b bytes.Buffer
	b.WriteString(`{"time":"`)
	b.WriteString(now.UTC().Format(JSONTimeFormat))
	b.WriteString(`","level":"`)
	b.WriteString(levelName(level))
	b.WriteString(`","logger":"appnet-agent","pid":`)
	b.WriteString(strconv.Itoa(pid))
	b.WriteString(`,"message":`)
	appendJSONString(&b, msg)
	if len(args) > 0 {
		b.WriteString(`,"fields":{`)
		for i, f := range jsonFields(args) {
			if i > 0 {
				b.WriteByte(',')
			}
			appendJSONString(&b, f.key)
			b.WriteByte(':')
			appendJSONValue(&b, f.value)
		}
		b.WriteByte('}')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

type jsonField struct {
	key   string
	value any
}

// jsonFields pairs the arguments up; an odd one out is named as hclog names it, and a key
// given twice keeps its first position with its last value.
func jsonFields(args []any) []jsonField {
	out := make([]jsonField, 0, (len(args)+1)/2)
	at := map[string]int{}
	for i := 0; i < len(args); i += 2 {
		key, val := "EXTRA_VALUE_AT_END", args[i]
		if i+1 < len(args) {
			key, val = fmt.Sprint(args[i]), args[i+1]
		}
		if j, dup := at[key]; dup {
			out[j].value = val
			continue
		}
		at[key] = len(out)
		out = append(out, jsonField{key, val})
	}
	return out
}

// appendJSONValue writes v as the JSON type that keeps it exactly.
func appendJSONValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		fmt.Fprint(b, x) // the digits, never through a float64
	case float64:
		appendJSONFloat(b, x, 64)
	case float32:
		appendJSONFloat(b, float64(x), 32)
	default:
		appendJSONString(b, Value(v))
	}
}

// appendJSONFloat writes a finite float as a number; NaN and infinities, which JSON cannot
// hold, as their text.
func appendJSONFloat(b *bytes.Buffer, f float64, bits int) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		appendJSONString(b, strconv.FormatFloat(f, 'g', -1, bits))
		return
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
}

// appendJSONString writes s as a JSON string (invalid UTF-8 becomes U+FFFD; <, > and &
// stay as they are).
func appendJSONString(b *bytes.Buffer, s string) {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}
