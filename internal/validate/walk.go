package validate

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// walker visits every message of a tree in field declaration order, unpacking every Any and TypedStruct payload,
// so that one table-driven visitor finds a rule's message wherever it sits. It keeps the current path as a stack
// of segments and renders it only when something is reported.
type walker struct {
	segs []seg
	set  []setField             // scratch stack of populated fields
	msgs []protoreflect.Message // the messages from the root down to the one being visited

	// visit is called for every message; root is true for the bootstrap and for every unpacked payload, which are
	// exactly the messages whose generated ValidateAll covers everything below them up to the next Any.
	visit func(w *walker, m protoreflect.Message, root bool)
	// field, if set, is called for every populated field of every message.
	field func(w *walker, m protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value)
	// problems found while unpacking payloads, and by the load-time rules
	probs Problems
	// warnings of the load-time rules: checks only some Envoy builds or releases make
	warns Problems
	depth int

	collect func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool // built once: Range's callback
}

type seg struct {
	kind  uint8
	index int
	name  string
}

type setField struct {
	fd protoreflect.FieldDescriptor
	v  protoreflect.Value
}

const (
	anyName          = "google.protobuf.Any"
	udpaTypedStruct  = "udpa.type.v1.TypedStruct"
	xdsTypedStruct   = "xds.type.v3.TypedStruct"
	maxPayloadNested = 64 // Any inside Any inside ...: far beyond any real config
)

func (w *walker) push(kind uint8, name string, index int) {
	w.segs = append(w.segs, seg{kind: kind, name: name, index: index})
}

func (w *walker) pop() { w.segs = w.segs[:len(w.segs)-1] }

// path renders the current path.
func (w *walker) path() string {
	p := ""
	for _, s := range w.segs {
		p = appendSeg(p, s.kind, s.name, s.index)
	}
	return p
}

// pathTo renders the path of a field of the current message.
func (w *walker) pathTo(field string) string { return joinPath(w.path(), field) }

// under reports whether the current path starts with the given field names (e.g. static_resources, listeners).
func (w *walker) under(fields ...string) bool {
	if len(w.segs) < len(fields) {
		return false
	}
	for i, f := range fields {
		if w.segs[i].kind != segField || w.segs[i].name != f {
			return false
		}
	}
	return true
}

func (w *walker) report(path, msg string) {
	w.probs = append(w.probs, Problem{Path: path, Message: msg})
}

// Path, Report, Parent and Ancestor give Envoy's load-time rules (package loadtime) their view of the walk.

// Path is the path of the message being visited.
func (w *walker) Path() string { return w.path() }

// Report records a problem.
func (w *walker) Report(path, msg string) { w.report(path, msg) }

// Warn records a warning: what some Envoy of the supported range or some build loads.
func (w *walker) Warn(path, msg string) {
	w.warns = append(w.warns, Problem{Path: path, Message: msg, Warning: true})
}

// Parent returns the message holding the one being visited and the field it sits in ("" for a payload).
func (w *walker) Parent() (protoreflect.Message, protoreflect.Name) {
	if len(w.msgs) < 2 {
		return nil, ""
	}
	for i := len(w.segs) - 1; i >= 0; i-- {
		switch w.segs[i].kind {
		case segField:
			return w.msgs[len(w.msgs)-2], protoreflect.Name(w.segs[i].name)
		case segAny:
			return w.msgs[len(w.msgs)-2], ""
		}
	}
	return w.msgs[len(w.msgs)-2], ""
}

// Ancestor returns the nearest enclosing message of the given type, or nil.
func (w *walker) Ancestor(name protoreflect.FullName) protoreflect.Message {
	for i := len(w.msgs) - 2; i >= 0; i-- {
		if w.msgs[i].Descriptor().FullName() == name {
			return w.msgs[i]
		}
	}
	return nil
}

