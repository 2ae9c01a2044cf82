package validate

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits that keep hostile input (alias bombs, cyclic aliases, absurd nesting) from exhausting memory or stack.
const (
	maxDepth = 500
	maxNodes = 1 << 18
)

// converter turns a YAML node tree into proto3 JSON for protojson, walking the target message descriptor at the
// same time. That lets it apply Envoy's leniencies where a descriptor says they apply, report unknown fields,
// duplicate keys and unresolvable @type with a field path (collecting all of them), and remember which field every
// output line belongs to: it starts a new line for each key and list element, so protojson's "(line N:C)" error
// position maps straight back to a path.
type converter struct {
	out       []byte
	lines     []lineInfo // lines[i] describes output line i+1
	paths     []pathNode // path tree; node 0 is the base path
	pairs     []pair     // scratch stack of mapping entries
	probs     Problems
	jsonInput bool
	depth     int
	nodes     int
	aborted   bool // a limit was hit; emit nulls from here on
}

type lineInfo struct {
	path int32
	src  int32 // YAML line, 0 when unknown
}

type pair struct{ k, v *yaml.Node }

const (
	segField = iota
	segIndex
	segKey
	segAny
)

// pathNode is one segment of a field path, kept as a tree so paths are only rendered when something is reported.
type pathNode struct {
	parent int32
	kind   uint8
	index  int32
	name   string
}

func newConverter(base string, jsonInput bool) *converter {
	c := &converter{jsonInput: jsonInput, out: make([]byte, 0, 4096)}
	c.paths = append(c.paths, pathNode{parent: -1, name: base})
	c.lines = append(c.lines, lineInfo{})
	return c
}

func (c *converter) child(parent int32, kind uint8, name string, index int) int32 {
	c.paths = append(c.paths, pathNode{parent: parent, kind: kind, name: name, index: int32(index)})
	return int32(len(c.paths) - 1)
}

// path renders path node i.
func (c *converter) path(i int32) string {
	if i < 0 {
		return ""
	}
	n := c.paths[i]
	if n.parent < 0 {
		return n.name
	}
	return appendSeg(c.path(n.parent), n.kind, n.name, int(n.index))
}

// shortPath renders at most the first few segments of path node i, for problems found very deep.
func (c *converter) shortPath(i int32) string {
	const keep = 8
	var chain []int32
	for ; i >= 0; i = c.paths[i].parent {
		chain = append(chain, i)
	}
	if len(chain) <= keep+1 {
		return c.path(chain[0])
	}
	return c.path(chain[len(chain)-1-keep]) + "..."
}

// appendSeg is shared with the message walker so that decode and check paths look the same.
func appendSeg(p string, kind uint8, name string, index int) string {
	switch kind {
	case segIndex:
		return p + "[" + strconv.Itoa(index) + "]"
	case segKey:
		return p + "[" + strconv.Quote(name) + "]"
	case segAny:
		return p + "<" + name + ">"
	}
	return joinPath(p, name)
}

func (c *converter) problem(path string, line int, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...) + atLine(line)})
}

func atLine(line int) string {
	if line <= 0 {
		return ""
	}
	return " (line " + strconv.Itoa(line) + ")"
}

// newline starts an output line belonging to path p.
func (c *converter) newline(p int32, src int) {
	c.out = append(c.out, '\n')
	c.lines = append(c.lines, lineInfo{path: p, src: int32(src)})
}

// enter resolves aliases and enforces the limits; false means "emit null and stop".
func (c *converter) enter(n *yaml.Node, p int32) (*yaml.Node, bool) {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	if c.aborted || n == nil || n.Kind == yaml.AliasNode {
		return nil, false
	}
	c.depth++
	c.nodes++
	if c.depth > maxDepth || c.nodes > maxNodes {
		c.aborted = true
		c.problem(c.shortPath(p), n.Line, "document too deeply nested or too large (recursive or exploding aliases?)")
		c.depth--
		return nil, false
	}
	return n, true
}

func (c *converter) leave() { c.depth-- }

