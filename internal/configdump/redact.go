// Package configdump redacts Envoy's /config_dump answer before the agent passes it on
// (GET /envoy/config_dump). The redaction is driven by the protobuf descriptors of the
// message types the JSON encodes, not by field names:
//
//   - every field that Envoy's API marks udpa.annotations.sensitive (private keys, passwords,
//     session ticket keys, generic secrets, AWS secret keys, ...), with everything under it;
//   - everything under envoy.admin.v3.SecretsConfigDump's secrets (the SDS secrets: TLS
//     certificates, validation contexts, HMAC and OAuth2 secrets, ...), whatever their type;
//   - fail closed: a field the descriptors do not know (an Envoy newer than the agent's API),
//     and the content of a google.protobuf.Any whose type is not registered, are redacted too.
//
// Redacted values keep their place and their keys, so the dump's shape stays readable: every
// scalar under a redacted field reads "[redacted]". Type URLs ("@type") are kept.
//
// The JSON is read and written as a stream of tokens, so a large dump is never held in memory;
// the output keeps the input's order of keys. Types are resolved in protoregistry.GlobalTypes:
// the agent's binary registers every Envoy API type go-control-plane ships (internal/validate).
package configdump

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cncf/xds/go/udpa/annotations"
	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Redacted stands where a secret was.
const Redacted = "[redacted]"

// maxDepth bounds the nesting of the JSON (Envoy's dumps stay far below it).
const maxDepth = 200

