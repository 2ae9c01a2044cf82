package validate

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Well-known types. protojson reads only their canonical JSON forms; protobuf's C++ parser in legacy mode also
// reads an object written field by field for Duration, Timestamp, FieldMask, ListValue and the wrappers
// (parser.cc:1298-1320: "the ESF parser permits parsing the non-special version"), and is laxer than protojson about
// their strings. These readers accept what the C++ parser accepts and emit the canonical form.

type wktKind uint8

const (
	wktNone      wktKind = iota
	wktAny               // google.protobuf.Any: fields of the named type inline
	wktStruct            // Struct and Value: always their special form, as written
	wktDuration          // "1.5s", or {seconds, nanos}
	wktTimestamp         // RFC 3339, or {seconds, nanos}
	wktFieldMask         // "a.b,cD", or {paths: [...]}
	wktList              // [...], or {values: [...]}
	wktWrapper           // the bare value, or {value: x}
	wktEmpty             // {}
)

// wellKnown classifies a message type the way ClassifyMessage does (descriptor_traits.h:58-119).
func wellKnown(name protoreflect.FullName) wktKind {
	if !strings.HasPrefix(string(name), "google.protobuf.") {
		return wktNone
	}
	switch name.Name() {
	case "Any":
		return wktAny
	case "Struct", "Value":
		return wktStruct
	case "Duration":
		return wktDuration
	case "Timestamp":
		return wktTimestamp
	case "FieldMask":
		return wktFieldMask
	case "ListValue":
		return wktList
	case "Empty":
		return wktEmpty
	case "BoolValue", "BytesValue", "StringValue", "DoubleValue", "FloatValue",
		"Int32Value", "Int64Value", "UInt32Value", "UInt64Value":
		return wktWrapper
	}
	return wktNone
}

// wellKnownValue emits n as the well-known type md (kind k != wktNone, wktAny), which is not null.
func (c *converter) wellKnownValue(n *yaml.Node, md protoreflect.MessageDescriptor, k wktKind, p int32) {
	if n.Kind == yaml.MappingNode && k != wktStruct && k != wktEmpty {
		c.wellKnownObject(n, md, k, p)
		return
	}
	switch k {
	case wktWrapper:
		c.scalarValue(n, md.Fields().ByNumber(1), p)
	case wktDuration, wktTimestamp, wktFieldMask:
		c.timeOrMask(n, k, p)
	default: // Struct, Value, ListValue, Empty: as written; protojson refuses the wrong shapes
		c.raw(n, p)
	}
}

// timeOrMask reads the string form of a Duration, Timestamp or FieldMask.
func (c *converter) timeOrMask(n *yaml.Node, k wktKind, p int32) {
	kind, text := c.classify(n)
	if n.Kind != yaml.ScalarNode || (kind != kindString && kind != kindBigInt) {
		c.raw(n, p) // ParseUtf8 needs a string: protojson says what it found instead
		return
	}
	if k == wktFieldMask {
		out := `""`
		if text != "" {
			out = fieldMaskJSON(strings.Split(text, ","))
		}
		c.out = append(c.out, out...)
		return
	}
	parse, write, name := parseDuration, durationJSON, "Duration"
	if k == wktTimestamp {
		parse, write, name = parseTimestamp, timestampJSON, "Timestamp"
	}
	secs, nanos, valid := parse(text)
	out, ok := write(secs, int64(nanos))
	if !valid || !ok {
		ok = false
		c.problem(c.path(p), n.Line, "invalid google.protobuf.%s value %s%s", name, strconv.Quote(text), formatHint(k))
	}
	if !ok {
		out = zeroWellKnown(k)
	}
	c.out = append(c.out, out...)
}

func formatHint(k wktKind) string {
	if k == wktDuration {
		return ": Envoy reads [-]SECONDS[.FRACTION]s, e.g. 1.5s"
	}
	return ": Envoy reads YYYY-MM-DDTHH:MM:SS[.FRACTION] then Z or an offset"
}

