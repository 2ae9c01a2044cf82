package validate

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// yamlEmitter writes the canonical YAML of a message straight from its reflection, with protojson's value forms
// (proto field names, "@type" inside each Any, well-known types in their JSON form) and these layout rules:
// keys sorted bytewise, block style, two-space indentation, a list under a key at the key's indentation (as
// yaml.v2 writes it), "{}" and "[]" for empty collections. Strings are plain only when plainSafe says every reader
// (YAML 1.1, YAML 1.2, Envoy's yaml-cpp loader) takes them as that string, and double-quoted with escapes
// otherwise, always on one line. Numbers are written so that Envoy's loader reads the same value back; see
// structNumber for the one case where that is impossible.
type yamlEmitter struct {
	out   []byte
	stack []yamlEntry // entries of the mappings being written, innermost last
	depth int
}

// yamlValueKind says what a yamlValue holds.
type yamlValueKind uint8

const (
	yPlain     yamlValueKind = iota // text written as is: numbers, booleans, null
	yString                         // text that is a string: plain when safe, else double-quoted
	yMessage                        // m: a message written as a mapping of its fields (Any included)
	yList                           // list with elements of fd's type
	yMap                            // mp: a proto map with values of fd.MapValue()'s type
	yStruct                         // m: a google.protobuf.Struct
	yListValue                      // m: a google.protobuf.ListValue
)

// yamlValue is one value to write: its kind and what it holds.
type yamlValue struct {
	kind yamlValueKind
	text string
	m    protoreflect.Message
	list protoreflect.List
	mp   protoreflect.Map
	fd   protoreflect.FieldDescriptor
}

// yamlEntry is one key of a mapping being written, with its value.
type yamlEntry struct {
	key string
	v   yamlValue
}

// maxEmitDepth bounds nesting (Any payloads can nest Struct values arbitrarily deep in hostile input).
const maxEmitDepth = 10000

func (e *yamlEmitter) fail(format string, args ...any) error {
	return fmt.Errorf("canonical YAML: "+format, args...)
}

// document writes m as the top-level mapping.
func (e *yamlEmitter) document(m protoreflect.Message) error {
	v, err := e.messageValue(m)
	if err != nil {
		return err
	}
	start := len(e.stack)
	if err := e.entries(v); err != nil {
		return err
	}
	if len(e.stack) == start {
		e.out = append(e.out, "{}\n"...)
		return nil
	}
	return e.mappingBody(start, 0, false)
}

// value writes v after "key:" (afterDash false) or after "- " (afterDash true); indent is the column of that key
// or dash.
func (e *yamlEmitter) value(v yamlValue, indent int, afterDash bool) error {
	if e.depth++; e.depth > maxEmitDepth {
		return e.fail("nested too deeply")
	}
	defer e.leave()
	sep := func() {
		if !afterDash {
			e.out = append(e.out, ' ')
		}
	}
	switch v.kind {
	case yPlain:
		sep()
		e.out = append(e.out, v.text...)
		e.out = append(e.out, '\n')
		return nil
	case yString:
		sep()
		e.out = appendYAMLString(e.out, v.text)
		e.out = append(e.out, '\n')
		return nil
	case yList, yListValue:
		n := 0
		if v.kind == yList {
			n = v.list.Len()
		} else {
			n = listValueLen(v.m)
		}
		if n == 0 {
			sep()
			e.out = append(e.out, "[]\n"...)
			return nil
		}
		itemIndent := indent
		if afterDash {
			itemIndent = indent + 2
		} else {
			e.out = append(e.out, '\n')
		}
		for i := 0; i < n; i++ {
			if i > 0 || !afterDash {
				e.out = appendIndent(e.out, itemIndent)
			}
			e.out = append(e.out, '-', ' ')
			item, err := e.listItem(v, i)
			if err != nil {
				return err
			}
			if err := e.value(item, itemIndent, true); err != nil {
				return err
			}
		}
		return nil
	}
	// A mapping: message, proto map or Struct.
	start := len(e.stack)
	if err := e.entries(v); err != nil {
		return err
	}
	if len(e.stack) == start {
		sep()
		e.out = append(e.out, "{}\n"...)
		return nil
	}
	if !afterDash {
		e.out = append(e.out, '\n')
	}
	return e.mappingBody(start, indent+2, afterDash)
}

