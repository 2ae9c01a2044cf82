package validate

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits that keep hostile input (alias bombs, cyclic aliases, absurd nesting) from exhausting memory or stack.
// Without aliases a document cannot have more nodes than bytes, so the node budget is this plus the input size.
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
	oneLine   bool // no line numbers in problems: single-line input, or a tree combined from several files
	depth     int
	nodes     int  // budget left
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
	c := &converter{jsonInput: jsonInput, nodes: maxNodes, out: make([]byte, 0, 4096)}
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

// maxProblems bounds what one decode reports: past that, the rest are counted, not listed.
const maxProblems = 100

func (c *converter) problem(path string, line int, format string, args ...any) {
	switch n := len(c.probs); {
	case n < maxProblems:
		c.probs = append(c.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...) + c.at(line)})
	case n == maxProblems:
		c.probs = append(c.probs, Problem{Message: "too many problems; the rest are not shown"})
	}
}

// at is atLine, except for single-line input (JSON from a program), where "line 1" everywhere is noise.
func (c *converter) at(line int) string {
	if c.oneLine {
		return ""
	}
	return atLine(line)
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
	c.nodes--
	if c.depth > maxDepth || c.nodes < 0 {
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
	start := c.collect(n, p, segField)
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
		c.object(n, p, func(v *yaml.Node, kp int32) { c.singular(v, fd.MapValue(), kp) })
	case fd.IsList():
		n, ok := c.enter(n, p)
		if !ok {
			c.out = append(c.out, "null"...)
			return
		}
		defer c.leave()
		switch {
		case n.Kind == yaml.SequenceNode:
			c.array(n, p, func(e *yaml.Node, ep int32) { c.singular(e, fd, ep) })
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

// array emits a sequence as a JSON array, each element with its own path segment and line
// mark, by elem.
func (c *converter) array(n *yaml.Node, p int32, elem func(e *yaml.Node, ep int32)) {
	c.out = append(c.out, '[')
	for i, e := range n.Content {
		if i > 0 {
			c.out = append(c.out, ',')
		}
		ep := c.child(p, segIndex, "", i)
		c.newline(ep, e.Line)
		elem(e, ep)
	}
	c.out = append(c.out, ']')
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
