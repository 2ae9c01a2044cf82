package validate

import (
	"math"
	"strconv"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// scalarValue emits n as a value of fd's scalar type (not a message), reading it as protobuf's C++ parser reads the
// JSON token Envoy's YAML loader makes of it (ParseSingular, parser.cc:394-539), and reports what that parser refuses.
// What it accepts is written in the canonical form protojson reads.
func (c *converter) scalarValue(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32) {
	n, ok := c.enterValue(n, p)
	if !ok {
		return
	}
	defer c.leave()
	if n.Kind != yaml.ScalarNode {
		c.raw(n, p) // a list or mapping where a scalar belongs: protojson reports it
		return
	}
	kind, text := c.classify(n)
	if kind == kindNull {
		c.out = append(c.out, "null"...) // leaves the field unset (parser.cc:398-424)
		return
	}
	str := kind == kindString || kind == kindBigInt // what reaches the JSON parser as a string
	num := kind == kindInt || kind == kindNumber
	var out string
	ok = false
	switch fd.Kind() {
	case protoreflect.BoolKind:
		// true/false, or in legacy mode a string absl::SimpleAtob reads (parser.cc:471-507).
		switch {
		case kind == kindBool:
			out, ok = text, true
		case str:
			var b bool
			if b, ok = atob(text); ok {
				out = strconv.FormatBool(b)
			}
		}
	case protoreflect.EnumKind:
		if c.enumValue(fd.Enum(), kind, text) {
			return
		}
	case protoreflect.StringKind:
		if str {
			c.out = appendString(c.out, text) // the common case, written without a copy
			return
		}
	case protoreflect.BytesKind:
		if str {
			out, ok = bytesJSON(text)
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		switch {
		case num:
			// A number token: the lexer has already read it as a double (lexer.cc:211-299).
			if d, err := strconv.ParseFloat(text, 64); err == nil {
				out, ok = floatJSON(d, bits)
			}
		case str:
			out, ok = parseFloat(text, bits)
		}
	default: // the integer kinds
		if kind == kindInt && (!intKind(fd).unsigned || text[0] != '-') {
			// YAML's common case: a decimal integer in int32 range, already canonical.
			c.out = append(c.out, text...)
			return
		}
		if num || str {
			out, ok = parseInt(text, str, intKind(fd))
		}
	}
	if !ok {
		c.invalidScalar(n, fd, p, kind, text)
		out = zeroScalar(fd)
	}
	c.out = append(c.out, out...)
}

// enumValue writes an enum and reports whether it could: a value name in any letter case (Envoy sets
// case_insensitive_enum_parsing; descriptor_traits.h:254-274), a number, or a number in a string
// (ParseEnumFromStr and ParseEnum, parser.cc:335-385). Unknown numbers are the parser's business no more than
// protojson's: PGV's defined_only rules decide.
func (c *converter) enumValue(ed protoreflect.EnumDescriptor, kind scalarKind, text string) bool {
	switch kind {
	case kindString, kindBigInt:
		if ed.FullName() == "google.protobuf.NullValue" {
			c.out = appendString(c.out, text) // protojson reports it
			return true
		}
		if name := enumName(ed, text); name != "" {
			c.out = appendString(c.out, name)
			return true
		}
		if v, ok := atoiSigned(text); ok && v >= math.MinInt32 && v <= math.MaxInt32 {
			c.out = strconv.AppendInt(c.out, v, 10)
			return true
		}
	case kindInt, kindNumber:
		if out, ok := parseInt(text, false, intBits{bits: 32}); ok {
			c.out = append(c.out, out...)
			return true
		}
	}
	return false
}

// integerText reads n as the integer field fd (used for the fields of object-form well-known types).
func (c *converter) integerText(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32) (string, bool) {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		c.problem(c.path(p), lineOf(n), "invalid value for %s field %s: expected a number", fd.Kind(), fd.JSONName())
		return "", false
	}
	kind, text := c.classify(n)
	if kind == kindInt || kind == kindNumber || kind == kindString || kind == kindBigInt {
		if out, ok := parseInt(text, kind == kindString || kind == kindBigInt, intKind(fd)); ok {
			return out, true
		}
	}
	c.invalidScalar(n, fd, p, kind, text)
	return "", false
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// invalidScalar reports a scalar the parser refuses, in protojson's words, with a hint where YAML typed it.
func (c *converter) invalidScalar(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32, kind scalarKind, text string) {
	shown, hint := text, ""
	switch kind {
	case kindString, kindBigInt:
		shown = string(appendString(nil, text))
	case kindBool, kindInt:
		if !c.jsonInput && (fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind) {
			what := "the number " + text
			if kind == kindBool {
				what = "the boolean " + text
			}
			shown, hint = n.Value, " (Envoy's YAML parser reads it as "+what+"; quote it to make it a string)"
		}
	}
	c.problem(c.path(p), n.Line, "invalid value for %s field %s: %s%s", fd.Kind(), fd.JSONName(), shown, hint)
}

func intKind(fd protoreflect.FieldDescriptor) intBits {
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return intBits{bits: 32}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return intBits{bits: 32, unsigned: true}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return intBits{bits: 64, unsigned: true}
	}
	return intBits{bits: 64}
}

// zeroScalar is the JSON of a scalar field's default value.
func zeroScalar(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return "false"
	case protoreflect.StringKind, protoreflect.BytesKind:
		return `""`
	}
	return "0"
}

// zeroElement is what a null element of a list becomes: the element type's default value (EmitNull,
// parser.cc:541-589), or a null value in a list of Values.
func zeroElement(fd protoreflect.FieldDescriptor) string {
	md := fd.Message()
	if md == nil {
		return zeroScalar(fd)
	}
	switch k := wellKnown(md.FullName()); k {
	case wktStruct:
		if md.FullName() == "google.protobuf.Value" {
			return "null"
		}
		return "{}"
	case wktWrapper:
		return zeroScalar(md.Fields().ByNumber(1))
	case wktDuration, wktTimestamp, wktFieldMask, wktList:
		return zeroWellKnown(k)
	}
	return "{}"
}

// mapEntries emits mapping n as the map field fd. Keys are read as ParseMapKey reads them (parser.cc:591-655):
// integer keys with absl::SimpleAtoi, bool keys as exactly true or false. A null value is the value type's
// default (ParseMapEntry creates the entry, then ParseSingular leaves it unset; parser.cc:742-768).
func (c *converter) mapEntries(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32) {
	keyFd, valFd := fd.MapKey(), fd.MapValue()
	c.object(n, p, func(v *yaml.Node, kp int32) {
		if c.isNull(v) {
			c.out = append(c.out, zeroElement(valFd)...)
			return
		}
		c.singular(v, valFd, kp)
	}, func(k *yaml.Node, kp int32) string {
		key, ok := mapKey(keyFd, k.Value)
		if !ok {
			c.problem(c.path(kp), k.Line, "invalid map key %q: a map<%s, ...> key", k.Value, keyFd.Kind())
			return k.Value
		}
		return key
	})
}

func mapKey(fd protoreflect.FieldDescriptor, key string) (string, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return key, true
	case protoreflect.BoolKind:
		return key, key == "true" || key == "false"
	}
	kind := intKind(fd)
	neg, mag, ok := atoi(key)
	if !ok || (kind.unsigned && neg) {
		return "", false
	}
	if kind.unsigned {
		return checkedUint(mag, kind)
	}
	v, ok := atoiSigned(key)
	if !ok {
		return "", false
	}
	return checkedInt(v, kind)
}