func (e *yamlEmitter) leave() { e.depth-- }

// mappingBody writes the entries e.stack[start:] (sorted here) at indent and pops them. firstInline says the first
// key continues the current line (after "- ").
func (e *yamlEmitter) mappingBody(start, indent int, firstInline bool) error {
	defer func() { e.stack = e.stack[:start] }()
	entries := e.stack[start:]
	slices.SortFunc(entries, func(a, b yamlEntry) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(entries); i++ {
		if entries[i].key == entries[i-1].key {
			return e.fail("key %q twice in one mapping", entries[i].key)
		}
	}
	n := len(e.stack) - start
	for i := 0; i < n; i++ {
		ent := e.stack[start+i] // re-read: writing the value grows (and may move) e.stack
		if i > 0 || !firstInline {
			e.out = appendIndent(e.out, indent)
		}
		if len(ent.key) > maxSimpleKey {
			// Long keys are not simple keys for YAML parsers (libyaml stops at 1024 characters): use "? key".
			e.out = append(e.out, '?', ' ')
			e.out = appendYAMLString(e.out, ent.key)
			e.out = append(e.out, '\n')
			e.out = appendIndent(e.out, indent)
			e.out = append(e.out, ':')
			if ent.v.kind == yList || ent.v.kind == yListValue {
				// Indent the list under ":" rather than relying on an indentless sequence there.
				if err := e.value(ent.v, indent+2, false); err != nil {
					return err
				}
				continue
			}
		} else {
			e.out = appendYAMLString(e.out, ent.key)
			e.out = append(e.out, ':')
		}
		if err := e.value(ent.v, indent, false); err != nil {
			return err
		}
	}
	return nil
}

// maxSimpleKey is the longest key written as "key:"; longer ones use the explicit "? key" form.
const maxSimpleKey = 128

func appendIndent(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// listItem returns element i of a list or ListValue.
func (e *yamlEmitter) listItem(v yamlValue, i int) (yamlValue, error) {
	if v.kind == yList {
		return e.single(v.fd, v.list.Get(i))
	}
	return e.structValue(listValueGet(v.m, i))
}

// entries pushes the entries of a mapping value onto e.stack (unsorted).
func (e *yamlEmitter) entries(v yamlValue) error {
	switch v.kind {
	case yMessage:
		if v.m.Descriptor().FullName() == anyName {
			return e.anyEntries(v.m)
		}
		var err error
		v.m.Range(func(fd protoreflect.FieldDescriptor, fv protoreflect.Value) bool {
			var yv yamlValue
			if yv, err = e.field(fd, fv); err != nil {
				return false
			}
			name := fd.TextName()
			if fd.IsExtension() {
				name = "[" + string(fd.FullName()) + "]"
			}
			e.stack = append(e.stack, yamlEntry{name, yv})
			return true
		})
		return err
	case yMap:
		var err error
		vfd := v.fd.MapValue()
		v.mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			var yv yamlValue
			if yv, err = e.single(vfd, mv); err != nil {
				return false
			}
			e.stack = append(e.stack, yamlEntry{k.String(), yv})
			return true
		})
		return err
	case yStruct:
		fields := v.m.Get(v.m.Descriptor().Fields().ByNumber(1)).Map() // Struct.fields
		var err error
		fields.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			var yv yamlValue
			if yv, err = e.structValue(mv.Message()); err != nil {
				return false
			}
			e.stack = append(e.stack, yamlEntry{k.String(), yv})
			return true
		})
		return err
	}
	return e.fail("internal error: %v is not a mapping", v.kind)
}