// Redact reads Envoy's config dump JSON (an envoy.admin.v3.ConfigDump) from r and writes it
// to w with its secrets redacted. On an error, what was written so far is redacted, but it is
// not the whole dump: the caller must not present it as one.
func Redact(r io.Reader, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	rd := &redactor{dec: json.NewDecoder(r), out: bw}
	rd.dec.UseNumber()
	root := (&adminv3.ConfigDump{}).ProtoReflect().Descriptor()
	if err := rd.message(root, false, 0); err != nil {
		return err
	}
	if _, err := rd.dec.Token(); err != io.EOF {
		return errors.New("config dump: data after the JSON document")
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// redactor walks the token stream alongside the descriptors.
type redactor struct {
	dec *json.Decoder
	out *bufio.Writer
}

func (r *redactor) token() (json.Token, error) {
	t, err := r.dec.Token()
	if err == io.EOF {
		return nil, io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, fmt.Errorf("config dump: %w", err)
	}
	return t, nil
}

// secretsDump is the admin message whose secrets are redacted whole.
var secretsDump = (&adminv3.SecretsConfigDump{}).ProtoReflect().Descriptor().FullName()

// sensitive reports whether the field's value is a secret: marked so in Envoy's API, or an
// SDS secret of the secrets dump (field "secret" of SecretsConfigDump's nested messages).
func sensitive(parent protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) bool {
	if opts := fd.Options(); opts != nil && proto.HasExtension(opts, annotations.E_Sensitive) &&
		proto.GetExtension(opts, annotations.E_Sensitive).(bool) {
		return true
	}
	return fd.Name() == "secret" && strings.HasPrefix(string(parent.FullName()), string(secretsDump)+".")
}

// lookupField finds a JSON key among md's fields: proto names (Envoy's output) or JSON names.
func lookupField(md protoreflect.MessageDescriptor, key string) protoreflect.FieldDescriptor {
	if fd := md.Fields().ByName(protoreflect.Name(key)); fd != nil {
		return fd
	}
	return md.Fields().ByJSONName(key)
}

// message copies one JSON value encoding md.
func (r *redactor) message(md protoreflect.MessageDescriptor, secret bool, depth int) error {
	switch md.FullName() {
	case "google.protobuf.Any":
		return r.any(secret, depth)
	}
	if isWellKnown(md) { // JSON of their own (strings, numbers, free-form objects)
		return r.generic(secret, depth)
	}
	t, err := r.token()
	if err != nil {
		return err
	}
	if t == nil {
		r.out.WriteString("null")
		return nil
	}
	if t != json.Delim('{') {
		return fmt.Errorf("config dump: %s: expected an object, got %v", md.FullName(), t)
	}
	return r.fields(md, secret, depth, true)
}

// fields copies the members of an object (its '{' already read and, when open, not yet
// written) as fields of md, up to and including its '}'.
func (r *redactor) fields(md protoreflect.MessageDescriptor, secret bool, depth int, open bool) error {
	if depth > maxDepth {
		return errors.New("config dump: nested too deeply")
	}
	if open {
		r.out.WriteByte('{')
	}
	first := open
	for r.dec.More() {
		t, err := r.token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		first = r.comma(first)
		r.key(key, depth+1)
		fd := lookupField(md, key)
		switch {
		case fd == nil: // unknown to this API: fail closed
			err = r.generic(true, depth+1)
		default:
			err = r.field(fd, secret || sensitive(md, fd), depth+1)
		}
		if err != nil {
			return err
		}
	}
	if _, err := r.token(); err != nil { // '}'
		return err
	}
	r.close('}', depth, first)
	return nil
}

// field copies a field's value: a list, a map or a single value.
func (r *redactor) field(fd protoreflect.FieldDescriptor, secret bool, depth int) error {
	switch {
	case fd.IsList():
		return r.list(depth, func(d int) error { return r.single(fd, secret, d) })
	case fd.IsMap():
		return r.mapValue(fd.MapValue(), secret, depth)
	}
	return r.single(fd, secret, depth)
}

func (r *redactor) single(fd protoreflect.FieldDescriptor, secret bool, depth int) error {
	if fd.Message() != nil {
		return r.message(fd.Message(), secret, depth)
	}
	return r.generic(secret, depth)
}

// list copies a JSON array (or null), each element by elem.
func (r *redactor) list(depth int, elem func(depth int) error) error {
	t, err := r.token()
	if err != nil {
		return err
	}
	if t == nil {
		r.out.WriteString("null")
		return nil
	}
	if t != json.Delim('[') {
		return fmt.Errorf("config dump: expected an array, got %v", t)
	}
	r.out.WriteByte('[')
	first := true
	for r.dec.More() {
		first = r.comma(first)
		r.indent(depth + 1)
		if err := elem(depth + 1); err != nil {
			return err
		}
	}
	if _, err := r.token(); err != nil {
		return err
	}
	r.close(']', depth, first)
	return nil
}

// mapValue copies a protobuf map (a JSON object); keys are kept, values follow vd.
func (r *redactor) mapValue(vd protoreflect.FieldDescriptor, secret bool, depth int) error {
	t, err := r.token()
	if err != nil {
		return err
	}
	if t == nil {
		r.out.WriteString("null")
		return nil
	}
	if t != json.Delim('{') {
		return fmt.Errorf("config dump: expected an object, got %v", t)
	}
	r.out.WriteByte('{')
	first := true
	for r.dec.More() {
		t, err := r.token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		first = r.comma(first)
		r.key(key, depth+1)
		if err := r.single(vd, secret, depth+1); err != nil {
			return err
		}
	}
	if _, err := r.token(); err != nil {
		return err
	}
	r.close('}', depth, first)
	return nil
}

// any copies a google.protobuf.Any: its "@type" names the message its other members encode.
// An Any whose first member is not "@type", or whose type is not registered, is redacted.
func (r *redactor) any(secret bool, depth int) error {
	t, err := r.token()
	if err != nil {
		return err
	}
	if t == nil {
		r.out.WriteString("null")
		return nil
	}
	if t != json.Delim('{') {
		return fmt.Errorf("config dump: expected an Any object, got %v", t)
	}
	r.out.WriteByte('{')
	if !r.dec.More() {
		_, err := r.token()
		r.out.WriteByte('}')
		return err
	}
	if t, err = r.token(); err != nil {
		return err
	}
	if key, _ := t.(string); key != "@type" { // unknown layout: keep nothing
		r.key(key, depth+1)
		return r.restRedacted(depth)
	}
	r.key("@type", depth+1)
	if t, err = r.token(); err != nil {
		return err
	}
	url, ok := t.(string)
	if !ok {
		return fmt.Errorf("config dump: @type is not a string")
	}
	writeString(r.out, url)
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil { // a type this agent does not know: fail closed
		return r.restRedactedAfter(depth)
	}
	md := mt.Descriptor()
	if md.FullName() == "google.protobuf.Any" || isWellKnown(md) {
		// {"@type": ..., "value": <the type's own JSON>}
		for r.dec.More() {
			t, err := r.token()
			if err != nil {
				return err
			}
			key, _ := t.(string)
			r.out.WriteByte(',')
			r.key(key, depth+1)
			if err := r.message(md, secret || key != "value", depth+1); err != nil {
				return err
			}
		}
		_, err := r.token()
		r.close('}', depth, false)
		return err
	}
	return r.fields(md, secret, depth, false)
}

// restRedacted redacts the value of the key just written and the rest of the object.
func (r *redactor) restRedacted(depth int) error {
	if err := r.generic(true, depth+1); err != nil {
		return err
	}
	return r.restRedactedAfter(depth)
}

// restRedactedAfter redacts the remaining members of an object, after at least one written.
func (r *redactor) restRedactedAfter(depth int) error {
	for r.dec.More() {
		t, err := r.token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		r.out.WriteByte(',')
		r.key(key, depth+1)
		if err := r.generic(true, depth+1); err != nil {
			return err
		}
	}
	_, err := r.token()
	r.close('}', depth, false)
	return err
}

// generic copies any JSON value; when secret, every scalar in it becomes Redacted (keys and
// "@type" values stay).
func (r *redactor) generic(secret bool, depth int) error {
	if depth > maxDepth {
		return errors.New("config dump: nested too deeply")
	}
	t, err := r.token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			r.out.WriteByte('[')
			first := true
			for r.dec.More() {
				first = r.comma(first)
				r.indent(depth + 1)
				if err := r.generic(secret, depth+1); err != nil {
					return err
				}
			}
			if _, err := r.token(); err != nil {
				return err
			}
			r.close(']', depth, first)
			return nil
		}
		r.out.WriteByte('{')
		first := true
		for r.dec.More() {
			t, err := r.token()
			if err != nil {
				return err
			}
			key, _ := t.(string)
			first = r.comma(first)
			r.key(key, depth+1)
			if key == "@type" {
				err = r.generic(false, depth+1)
			} else {
				err = r.generic(secret, depth+1)
			}
			if err != nil {
				return err
			}
		}
		if _, err := r.token(); err != nil {
			return err
		}
		r.close('}', depth, first)
		return nil
	case nil:
		r.out.WriteString("null")
	case string:
		if secret {
			v = Redacted
		}
		writeString(r.out, v)
	case json.Number:
		if secret {
			writeString(r.out, Redacted)
		} else {
			r.out.WriteString(v.String())
		}
	case bool:
		switch {
		case secret:
			writeString(r.out, Redacted)
		case v:
			r.out.WriteString("true")
		default:
			r.out.WriteString("false")
		}
	}
	return nil
}

