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
	warns     Problems
	jsonInput bool
	oneLine   bool // no line numbers in problems: single-line input, or a tree combined from several files
	// mergeKeys expands YAML "<<" merge keys. Envoy's YAML parser (yaml-cpp) has none, so a file Envoy reads keeps
	// "<<" as a key; render merges its own trees before writing, and allows them.
	mergeKeys bool
	src       []byte // the YAML source, when known: to see tags the YAML parser does not keep (leniency.go)
	srcLines  []int  // offsets of line starts in src, built on first use
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
	c.probs = addBounded(c.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...) + c.at(line)})
}

// warn records something Envoy accepts but the author probably did not mean.
func (c *converter) warn(path string, line int, format string, args ...any) {
	c.warns = addBounded(c.warns, Problem{Path: path, Message: fmt.Sprintf(format, args...) + c.at(line), Warning: true})
}

func addBounded(ps Problems, p Problem) Problems {
	switch n := len(ps); {
	case n < maxProblems:
		ps = append(ps, p)
	case n == maxProblems:
		ps = append(ps, Problem{Message: "too many problems; the rest are not shown", Warning: p.Warning})
	}
	return ps
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

// enterValue is enter for a value about to be written: on false, null has been written in its place.
func (c *converter) enterValue(n *yaml.Node, p int32) (*yaml.Node, bool) {
	n, ok := c.enter(n, p)
	if !ok {
		c.out = append(c.out, "null"...)
	}
	return n, ok
}

func (c *converter) leave() { c.depth-- }

// message emits n as a message of type md.
func (c *converter) message(n *yaml.Node, md protoreflect.MessageDescriptor, p int32) {
	n, ok := c.enterValue(n, p)
	if !ok {
		return
	}
	defer c.leave()
	k := wellKnown(md.FullName())
	switch {
	case k == wktAny:
		c.any(n, p)
		return
	case c.isNull(n):
		// null leaves a message field unset (and makes a Value a null value): parser.cc:398-424.
		c.out = append(c.out, "null"...)
		return
	case k != wktNone:
		c.wellKnownValue(n, md, k, p)
		return
	case n.Kind != yaml.MappingNode:
		c.raw(n, p) // a type error protojson reports with our path
		return
	}
	start := c.collect(n, p, segField)
	c.out = append(c.out, '{')
	c.fields(start, md, p, false)
	c.out = append(c.out, '}')
	c.pairs = c.pairs[:start]
}

// fields emits the collected entries c.pairs[start:] as fields of md, reporting unknown ones. The caller owns the
// braces. inAny says "@type" was already written and is to be skipped.
//
// A field may be named by its JSON name or its proto name (descriptor_traits.h:169-187). One given twice (both
// spellings, or a key repeated in a JSON file) is accepted outside a oneof, in legacy mode (parser.cc:1257-1264 with
// parser_traits.h:68-78): the last value is kept, with a warning.
func (c *converter) fields(start int, md protoreflect.MessageDescriptor, p int32, inAny bool) {
	afterFirst := inAny
	fds := md.Fields()
	var buf [24]protoreflect.FieldDescriptor
	resolved := buf[:0]
	twice := false
	for i := start; i < len(c.pairs); i++ {
		k := c.pairs[i].k
		var fd protoreflect.FieldDescriptor
		if !inAny || k.Value != "@type" {
			if fd = fds.ByJSONName(k.Value); fd == nil {
				fd = fds.ByTextName(k.Value)
			}
			if fd == nil {
				c.unknownField(md, p, k)
			}
		}
		if fd != nil && !twice {
			for _, prev := range resolved {
				if prev == fd {
					twice = true
					break
				}
			}
		}
		resolved = append(resolved, fd)
	}
	for j, fd := range resolved {
		if fd == nil {
			continue
		}
		k, v := c.pairs[start+j].k, c.pairs[start+j].v
		if twice && c.overridden(resolved, j, start, p) {
			continue
		}
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

// overridden reports whether occurrence j of a field given more than once is one Envoy's parser does not keep, and
// says so once, at the first occurrence. The parser reads each occurrence in turn (parser.cc:1257-1264): null
// leaves the field as it was, a value replaces a scalar (and is merged into a message or appended to a list); a
// oneof field set twice, not null, is refused. The occurrence kept here is the last that is not null.
func (c *converter) overridden(resolved []protoreflect.FieldDescriptor, j, start int, p int32) bool {
	fd := resolved[j]
	first, last, kept, values := -1, -1, -1, 0
	for i, other := range resolved {
		if other != fd {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		if !c.isNull(c.pairs[start+i].v) {
			kept = i
			values++
		}
	}
	if first == last {
		return false
	}
	if kept < 0 {
		kept = last
	}
	if j == first {
		k, lk := c.pairs[start+first].k, c.pairs[start+last].k
		fp := joinPath(c.path(p), string(fd.Name()))
		if fd.ContainingOneof() != nil && values > 1 {
			c.problem(fp, lk.Line, "field given twice (%q and %q): a field of oneof %s may be set only once",
				k.Value, lk.Value, fd.ContainingOneof().Name())
		} else {
			c.warn(fp, k.Line, "field given twice (%q and %q): Envoy uses the last value that is not null "+
				"(merging messages and lists)", k.Value, lk.Value)
		}
	}
	return j != kept
}

// unknownField reports a key that names no field of md.
func (c *converter) unknownField(md protoreflect.MessageDescriptor, p int32, k *yaml.Node) {
	path := joinPath(c.path(p), k.Value)
	if k.Tag == "!!merge" {
		c.problem(path, k.Line, "unknown field %q in %s: Envoy's YAML parser (yaml-cpp) does not expand merge keys, "+
			"so it reads \"<<\" as a field name; write the fields out", k.Value, md.FullName())
		return
	}
	c.problem(path, k.Line, "unknown field %q in %s", k.Value, md.FullName())
}

// field emits the value of fd, which may be a list or a map.
func (c *converter) field(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32) {
	if !fd.IsMap() && !fd.IsList() {
		c.singular(n, fd, p)
		return
	}
	n, ok := c.enterValue(n, p)
	if !ok {
		return
	}
	defer c.leave()
	switch {
	case c.isNull(n):
		c.out = append(c.out, "null"...) // an empty list or map: parser.cc:659-661, 772-774
	case fd.IsMap() && n.Kind == yaml.MappingNode:
		c.mapEntries(n, fd, p)
	case fd.IsMap():
		c.raw(n, p)
	case n.Kind == yaml.SequenceNode:
		c.out = append(c.out, '[')
		i := 0
		c.listItems(n, fd, p, &i)
		c.out = append(c.out, ']')
	default:
		// A single value where a list is expected is a one-element list (parser.cc:1270-1276).
		ep := c.child(p, segIndex, "", 0)
		c.out = append(c.out, '[')
		c.newline(ep, n.Line)
		c.singular(n, fd, ep)
		c.out = append(c.out, ']')
	}
}

// listItems emits the elements of sequence n, continuing the output list at index *i. A list inside the list is
// flattened into it, except for Value and ListValue elements (parser.cc:682-700); a null element is the element
// type's default value (parser.cc:667-679 with EmitNull, 541-589).
func (c *converter) listItems(n *yaml.Node, fd protoreflect.FieldDescriptor, p int32, i *int) {
	flatten := fd.Message() == nil || (fd.Message().FullName() != "google.protobuf.Value" &&
		fd.Message().FullName() != "google.protobuf.ListValue")
	for _, e := range n.Content {
		if flatten && resolveAlias(e).Kind == yaml.SequenceNode {
			inner, ok := c.enter(e, p)
			if !ok {
				return
			}
			c.listItems(inner, fd, p, i)
			c.leave()
			continue
		}
		if *i > 0 {
			c.out = append(c.out, ',')
		}
		ep := c.child(p, segIndex, "", *i)
		c.newline(ep, e.Line)
		*i++
		if c.isNull(e) {
			c.out = append(c.out, zeroElement(fd)...)
			continue
		}
		c.singular(e, fd, ep)
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
	default:
		c.scalarValue(n, fd, p)
	}
}

// resolveAlias follows aliases (bounded, as enter does).
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports a YAML or JSON null (aliases followed).
func (c *converter) isNull(n *yaml.Node) bool {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return false
	}
	k, _ := c.classify(n)
	return k == kindNull
}