// anyEntries pushes "@type" and the payload's fields, or "value" for a well-known payload type (protojson's form).
func (e *yamlEmitter) anyEntries(m protoreflect.Message) error {
	fds := m.Descriptor().Fields()
	typeURL := m.Get(fds.ByNumber(1)).String()
	value := m.Get(fds.ByNumber(2)).Bytes()
	if typeURL == "" {
		if len(value) == 0 {
			return nil // an empty Any is {}
		}
		return e.fail("google.protobuf.Any has a value but no type_url")
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	if err != nil {
		return e.fail("unable to resolve %q: %v", typeURL, err)
	}
	payload := mt.New()
	if err := (proto.UnmarshalOptions{AllowPartial: true, Resolver: protoregistry.GlobalTypes}).Unmarshal(value, payload.Interface()); err != nil {
		return e.fail("unable to unmarshal %q: %v", typeURL, err)
	}
	pv, err := e.messageValue(payload)
	if err != nil {
		return err
	}
	e.stack = append(e.stack, yamlEntry{"@type", yamlValue{kind: yString, text: typeURL}})
	if wellKnown(payload.Descriptor().FullName()) != wktNone {
		e.stack = append(e.stack, yamlEntry{"value", pv}) // well-known type: its JSON form goes under "value"
		return nil
	}
	return e.entries(pv)
}

// field converts a populated field.
func (e *yamlEmitter) field(fd protoreflect.FieldDescriptor, v protoreflect.Value) (yamlValue, error) {
	switch {
	case fd.IsList():
		return yamlValue{kind: yList, list: v.List(), fd: fd}, nil
	case fd.IsMap():
		return yamlValue{kind: yMap, mp: v.Map(), fd: fd}, nil
	}
	return e.single(fd, v)
}

// single converts one value of fd's element type.
func (e *yamlEmitter) single(fd protoreflect.FieldDescriptor, v protoreflect.Value) (yamlValue, error) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return e.messageValue(v.Message())
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return yamlValue{kind: yPlain, text: "null"}, nil
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return yamlValue{kind: yString, text: string(ev.Name())}, nil
		}
		return yamlValue{kind: yPlain, text: strconv.FormatInt(int64(v.Enum()), 10)}, nil
	case protoreflect.BoolKind:
		return yamlValue{kind: yPlain, text: strconv.FormatBool(v.Bool())}, nil
	case protoreflect.StringKind:
		return yamlValue{kind: yString, text: v.String()}, nil
	case protoreflect.BytesKind:
		return yamlValue{kind: yString, text: base64.StdEncoding.EncodeToString(v.Bytes())}, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		// 64-bit integers are JSON strings in protojson; written plain, Envoy reads a number, or a string holding
		// the decimal value when it does not fit in int32: either way the field gets the same value.
		return yamlValue{kind: yPlain, text: strconv.FormatInt(v.Int(), 10)}, nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return yamlValue{kind: yPlain, text: strconv.FormatUint(v.Uint(), 10)}, nil
	case protoreflect.FloatKind:
		return floatValue(v.Float(), 32), nil
	case protoreflect.DoubleKind:
		return floatValue(v.Float(), 64), nil
	}
	return yamlValue{}, e.fail("unsupported field kind %v", fd.Kind())
}

// floatValue writes a float or double field like protojson: special values as the strings protojson uses (which
// the JSON parser accepts for these fields), others as a number.
func floatValue(f float64, bits int) yamlValue {
	switch {
	case math.IsNaN(f):
		return yamlValue{kind: yString, text: "NaN"}
	case math.IsInf(f, 1):
		return yamlValue{kind: yString, text: "Infinity"}
	case math.IsInf(f, -1):
		return yamlValue{kind: yString, text: "-Infinity"}
	}
	return yamlValue{kind: yPlain, text: string(appendJSONFloat(nil, f, bits))}
}

