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
	"bytes"
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
	rd.strEnc = json.NewEncoder(&rd.strBuf)
	rd.strEnc.SetEscapeHTML(false)
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
	dec    *json.Decoder
	out    *bufio.Writer
	strBuf bytes.Buffer
	strEnc *json.Encoder // into strBuf, HTML escaping off
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
	switch {
	case md.FullName() == "google.protobuf.Any":
		return r.any(secret, depth)
	case isWellKnown(md): // JSON of their own (strings, numbers, free-form objects)
		return r.generic(secret, depth)
	}
	if ok, err := r.open('{'); !ok {
		return err
	}
	return r.fields(md, secret, depth, true)
}

// fields copies the remaining members of an object as fields of md. A field the
// descriptors do not know (a newer Envoy's) is redacted: fail closed.
func (r *redactor) fields(md protoreflect.MessageDescriptor, secret bool, depth int, first bool) error {
	return r.members(depth, first, func(key string, d int) error {
		fd := lookupField(md, key)
		if fd == nil {
			return r.generic(true, d)
		}
		return r.field(fd, secret || sensitive(md, fd), d)
	})
}

// field copies a field's value: a list, a map or a single value.
func (r *redactor) field(fd protoreflect.FieldDescriptor, secret bool, depth int) error {
	switch {
	case fd.IsList():
		if ok, err := r.open('['); !ok {
			return err
		}
		return r.elements(depth, func(d int) error { return r.single(fd, secret, d) })
	case fd.IsMap():
		if ok, err := r.open('{'); !ok {
			return err
		}
		return r.members(depth, true, func(_ string, d int) error { return r.single(fd.MapValue(), secret, d) })
	}
	return r.single(fd, secret, depth)
}

func (r *redactor) single(fd protoreflect.FieldDescriptor, secret bool, depth int) error {
	if fd.Message() != nil {
		return r.message(fd.Message(), secret, depth)
	}
	return r.generic(secret, depth)
}

// open reads the start of an array or object (want), or null, and writes it; null is false.
func (r *redactor) open(want json.Delim) (bool, error) {
	t, err := r.token()
	switch {
	case err != nil:
		return false, err
	case t == nil:
		r.out.WriteString("null")
		return false, nil
	case t != want:
		return false, fmt.Errorf("config dump: expected %v, got %v", want, t)
	}
	r.out.WriteByte(byte(want))
	return true, nil
}

// members copies the remaining members of an object whose '{' is read and written, each
// value by value, and its '}'. first says that no member was written yet.
func (r *redactor) members(depth int, first bool, value func(key string, depth int) error) error {
	if depth > maxDepth {
		return errors.New("config dump: nested too deeply")
	}
	for r.dec.More() {
		t, err := r.token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		if !first {
			r.out.WriteByte(',')
		}
		first = false
		r.key(key, depth+1)
		if err := value(key, depth+1); err != nil {
			return err
		}
	}
	return r.closing('}', depth, first)
}

// elements copies the remaining elements of an array whose '[' is read and written, each by
// elem, and its ']'.
func (r *redactor) elements(depth int, elem func(depth int) error) error {
	if depth > maxDepth {
		return errors.New("config dump: nested too deeply")
	}
	first := true
	for r.dec.More() {
		if !first {
			r.out.WriteByte(',')
		}
		first = false
		r.indent(depth + 1)
		if err := elem(depth + 1); err != nil {
			return err
		}
	}
	return r.closing(']', depth, first)
}

// closing reads the closing delimiter and writes it; empty objects and arrays stay on one line.
func (r *redactor) closing(c byte, depth int, empty bool) error {
	if _, err := r.token(); err != nil {
		return err
	}
	if !empty {
		r.indent(depth)
	}
	r.out.WriteByte(c)
	return nil
}

// any copies a google.protobuf.Any: its "@type" names the message its other members encode.
// An Any whose first member is not "@type", or whose type is not registered, is redacted.
func (r *redactor) any(secret bool, depth int) error {
	if ok, err := r.open('{'); !ok {
		return err
	}
	redactRest := func(string, int) error { return r.generic(true, depth+1) }
	if !r.dec.More() {
		return r.closing('}', depth, true)
	}
	t, err := r.token()
	if err != nil {
		return err
	}
	if key, _ := t.(string); key != "@type" { // unknown layout: keep nothing
		r.key(key, depth+1)
		if err := r.generic(true, depth+1); err != nil {
			return err
		}
		return r.members(depth, false, redactRest)
	}
	r.key("@type", depth+1)
	if t, err = r.token(); err != nil {
		return err
	}
	url, ok := t.(string)
	if !ok {
		return fmt.Errorf("config dump: @type is not a string")
	}
	r.writeString(url)
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil { // a type this agent does not know: fail closed
		return r.members(depth, false, redactRest)
	}
	md := mt.Descriptor()
	if isWellKnown(md) || md.FullName() == "google.protobuf.Any" {
		// {"@type": ..., "value": <the type's own JSON>}
		return r.members(depth, false, func(key string, d int) error { return r.message(md, secret || key != "value", d) })
	}
	return r.fields(md, secret, depth, false)
}

// generic copies any JSON value; when secret, every scalar in it becomes Redacted (keys and
// the type URLs of "@type" members stay).
func (r *redactor) generic(secret bool, depth int) error { return r.value(secret, false, depth) }

// value is generic, but keeps a string value when typeURL (the value of an "@type" member).
func (r *redactor) value(secret, typeURL bool, depth int) error {
	t, err := r.token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case json.Delim:
		r.out.WriteByte(byte(v))
		if v == '[' {
			return r.elements(depth, func(d int) error { return r.generic(secret, d) })
		}
		return r.members(depth, true, func(key string, d int) error { return r.value(secret, key == "@type", d) })
	case nil:
		r.out.WriteString("null")
	case string:
		if secret && !typeURL {
			v = Redacted
		}
		r.writeString(v)
	case json.Number:
		if secret {
			r.writeString(Redacted)
		} else {
			r.out.WriteString(v.String())
		}
	case bool:
		switch {
		case secret:
			r.writeString(Redacted)
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

func (r *redactor) key(k string, depth int) {
	r.indent(depth)
	r.writeString(k)
	r.out.WriteString(": ")
}

func (r *redactor) indent(depth int) {
	r.out.WriteByte('\n')
	for range depth {
		r.out.WriteString("  ")
	}
}

// writeString writes s as a JSON string (without encoding/json's default HTML escaping,
// so regular expressions and paths read as Envoy wrote them).
func (r *redactor) writeString(s string) {
	r.strBuf.Reset()
	_ = r.strEnc.Encode(s) // a string always encodes
	r.out.Write(bytes.TrimSuffix(r.strBuf.Bytes(), []byte("\n")))
}