// message emits n as a message of type md.
func (c *converter) message(n *yaml.Node, md protoreflect.MessageDescriptor, p int32) {
	n, ok := c.enter(n, p)
	if !ok {
		c.out = append(c.out, "null"...)
		return
	}
	defer c.leave()
	switch wellKnown(md.FullName()) {
	case wktAny:
		c.any(n, p)
		return
	case wktOther:
		// Duration, Struct, wrappers...: their JSON form is not an object of fields, and Envoy's leniencies do not
		// apply inside them.
		c.raw(n, p)
		return
	}
	if n.Kind != yaml.MappingNode {
		c.raw(n, p) // null unsets the field; anything else is a type error protojson reports with our path
		return
	}
	start := c.collect(n, p)
	c.out = append(c.out, '{')
	c.fields(start, md, p, false)
	c.out = append(c.out, '}')
	c.pairs = c.pairs[:start]
}

// fields emits the collected entries c.pairs[start:] as fields of md, reporting unknown and repeated ones.
// The caller owns the braces. inAny says "@type" was already written and is to be skipped.
func (c *converter) fields(start int, md protoreflect.MessageDescriptor, p int32, inAny bool) {
	afterFirst := inAny
	fds := md.Fields()
	var seenBuf [16]protoreflect.FieldNumber
	seen := seenBuf[:0]
	for i := start; i < len(c.pairs); i++ {
		k, v := c.pairs[i].k, c.pairs[i].v
		if inAny && k.Value == "@type" {
			continue
		}
		fd := fds.ByJSONName(k.Value)
		if fd == nil {
			fd = fds.ByTextName(k.Value)
		}
		if fd == nil {
			c.problem(joinPath(c.path(p), k.Value), k.Line, "unknown field %q in %s", k.Value, md.FullName())
			continue
		}
		if containsNumber(seen, fd.Number()) {
			c.problem(joinPath(c.path(p), string(fd.Name())), k.Line,
				"field given twice (%q is another spelling of a field already set)", k.Value)
			continue
		}
		seen = append(seen, fd.Number())
		if afterFirst {
			c.out = append(c.out, ',')
		}
		afterFirst = true
		fp := c.child(p, segField, string(fd.Name()), 0)
		c.newline(fp, k.Line)
		c.out = appendString(c.out, string(fd.Name()))
		c.out = append(c.out, ':')
		c.field(v, fd, fp)
	}
}

func containsNumber(s []protoreflect.FieldNumber, n protoreflect.FieldNumber) bool {
	for _, x := range s {
		if x == n {
			return true
		}
	}
	return false
}

// field emits the value of fd, which may be a list or a map.
func (c *converter) field(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32) {
	switch {
	case fd.IsMap():
		n, ok := c.enter(n, p)
		if !ok {
			c.out = append(c.out, "null"...)
			return
		}
		defer c.leave()
		if n.Kind != yaml.MappingNode {
			c.raw(n, p)
			return
		}
		start := c.collect(n, p)
		c.out = append(c.out, '{')
		for i := start; i < len(c.pairs); i++ {
			k, v := c.pairs[i].k, c.pairs[i].v
			if i > start {
				c.out = append(c.out, ',')
			}
			kp := c.child(p, segKey, k.Value, 0)
			c.newline(kp, k.Line)
			c.out = appendString(c.out, k.Value)
			c.out = append(c.out, ':')
			c.singular(v, fd.MapValue(), kp)
		}
		c.out = append(c.out, '}')
		c.pairs = c.pairs[:start]
	case fd.IsList():
		n, ok := c.enter(n, p)
		if !ok {
			c.out = append(c.out, "null"...)
			return
		}
		defer c.leave()
		switch {
		case n.Kind == yaml.SequenceNode:
			c.out = append(c.out, '[')
			for i, e := range n.Content {
				if i > 0 {
					c.out = append(c.out, ',')
				}
				ep := c.child(p, segIndex, "", i)
				c.newline(ep, e.Line)
				c.singular(e, fd, ep)
			}
			c.out = append(c.out, ']')
		case n.Kind == yaml.MappingNode && fd.Message() != nil:
			// Envoy's leniency: a single object where a list is expected is a one-element list.
			ep := c.child(p, segIndex, "", 0)
			c.out = append(c.out, '[')
			c.newline(ep, n.Line)
			c.singular(n, fd, ep)
			c.out = append(c.out, ']')
		default:
			c.raw(n, p)
		}
	default:
		c.singular(n, fd, p)
	}
}

