package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// strictDecoder decodes a facts document token by token into Go values
// described by their json tags, so that every problem can name its key path
// and line: encoding/json reports unknown fields without their path and
// accepts duplicate keys silently.
type strictDecoder struct {
	dec  *json.Decoder
	data []byte
	name string // file name for messages
}

// factsError is one problem in a facts document.
type factsError struct {
	name string
	line int // 0: unknown
	key  string
	msg  string
}

func (e *factsError) Error() string {
	where := e.name
	if e.line > 0 {
		where = fmt.Sprintf("%s:%d", e.name, e.line)
	}
	if e.key == "" {
		return where + ": " + e.msg
	}
	return where + ": " + e.key + ": " + e.msg
}

func (d *strictDecoder) errorf(key, format string, args ...any) error {
	return &factsError{name: d.name, line: d.line(), key: key, msg: fmt.Sprintf(format, args...)}
}

// line is the line of the token just read.
func (d *strictDecoder) line() int {
	off := min(int(d.dec.InputOffset()), len(d.data))
	return 1 + bytes.Count(d.data[:off], []byte("\n"))
}

func (d *strictDecoder) token(key string) (json.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, d.errorf(key, "unexpected end of the document")
		}
		return nil, d.errorf(key, "not valid JSON: %v", err)
	}
	return tok, nil
}

// decodeTop decodes the whole document, which must be one object, into v (a
// pointer to a struct) and reports which of its keys were present.
func (d *strictDecoder) decodeTop(v any) (map[string]bool, error) {
	tok, err := d.token("")
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, d.errorf("", "want a JSON object, got %s", describe(tok))
	}
	present, err := d.object("", reflect.ValueOf(v).Elem())
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, d.errorf("", "unexpected data after the JSON object")
	}
	return present, nil
}

// object decodes the members of an object whose '{' was read into struct v.
func (d *strictDecoder) object(path string, v reflect.Value) (map[string]bool, error) {
	fields := reflectFields(v.Addr().Interface())
	present := map[string]bool{}
	for d.dec.More() {
		tok, err := d.token(path)
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		key := join(path, name)
		f, ok := fields[name]
		switch {
		case !ok:
			return nil, d.errorf(key, "unknown key (allowed: %s)", strings.Join(fieldNames(v.Type()), ", "))
		case present[name]:
			return nil, d.errorf(key, "duplicate key")
		}
		present[name] = true
		if err := d.value(key, f); err != nil {
			return nil, err
		}
	}
	_, err := d.token(path) // '}'
	return present, err
}

// value decodes the next value into v.
func (d *strictDecoder) value(key string, v reflect.Value) error {
	tok, err := d.token(key)
	if err != nil {
		return err
	}
	if tok == nil && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Map) {
		v.SetZero() // null removes a section (OverrideHostFacts)
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if tok != json.Delim('{') {
			return d.errorf(key, "want an object, got %s", describe(tok))
		}
		v.Set(reflect.New(v.Type().Elem()))
		_, err := d.object(key, v.Elem())
		return err
	case reflect.Map:
		if tok != json.Delim('{') {
			return d.errorf(key, "want an object, got %s", describe(tok))
		}
		return d.mapMembers(key, v)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return d.errorf(key, "want a list, got %s", describe(tok))
		}
		v.Set(reflect.MakeSlice(v.Type(), 0, 1))
		for i := 0; d.dec.More(); i++ {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.value(fmt.Sprintf("%s[%d]", key, i), e); err != nil {
				return err
			}
			v.Set(reflect.Append(v, e))
		}
		_, err := d.token(key) // ']'
		return err
	case reflect.String:
		s, ok := tok.(string)
		if !ok {
			return d.errorf(key, "want a string, got %s", describe(tok))
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := tok.(bool)
		if !ok {
			return d.errorf(key, "want true or false, got %s", describe(tok))
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, ok := tok.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			return d.errorf(key, "want an integer, got %s", describe(tok))
		}
		v.SetInt(i)
	case reflect.Float64:
		n, ok := tok.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return d.errorf(key, "want a number, got %s", describe(tok))
		}
		v.SetFloat(f)
	default:
		return d.errorf(key, "unsupported field type %s", v.Type()) // a programming error
	}
	return nil
}

// mapMembers decodes the members of an object whose '{' was read into map v.
func (d *strictDecoder) mapMembers(path string, v reflect.Value) error {
	v.Set(reflect.MakeMap(v.Type()))
	for d.dec.More() {
		tok, err := d.token(path)
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		key := join(path, name)
		if v.MapIndex(reflect.ValueOf(name)).IsValid() {
			return d.errorf(key, "duplicate key")
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if err := d.value(key, e); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(name), e)
	}
	_, err := d.token(path) // '}'
	return err
}

// reflectFields maps the json names of the struct *p's fields to the fields.
func reflectFields(p any) map[string]reflect.Value {
	v := reflect.ValueOf(p).Elem()
	out := map[string]reflect.Value{}
	for i := range v.NumField() {
		if name := jsonName(v.Type().Field(i)); name != "" {
			out[name] = v.Field(i)
		}
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names a token's JSON type for messages.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", truncate(t, 40))
	case json.Number:
		return "the number " + t.String()
	case bool:
		return fmt.Sprintf("%v", t)
	case json.Delim:
		if t == '[' {
			return "a list"
		}
		return "an object"
	}
	return fmt.Sprintf("%v", tok)
}