// appendJSONFloat formats like protojson (and encoding/json): shortest representation, exponent form outside
// [1e-6, 1e21), exponent without a leading zero.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// messageValue converts a message, giving well-known types their JSON form.
func (e *yamlEmitter) messageValue(m protoreflect.Message) (yamlValue, error) {
	md := m.Descriptor()
	name := md.FullName()
	if !strings.HasPrefix(string(name), "google.protobuf.") {
		return yamlValue{kind: yMessage, m: m}, nil
	}
	fds := md.Fields()
	switch name.Name() {
	case "Struct":
		return yamlValue{kind: yStruct, m: m}, nil
	case "ListValue":
		return yamlValue{kind: yListValue, m: m}, nil
	case "Value":
		return e.structValue(m)
	case "Duration":
		text, err := durationText(m.Get(fds.ByNumber(1)).Int(), m.Get(fds.ByNumber(2)).Int())
		if err != nil {
			return yamlValue{}, e.fail("%v", err)
		}
		return yamlValue{kind: yString, text: text}, nil
	case "Timestamp", "FieldMask":
		// Rare in a bootstrap; protojson knows their exact forms and limits.
		j, err := protojson.Marshal(m.Interface())
		if err != nil {
			return yamlValue{}, e.fail("%v", err)
		}
		var s string
		if err := json.Unmarshal(j, &s); err != nil {
			return yamlValue{}, e.fail("%s: %v", name, err)
		}
		return yamlValue{kind: yString, text: s}, nil
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value", "FloatValue", "DoubleValue",
		"StringValue", "BytesValue":
		fd := fds.ByNumber(1)
		return e.single(fd, m.Get(fd)) // the value even when it is the zero value
	}
	return yamlValue{kind: yMessage, m: m}, nil // Any, Empty and the rest are written as mappings
}

// structValue converts a google.protobuf.Value.
func (e *yamlEmitter) structValue(m protoreflect.Message) (yamlValue, error) {
	od := m.Descriptor().Oneofs().ByName("kind")
	fd := m.WhichOneof(od)
	if fd == nil {
		return yamlValue{}, e.fail("google.protobuf.Value: none of the oneof fields is set")
	}
	v := m.Get(fd)
	switch fd.Name() {
	case "null_value":
		return yamlValue{kind: yPlain, text: "null"}, nil
	case "number_value":
		return structNumber(v.Float())
	case "string_value":
		return yamlValue{kind: yString, text: v.String()}, nil
	case "bool_value":
		return yamlValue{kind: yPlain, text: strconv.FormatBool(v.Bool())}, nil
	case "struct_value":
		return yamlValue{kind: yStruct, m: v.Message()}, nil
	case "list_value":
		return yamlValue{kind: yListValue, m: v.Message()}, nil
	}
	return yamlValue{}, e.fail("google.protobuf.Value: unknown kind %s", fd.Name())
}

// structNumber writes a Struct number. Envoy's YAML loader makes a number only of a plain integer in int32 range
// (anything else becomes a string), so an int32 integer is written as such and round-trips exactly. Any other
// number has no YAML spelling Envoy reads as a number: it is written as its JSON text, which Envoy (and Decode)
// read as that string. A bootstrap decoded from YAML never holds such a number; one decoded from JSON can, and
// CanonicalJSON preserves it.
func structNumber(f float64) (yamlValue, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return yamlValue{}, fmt.Errorf("canonical YAML: google.protobuf.Value.number_value: invalid value %v", f)
	}
	if f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		return yamlValue{kind: yPlain, text: strconv.FormatInt(int64(f), 10)}, nil
	}
	return yamlValue{kind: yPlain, text: string(appendJSONFloat(nil, f, 64))}, nil
}

func listValueLen(m protoreflect.Message) int {
	return m.Get(m.Descriptor().Fields().ByNumber(1)).List().Len()
}

func listValueGet(m protoreflect.Message, i int) protoreflect.Message {
	return m.Get(m.Descriptor().Fields().ByNumber(1)).List().Get(i).Message()
}

// durationText is protojson's Duration form: seconds with 0, 3, 6 or 9 fractional digits and an "s".
func durationText(secs, nanos int64) (string, error) {
	const maxSeconds = 315576000000
	switch {
	case secs < -maxSeconds || secs > maxSeconds:
		return "", fmt.Errorf("google.protobuf.Duration: seconds out of range %v", secs)
	case nanos <= -1e9 || nanos >= 1e9:
		return "", fmt.Errorf("google.protobuf.Duration: nanos out of range %v", nanos)
	case secs > 0 && nanos < 0 || secs < 0 && nanos > 0:
		return "", fmt.Errorf("google.protobuf.Duration: signs of seconds and nanos do not match")
	}
	sign := ""
	if secs < 0 || nanos < 0 {
		sign, secs, nanos = "-", -secs, -nanos
	}
	x := fmt.Sprintf("%s%d.%09d", sign, secs, nanos)
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, ".000")
	return x + "s", nil
}