// singular emits one value of fd's element type.
func (c *converter) singular(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		c.message(n, fd.Message(), p)
	case protoreflect.EnumKind:
		c.enum(n, fd.Enum(), p)
	default:
		c.raw(n, p)
	}
}

// enum emits an enum value, accepting value names in any letter case.
func (c *converter) enum(n *yaml.Node, ed protoreflect.EnumDescriptor, p int32) {
	n, ok := c.enter(n, p)
	if !ok {
		c.out = append(c.out, "null"...)
		return
	}
	defer c.leave()
	if n.Kind != yaml.ScalarNode || ed.FullName() == "google.protobuf.NullValue" {
		c.raw(n, p)
		return
	}
	kind, text := classify(n, c.jsonInput)
	if kind != kindString {
		c.scalar(kind, text)
		return
	}
	if name := enumName(ed, text); name != "" {
		text = name
	}
	c.out = appendString(c.out, text)
}

// any emits a google.protobuf.Any: "@type" names the payload type, whose fields follow in the same object (or
// under "value" for well-known types with a special JSON form).
func (c *converter) any(n *yaml.Node, p int32) {
	if n.Kind != yaml.MappingNode {
		c.raw(n, p)
		return
	}
	if len(n.Content) == 0 {
		c.out = append(c.out, "{}"...)
		return
	}
	// Resolve the type first, so that everything reported inside carries the <Type> path segment.
	typ := mappingValue(n, "@type")
	tp := c.child(p, segField, "@type", 0)
	switch {
	case typ == nil:
		c.problem(c.path(p), n.Line, "missing \"@type\": an Any (typed_config) must name its payload type")
		c.out = append(c.out, "null"...)
		return
	case typ.Kind != yaml.ScalarNode || typ.Value == "":
		c.problem(c.path(tp), typ.Line, "\"@type\" must be a non-empty string")
		c.out = append(c.out, "null"...)
		return
	}
	url := typ.Value
	mt, err := resolveType(url)
	if err != nil {
		c.problem(c.path(tp), typ.Line, "%v", err)
		c.out = append(c.out, "null"...)
		return
	}
	md := mt.Descriptor()
	ap := c.child(p, segAny, string(md.Name()), 0)
	start := c.collect(n, ap)
	defer func() { c.pairs = c.pairs[:start] }()
	c.out = append(c.out, '{')
	c.newline(tp, typ.Line)
	c.out = append(c.out, `"@type":`...)
	c.out = appendString(c.out, url)
	if wellKnown(md.FullName()) == wktNone {
		c.fields(start, md, ap, true)
		c.out = append(c.out, '}')
		return
	}
	for i := start; i < len(c.pairs); i++ {
		k, v := c.pairs[i].k, c.pairs[i].v
		switch k.Value {
		case "@type":
			continue
		case "value":
			c.out = append(c.out, ',')
			c.newline(ap, k.Line)
			c.out = append(c.out, `"value":`...)
			c.message(v, md, ap)
		default:
			c.problem(joinPath(c.path(ap), k.Value), k.Line, "unknown field %q: a %s in an Any goes under \"value\"",
				k.Value, md.FullName())
		}
	}
	c.out = append(c.out, '}')
}

