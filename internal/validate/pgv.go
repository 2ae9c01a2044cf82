package validate

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// pgvError is the interface of every generated protoc-gen-validate error type (XxxValidationError).
type pgvError interface {
	error
	Field() string
	Reason() string
	Cause() error
	Key() bool
}

// multiError is the interface of the generated XxxMultiError returned by ValidateAll.
type multiError interface {
	AllErrors() []error
}

// pgvProblems flattens a ValidateAll error into problems. PGV nests one "embedded message failed validation" error
// per level and names fields by their Go names ("SocketAddress", "Listeners[0]"); the message descriptor of each
// level turns those back into proto field names, so the path reads like a decode path.
func pgvProblems(err error, md protoreflect.MessageDescriptor, path string, out Problems) Problems {
	// Generated errors do not wrap, so plain type assertions see them.
	if multi, ok := err.(multiError); ok {
		for _, e := range multi.AllErrors() {
			out = pgvProblems(e, md, path, out)
		}
		return out
	}
	ve, ok := err.(pgvError)
	if !ok {
		return append(out, Problem{Path: path, Message: err.Error()})
	}
	seg, fd, oneof := pgvField(md, ve.Field())
	p := path + seg
	if seg != "" && seg[0] != '[' && path != "" {
		p = path + "." + seg
	}
	cause := ve.Cause()
	nested := isPGV(cause) || isMulti(cause)
	if nested {
		var next protoreflect.MessageDescriptor
		if fd != nil {
			next = fd.Message()
			if fd.IsMap() {
				next = fd.MapValue().Message()
			}
		}
		if next != nil {
			return pgvProblems(cause, next, p, out)
		}
	}
	msg := ve.Reason()
	if ve.Key() {
		msg = "map key: " + msg
	}
	if oneof != nil {
		msg += " (set one of: " + oneofFields(oneof) + ")"
	}
	if cause != nil && !nested {
		msg += ": " + cause.Error()
	}
	return append(out, Problem{Path: p, Message: msg})
}

func isPGV(err error) bool   { _, ok := err.(pgvError); return ok }
func isMulti(err error) bool { _, ok := err.(multiError); return ok }

// pgvField maps PGV's field text ("PortValue", "Listeners[3]", "Map[key]") to a path segment in proto names and the
// field (or oneof) it names.
func pgvField(md protoreflect.MessageDescriptor, text string) (string, protoreflect.FieldDescriptor, protoreflect.OneofDescriptor) {
	name, suffix := text, ""
	if i := strings.IndexByte(text, '['); i > 0 && strings.HasSuffix(text, "]") {
		name, suffix = text[:i], text[i:]
	}
	if md == nil {
		return text, nil, nil
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if sameName(string(fd.Name()), name) {
			if fd.IsMap() && suffix != "" {
				suffix = "[" + strconv.Quote(suffix[1:len(suffix)-1]) + "]"
			}
			return string(fd.Name()) + suffix, fd, nil
		}
	}
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		o := oneofs.Get(i)
		if sameName(string(o.Name()), name) {
			return string(o.Name()), nil, o
		}
	}
	return text, nil, nil
}

func oneofFields(o protoreflect.OneofDescriptor) string {
	fds := o.Fields()
	names := make([]string, fds.Len())
	for i := range names {
		names[i] = string(fds.Get(i).Name())
	}
	return strings.Join(names, ", ")
}

// sameName compares a proto name with its protoc-gen-go CamelCase form: the Go name is the proto name with
// underscores dropped and some letters upper-cased, so comparing case-folded letters and digits is enough.
func sameName(proto, goName string) bool {
	j := 0
	for i := 0; i < len(proto); i++ {
		c := proto[i]
		if c == '_' {
			continue
		}
		for j < len(goName) && goName[j] == '_' {
			j++
		}
		if j >= len(goName) || lower(goName[j]) != lower(c) {
			return false
		}
		j++
	}
	for j < len(goName) && goName[j] == '_' {
		j++
	}
	return j == len(goName)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