// walk visits m and everything below it.
func (w *walker) walk(m protoreflect.Message, root bool) {
	w.msgs = append(w.msgs, m)
	defer func() { w.msgs = w.msgs[:len(w.msgs)-1] }()
	w.visit(w, m, root)
	switch m.Descriptor().FullName() {
	case anyName:
		w.unpackAny(m)
		return
	case udpaTypedStruct, xdsTypedStruct:
		w.unpackTypedStruct(m)
		return
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		return // untyped data: nothing to check inside
	}
	if w.collect == nil {
		w.collect = func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			w.set = append(w.set, setField{fd, v})
			return true
		}
	}
	start := len(w.set)
	m.Range(w.collect)
	// Range order is unspecified (and varies between builds); reports must not.
	slices.SortFunc(w.set[start:], func(a, b setField) int { return a.fd.Index() - b.fd.Index() })
	for i := start; i < len(w.set); i++ {
		f := w.set[i] // re-read: recursion may grow (and move) w.set
		if w.field != nil {
			w.field(w, m, f.fd, f.v)
		}
		w.walkField(f.fd, f.v)
	}
	w.set = w.set[:start]
}

func (w *walker) walkField(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	name := string(fd.Name())
	switch {
	case fd.IsMap():
		if fd.MapValue().Message() == nil {
			return
		}
		mp := v.Map()
		keys := make([]protoreflect.MapKey, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return strings.Compare(a.String(), b.String()) })
		w.push(segField, name, 0)
		for _, k := range keys {
			w.push(segKey, k.String(), 0)
			w.walk(mp.Get(k).Message(), false)
			w.pop()
		}
		w.pop()
	case fd.Message() == nil:
	case fd.IsList():
		l := v.List()
		w.push(segField, name, 0)
		for i := 0; i < l.Len(); i++ {
			w.push(segIndex, "", i)
			w.walk(l.Get(i).Message(), false)
			w.pop()
		}
		w.pop()
	default:
		w.push(segField, name, 0)
		w.walk(v.Message(), false)
		w.pop()
	}
}

// payloadType resolves the type_url of an Any or TypedStruct whose payload is to be walked;
// ok is false when there is nothing to walk (an empty URL: Envoy then looks the extension up
// by name, which is not an error) or a problem was reported, at urlField for a bad type.
func (w *walker) payloadType(m protoreflect.Message, urlField string) (url string, mt protoreflect.MessageType, ok bool) {
	url = m.Get(m.Descriptor().Fields().ByName("type_url")).String()
	if url == "" {
		return "", nil, false
	}
	if w.depth >= maxPayloadNested {
		w.report(w.path(), "payloads nested too deeply")
		return "", nil, false
	}
	mt, err := resolveType(url)
	if err != nil {
		w.report(w.pathTo(urlField), err.Error())
		return "", nil, false
	}
	return url, mt, true
}

// unpackAny walks the payload of an Any as a new validation root, with path segment <TypeName>.
func (w *walker) unpackAny(m protoreflect.Message) {
	url, mt, ok := w.payloadType(m, "@type")
	if !ok {
		return
	}
	inner := mt.New()
	value := m.Get(m.Descriptor().Fields().ByName("value")).Bytes()
	if err := (proto.UnmarshalOptions{}).Unmarshal(value, inner.Interface()); err != nil {
		w.report(w.path(), "cannot unpack "+url+": "+err.Error())
		return
	}
	w.descend(inner)
}

// unpackTypedStruct decodes a TypedStruct's value (a Struct) as the message its type_url names, the way Envoy does,
// with the same strictness and leniencies as a typed_config, then walks it as a new validation root.
func (w *walker) unpackTypedStruct(m protoreflect.Message) {
	_, mt, ok := w.payloadType(m, "type_url")
	if !ok {
		return
	}
	st, _ := m.Get(m.Descriptor().Fields().ByName("value")).Message().Interface().(*structpb.Struct)
	inner := mt.New()
	w.push(segAny, string(mt.Descriptor().Name()), 0)
	probs := decodeNode(structNode(st), inner.Interface(), w.path(), true)
	w.pop()
	if len(probs) > 0 {
		w.probs = append(w.probs, probs...)
		return
	}
	w.descend(inner)
}

func (w *walker) descend(inner protoreflect.Message) {
	w.depth++
	w.push(segAny, string(inner.Descriptor().Name()), 0)
	w.walk(inner, true)
	w.pop()
	w.depth--
}