// mappingValue returns the value of key in mapping n (aliases resolved), or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		for j := 0; k.Kind == yaml.AliasNode && k.Alias != nil && j < maxDepth; j++ {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && k.Value == key {
			v := n.Content[i+1]
			for j := 0; v.Kind == yaml.AliasNode && v.Alias != nil && j < maxDepth; j++ {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// raw emits n with no descriptor: inside Struct/Value and other well-known types, or a value of the wrong shape
// that protojson will reject (with a path, thanks to the line map).
func (c *converter) raw(n *yaml.Node, p int32) {
	n, ok := c.enter(n, p)
	if !ok {
		c.out = append(c.out, "null"...)
		return
	}
	defer c.leave()
	switch n.Kind {
	case yaml.MappingNode:
		start := c.collect(n, p)
		c.out = append(c.out, '{')
		for i := start; i < len(c.pairs); i++ {
			k, v := c.pairs[i].k, c.pairs[i].v
			if i > start {
				c.out = append(c.out, ',')
			}
			kp := c.child(p, segKey, k.Value, 0)
			c.newline(kp, k.Line)
			c.out = appendString(c.out, k.Value)
			c.out = append(c.out, ':')
			c.raw(v, kp)
		}
		c.out = append(c.out, '}')
		c.pairs = c.pairs[:start]
	case yaml.SequenceNode:
		c.out = append(c.out, '[')
		for i, e := range n.Content {
			if i > 0 {
				c.out = append(c.out, ',')
			}
			ep := c.child(p, segIndex, "", i)
			c.newline(ep, e.Line)
			c.raw(e, ep)
		}
		c.out = append(c.out, ']')
	case yaml.ScalarNode:
		c.scalar(classify(n, c.jsonInput))
	default:
		c.out = append(c.out, "null"...)
	}
}

func (c *converter) scalar(kind scalarKind, text string) {
	switch kind {
	case kindNull:
		c.out = append(c.out, "null"...)
	case kindBool, kindInt, kindNumber:
		c.out = append(c.out, text...)
	default: // kindString, kindBigInt
		c.out = appendString(c.out, text)
	}
}

// collect pushes the entries of mapping n onto c.pairs and returns where they start. It reports duplicate and
// non-scalar keys, and expands "<<" merge keys (explicit keys win, earlier merged mappings win over later ones).
func (c *converter) collect(n *yaml.Node, p int32) int {
	start := len(c.pairs)
	ks := keySet{start: start}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode && k.Alias != nil && k != k.Alias {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.problem(c.path(p), k.Line, "mapping keys must be scalars")
			continue
		}
		if j := ks.find(c.pairs, k.Value); j >= 0 {
			c.problem(c.path(c.child(p, segField, k.Value, 0)), k.Line, "duplicate key %q (first at line %d)",
				k.Value, c.pairs[j].k.Line)
			continue
		}
		c.pairs = ks.add(c.pairs, pair{k, v})
	}
	for _, m := range merges {
		c.merge(&ks, m, p, 0)
	}
	return start
}

// merge adds the entries of a "<<" value (a mapping or a list of mappings) that are not already present.
func (c *converter) merge(ks *keySet, m *yaml.Node, p int32, depth int) {
	for i := 0; m != nil && m.Kind == yaml.AliasNode && i < maxDepth; i++ {
		m = m.Alias
	}
	if m == nil || depth > 8 {
		return
	}
	switch m.Kind {
	case yaml.SequenceNode:
		for _, e := range m.Content {
			c.merge(ks, e, p, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				c.merge(ks, m.Content[i+1], p, depth+1)
				continue
			}
			if k.Kind == yaml.ScalarNode && ks.find(c.pairs, k.Value) < 0 {
				c.pairs = ks.add(c.pairs, pair{k, m.Content[i+1]})
			}
		}
	default:
		c.problem(c.path(p), m.Line, "a merge key (<<) needs a mapping or a list of mappings")
	}
}

// smallMap is the mapping size up to which duplicate keys are found by a linear scan rather than a Go map.
const smallMap = 32

// keySet finds the keys of one mapping among c.pairs[start:]; index is only built for large mappings.
type keySet struct {
	start int
	index map[string]int
}

func (ks *keySet) find(pairs []pair, key string) int {
	if ks.index != nil {
		if j, ok := ks.index[key]; ok {
			return j
		}
		return -1
	}
	for j := ks.start; j < len(pairs); j++ {
		if pairs[j].k.Value == key {
			return j
		}
	}
	return -1
}

func (ks *keySet) add(pairs []pair, p pair) []pair {
	if ks.index == nil && len(pairs)-ks.start >= smallMap {
		ks.index = make(map[string]int, 2*smallMap)
		for j := ks.start; j < len(pairs); j++ {
			ks.index[pairs[j].k.Value] = j
		}
	}
	if ks.index != nil {
		ks.index[p.k.Value] = len(pairs)
	}
	return append(pairs, p)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as protojson would refuse it anyway.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
			i++
			continue
		case '\n':
			b = append(b, '\\', 'n')
			i++
			continue
		case '\t':
			b = append(b, '\\', 't')
			i++
			continue
		}
		if c < 0x20 {
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