// isWellKnown reports the google.protobuf types whose JSON is not an object of their fields
// (Any is handled on its own).
func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf" && md.FullName() != "google.protobuf.Any"
}

// Output formatting: two-space indentation, one member or element per line.

// comma separates a member or element from the one before it; it returns the new "first".
func (r *redactor) comma(first bool) bool {
	if !first {
		r.out.WriteByte(',')
	}
	return false
}

func (r *redactor) key(k string, depth int) {
	r.indent(depth)
	writeString(r.out, k)
	r.out.WriteString(": ")
}

func (r *redactor) indent(depth int) {
	r.out.WriteByte('\n')
	for range depth {
		r.out.WriteString("  ")
	}
}

// close ends an object or array; empty ones stay on one line.
func (r *redactor) close(c byte, depth int, empty bool) {
	if !empty {
		r.indent(depth)
	}
	r.out.WriteByte(c)
}

// writeString writes s as a JSON string (no HTML escaping, unlike encoding/json's default).
func writeString(w *bufio.Writer, s string) {
	const hex = "0123456789abcdef"
	w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.WriteByte('\\')
			w.WriteByte(c)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '\t':
			w.WriteString(`\t`)
		case c == '\r':
			w.WriteString(`\r`)
		case c < 0x20:
			w.WriteString(`\u00`)
			w.WriteByte(hex[c>>4])
			w.WriteByte(hex[c&0xf])
		default:
			w.WriteByte(c)
		}
	}
	w.WriteByte('"')
}