// wellKnownObject reads the legacy object form of a well-known type: its fields by name, with the usual field
// leniencies, converted to the canonical form.
func (c *converter) wellKnownObject(n *yaml.Node, md protoreflect.MessageDescriptor, k wktKind, p int32) {
	start := c.collect(n, p, segField)
	defer func() { c.pairs = c.pairs[:start] }()
	fields := map[protoreflect.FieldNumber]*yaml.Node{}
	fds := md.Fields()
	for i := start; i < len(c.pairs); i++ {
		key, v := c.pairs[i].k, c.pairs[i].v
		fd := fds.ByJSONName(key.Value)
		if fd == nil {
			fd = fds.ByTextName(key.Value)
		}
		if fd == nil {
			c.problem(joinPath(c.path(p), key.Value), key.Line, "unknown field %q in %s", key.Value, md.FullName())
			continue
		}
		fields[fd.Number()] = v // a field given twice keeps its last value (parser_traits.h:68-78)
	}
	switch k {
	case wktWrapper:
		if v := fields[1]; v != nil && !c.isNull(v) {
			c.scalarValue(v, fds.ByNumber(1), c.child(p, segField, "value", 0))
			return
		}
		c.out = append(c.out, zeroScalar(fds.ByNumber(1))...)
	case wktList:
		c.out = append(c.out, "[]"...)
		if v := fields[1]; v != nil {
			c.out = c.out[:len(c.out)-2]
			c.field(v, fds.ByNumber(1), c.child(p, segField, "values", 0))
		}
	case wktFieldMask:
		var paths []string
		if v := fields[1]; v != nil {
			paths = c.stringList(v, c.child(p, segField, "paths", 0))
		}
		c.out = append(c.out, fieldMaskJSON(paths)...)
	default: // Duration, Timestamp
		secs, ok1 := c.intMember(fields[1], fds.ByNumber(1), p)
		nanos, ok2 := c.intMember(fields[2], fds.ByNumber(2), p)
		out, ok := "", ok1 && ok2
		if ok && k == wktDuration {
			if out, ok = durationJSON(secs, nanos); !ok {
				// Envoy refuses such a Duration at load: MessageUtil::validateDurationFields (source/common/protobuf/
				// utility.cc, DurationFieldProtoVisitor → validateDurationUnifiedNoThrow) rejects what protobuf's
				// TimeUtil::IsDurationValid does not accept.
				c.problem(c.path(p), n.Line, "Invalid duration: seconds %d, nanos %d is out of range or mixes "+
					"signs (Envoy: MessageUtil::validateDurationFields)", secs, nanos)
			}
		} else if ok {
			if out, ok = timestampJSON(secs, nanos); !ok {
				c.problem(c.path(p), n.Line, "invalid google.protobuf.Timestamp: seconds %d, nanos %d", secs, nanos)
			}
		}
		if !ok {
			out = zeroWellKnown(k)
		}
		c.out = append(c.out, out...)
	}
}

// intMember reads the seconds or nanos of an object-form Duration or Timestamp; absent or null is 0.
func (c *converter) intMember(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32) (int64, bool) {
	if n == nil || c.isNull(n) {
		return 0, true
	}
	fp := c.child(p, segField, string(fd.Name()), 0)
	text, ok := c.integerText(n, fd, fp)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(text, 10, 64)
	return v, err == nil
}

// stringList reads a repeated string given as a list or, as Envoy allows, as one value.
func (c *converter) stringList(n *yaml.Node, p int32) []string {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []string
	for i, e := range items {
		kind, text := c.classify(e)
		if e.Kind != yaml.ScalarNode || (kind != kindString && kind != kindBigInt) {
			c.problem(c.path(c.child(p, segIndex, "", i)), e.Line, "expected a string")
			continue
		}
		out = append(out, text)
	}
	return out
}

// maxDurationSeconds is protobuf's Duration range, which ParseDuration enforces (parser.cc:953).
const maxDurationSeconds = 315576000000

// parseDuration follows ParseDuration (parser.cc:946-998): digits and '-' as the seconds (SimpleAtoi must accept
// them, so "01s" is fine and "+1s" or ".5s" are not), an optional '.' and 1 to 9 digits, then exactly "s".
func parseDuration(s string) (secs int64, nanos int32, ok bool) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '-') {
		i++
	}
	if i == 0 {
		return 0, 0, false
	}
	secs, ok = atoiSigned(s[:i])
	if !ok || secs > maxDurationSeconds || secs < -maxDurationSeconds {
		return 0, 0, false
	}
	rest := s[i:]
	nanos, rest, ok = takeNanos(rest)
	if !ok || rest != "s" {
		return 0, 0, false
	}
	if secs < 0 || s[0] == '-' {
		nanos = -nanos
	}
	return secs, nanos, true
}

// takeNanos follows TakeNanosAndAdvance (parser.cc:817-838): an optional '.' followed by 1 to 9 digits.
func takeNanos(s string) (int32, string, bool) {
	if !strings.HasPrefix(s, ".") {
		return 0, s, true
	}
	j := skipDigits(s, 1)
	digits := s[1:j]
	if len(digits) == 0 || len(digits) > 9 {
		return 0, s, false
	}
	v, _ := strconv.Atoi(digits + strings.Repeat("0", 9-len(digits)))
	return int32(v), s[j:], true
}

// durationJSON writes a Duration as protojson reads it, if protobuf considers it valid.
func durationJSON(secs, nanos int64) (string, bool) {
	if secs > maxDurationSeconds || secs < -maxDurationSeconds || nanos <= -1e9 || nanos >= 1e9 ||
		(secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('"')
	if secs < 0 || nanos < 0 {
		b.WriteByte('-')
	}
	b.WriteString(strconv.FormatInt(abs64(secs), 10))
	if nanos != 0 {
		frac := strconv.FormatInt(1e9+abs64(nanos), 10)[1:]
		b.WriteByte('.')
		b.WriteString(strings.TrimRight(frac, "0"))
	}
	b.WriteString(`s"`)
	return b.String(), true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// parseTimestamp follows ParseTimestamp (parser.cc:840-944): at least 20 characters; year, month, day, hours,
// minutes and seconds of up to 4, 2, 2, 2, 2 and 2 digits separated by - - T : :, the year, month and day not zero
// (no other range checks); optional nanoseconds; then Z or a +hh:mm/-hh:mm offset.
func parseTimestamp(s string) (secs int64, nanos int32, ok bool) {
	if len(s) < 20 {
		return 0, 0, false
	}
	var f [6]uint32
	for i, spec := range []struct {
		digits int
		suffix string
	}{{4, "-"}, {2, "-"}, {2, "T"}, {2, ":"}, {2, ":"}, {2, ""}} {
		if f[i], s, ok = takeTimeDigits(s, spec.digits, spec.suffix); !ok || (i < 3 && f[i] == 0) {
			return 0, 0, false
		}
	}
	// The civil-to-days arithmetic of parser.cc:883-894, in unsigned 32-bit arithmetic as there.
	year, mon, day := f[0], f[1], f[2]
	mAdj := mon - 3
	carry := uint32(0)
	if mAdj > mon {
		carry = 1
	}
	yAdj := year + 4800 - carry
	monthDays := ((mAdj+carry*12)*62719 + 769) / 2048
	leapDays := yAdj/4 - yAdj/100 + yAdj/400
	epochDays := int32(yAdj*365 + leapDays + monthDays + (day - 1) - 2472632)
	secs = int64(epochDays)*86400 + int64(f[3])*3600 + int64(f[4])*60 + int64(f[5])
	if nanos, s, ok = takeNanos(s); !ok || s == "" {
		return 0, 0, false
	}
	switch s[0] {
	case '+', '-':
		if len(s) != 6 {
			return 0, 0, false
		}
		h, rest, ok1 := takeTimeDigits(s[1:], 2, ":")
		m, _, ok2 := takeTimeDigits(rest, 2, "")
		if !ok1 || !ok2 {
			return 0, 0, false
		}
		offset := int64(h*60+m) * 60
		if s[0] == '-' {
			secs += offset
		} else {
			secs -= offset
		}
	case 'Z':
		if len(s) != 1 {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	return secs, nanos, true
}

// takeTimeDigits follows TakeTimeDigitsWithSuffixAndAdvance (parser.cc:790-815): up to max digits (fewer are
// fine) then the suffix; its loop gives up when more than max+1 characters would be examined.
func takeTimeDigits(s string, max int, suffix string) (uint32, string, bool) {
	v, limit := uint32(0), max
	for len(s) > 0 {
		if limit < 0 {
			return 0, s, false
		}
		limit--
		if s[0] < '0' || s[0] > '9' {
			break
		}
		v = v*10 + uint32(s[0]-'0')
		s = s[1:]
	}
	if !strings.HasPrefix(s, suffix) {
		return 0, s, false
	}
	return v, s[len(suffix):], true
}

// timestampJSON writes a Timestamp as protojson reads it, if it is within protobuf's range (years 1 to 9999).
func timestampJSON(secs, nanos int64) (string, bool) {
	if secs < -62135596800 || secs > 253402300799 || nanos < 0 || nanos >= 1e9 {
		return "", false
	}
	return `"` + time.Unix(secs, nanos).UTC().Format(time.RFC3339Nano) + `"`, true
}

// fieldMaskJSON writes paths as the FieldMask string protojson reads. ParseFieldMask (parser.cc:1000-1036) turns
// each camelCase path into snake_case and in legacy mode keeps any other character; protojson wants lowerCamelCase
// it can turn back exactly, so each path is converted that way where it can be; what cannot be is left as is for
// protojson to report.
func fieldMaskJSON(paths []string) string {
	var b strings.Builder
	for i, p := range paths {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(maskPathCamel(snakeMaskPath(p)))
	}
	return quoteJSON(b.String())
}

func quoteJSON(s string) string { return string(appendString(nil, s)) }

// snakeMaskPath is ParseFieldMask's conversion of one path: an upper-case letter becomes '_' and its lower case.
func snakeMaskPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// maskPathCamel turns a snake_case path into the lowerCamelCase protojson expects.
func maskPathCamel(p string) string {
	var b strings.Builder
	up := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '_' && i+1 < len(p) && p[i+1] >= 'a' && p[i+1] <= 'z' {
			up = true
			continue
		}
		if up {
			c -= 'a' - 'A'
			up = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// zeroWellKnown is the JSON of a well-known type's default value, written where a value was refused so that the
// output stays well formed (the problem is already reported).
func zeroWellKnown(k wktKind) string {
	switch k {
	case wktDuration:
		return `"0s"`
	case wktTimestamp:
		return `"1970-01-01T00:00:00Z"`
	case wktFieldMask:
		return `""`
	case wktList:
		return "[]"
	}
	return "{}"
}
