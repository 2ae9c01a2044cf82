package render

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/appnet/appnet-agent/internal/validate"
)

// The validator reports problems by field path in the merged bootstrap, which combines the
// generated tree with the user's fragments. A problem in a fragment is more useful located
// there: "ENVOY_RESOURCES_CONFIG: line 12: static_resources.clusters[0]...". The merge grafts
// the fragments' nodes as they are, so following the path through the merged tree reaches
// nodes that belong to a fragment, and carry its line numbers. This runs only on failure.

// locate rewrites the validator's problems (err), found in the merged bootstrap doc, with the
// variable and line of the fragment each comes from; other errors and problems outside every
// fragment are returned unchanged.
func locate(err error, doc *yaml.Node, frags []fragment) error {
	var probs validate.Problems
	if len(frags) == 0 || !errors.As(err, &probs) {
		return err
	}
	owner := map[*yaml.Node]int{}
	secret := map[string]bool{}
	for i, f := range frags {
		own(f.root, i, owner, 0)
		if f.path == "" {
			inlineValues(f.root, secret, 0)
		}
	}
	lines := make([]string, len(probs))
	for i, p := range probs {
		p.Message = hideValues(p.Message, secret)
		lines[i] = p.String()
		if n, fi, ok := findOwned(doc, p.Path, owner); ok {
			lines[i] = frags[fi].label() + ": " + position(n, frags[fi].oneLine) + ": " + p.String()
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// label is how a located problem names the fragment: the variable, and the file if any.
func (f fragment) label() string {
	if f.path == "" {
		return f.variable
	}
	return f.variable + " " + f.path
}

// position is "line L", or "line 1, column C" in a one-line document.
func position(n *yaml.Node, oneLine bool) string {
	if oneLine {
		return fmt.Sprintf("line %d, column %d", n.Line, n.Column)
	}
	return fmt.Sprintf("line %d", n.Line)
}

// own records every node of a fragment's tree as the fragment's (aliases lead to nodes of the
// same tree, recorded where they are defined).
func own(n *yaml.Node, i int, owner map[*yaml.Node]int, depth int) {
	if n == nil || depth > 10000 {
		return
	}
	if _, seen := owner[n]; seen {
		return
	}
	owner[n] = i
	for _, c := range n.Content {
		own(c, i, owner, depth+1)
	}
}

// findOwned follows path through doc as far as it goes and returns the deepest node on the way
// that a fragment owns, with that fragment's index: for a field, its key (the line a reader
// looks for), else the value.
func findOwned(doc *yaml.Node, path string, owner map[*yaml.Node]int) (*yaml.Node, int, bool) {
	var found *yaml.Node
	fi := -1
	note := func(n *yaml.Node) {
		if i, ok := owner[n]; ok && n.Line > 0 {
			found, fi = n, i
		}
	}
	cur := doc
	for _, s := range splitPath(path) {
		cur = deref(cur)
		if cur == nil {
			break
		}
		var key, next *yaml.Node
		switch s.kind {
		case segField, segMapKey:
			if cur.Kind == yaml.MappingNode {
				key, next = fieldNode(cur, s.name, s.kind == segField)
			}
		case segIndex:
			switch {
			case cur.Kind == yaml.SequenceNode && s.index < len(cur.Content):
				next = cur.Content[s.index]
			case cur.Kind == yaml.MappingNode && s.index == 0:
				next = cur // Envoy's leniency: one object where a list is expected
			}
		case segType:
			next = cur // a typed_config's payload fields sit beside its @type
		}
		if next == nil {
			break
		}
		note(next)
		if key != nil {
			note(key)
		}
		cur = next
	}
	return found, fi, found != nil
}

// fieldNode finds the entry of mapping n for a field path segment: the proto name or its JSON
// (camelCase) spelling; inside an Any or a TypedStruct whose payload sits under "value", there.
func fieldNode(n *yaml.Node, name string, field bool) (key, value *yaml.Node) {
	var inValue *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Value == name || field && snakeKey(k.Value) == name {
			return n.Content[i], n.Content[i+1]
		}
		if k.Value == "value" && deref(n.Content[i+1]).Kind == yaml.MappingNode {
			inValue = deref(n.Content[i+1])
		}
	}
	if field {
		for _, f := range fields(n) { // "<<" merge keys
			if f.key == name || snakeKey(f.key) == name {
				return nil, f.value
			}
		}
	}
	if inValue != nil {
		return fieldNode(inValue, name, field)
	}
	return nil, nil
}

// Kinds of path segments, as the validator writes them: field, [index], ["key"], <Type>.
const (
	segField = iota
	segIndex
	segMapKey
	segType
)

type pathSeg struct {
	kind  int
	name  string
	index int
}

// splitPath splits a validator field path into segments; it stops at anything it does not
// understand (the walk then stops there too).
func splitPath(p string) []pathSeg {
	var out []pathSeg
	for len(p) > 0 {
		switch p[0] {
		case '.':
			p = p[1:]
		case '[':
			if strings.HasPrefix(p, `["`) {
				q, err := strconv.QuotedPrefix(p[1:])
				if err != nil || !strings.HasPrefix(p[1+len(q):], "]") {
					return out
				}
				name, _ := strconv.Unquote(q)
				out = append(out, pathSeg{kind: segMapKey, name: name})
				p = p[len(q)+2:]
				continue
			}
			end := strings.IndexByte(p, ']')
			i, err := strconv.Atoi(p[1:max(end, 1)])
			if end < 0 || err != nil {
				return out
			}
			out = append(out, pathSeg{kind: segIndex, index: i})
			p = p[end+1:]
		case '<':
			end := strings.IndexByte(p, '>')
			if end < 0 {
				return out
			}
			out = append(out, pathSeg{kind: segType, name: p[1:end]})
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[<")
			if end < 0 {
				end = len(p)
			}
			out = append(out, pathSeg{kind: segField, name: p[:end]})
			p = p[end:]
		}
	}
	return out
}

// lineSuffix is how the validator ends a problem found at a line of the document it read.
var lineSuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(` \(line (\d+)\)$`) })

// locateInDocument prefixes each problem of a document read whole (ENVOY_CONFIG) with the
// variable, and moves the line the validator found it at to the front:
// "ENVOY_CONFIG: line 12: admin.address...: message".
func locateInDocument(err error, variable string, data []byte) error {
	var probs validate.Problems
	if !errors.As(err, &probs) {
		return fmt.Errorf("%s: %w", variable, err)
	}
	secret := map[string]bool{}
	owner := map[*yaml.Node]int{}
	root, perr := validate.Parse(data)
	if perr == nil {
		inlineValues(root, secret, 0)
		own(root, 0, owner, 0)
	}
	oneLine := bytes.IndexByte(bytes.TrimSpace(data), '\n') < 0
	lines := make([]string, len(probs))
	for i, p := range probs {
		p.Message = hideValues(p.Message, secret)
		at := variable + ": "
		if m := lineSuffix().FindStringSubmatch(p.Message); m != nil {
			at += "line " + m[1] + ": "
			p.Message = strings.TrimSuffix(p.Message, m[0])
		} else if n, _, ok := findOwned(root, p.Path, owner); ok && perr == nil {
			at += position(n, oneLine) + ": " // the validator gives no lines for one-line input
		}
		lines[i] = at + p.String()
	}
	return errors.New(strings.Join(lines, "\n"))
}

// An inline variable's content may hold secrets (a private key in static_resources.secrets),
// and it is never printed; but some messages quote the value they refuse (protojson: invalid
// value for bytes field inlineBytes: "..."). In a problem of an inline document, a quoted
// string that is one of the document's values is replaced by hiddenValue; field names (keys)
// and type URLs, which are the API's words, stay.

// hiddenValue stands for a value of an inline variable in a message.
const hiddenValue = "(a value of the variable, not shown)"

// quoted finds double-quoted strings in a message, as %q and protojson write them. Like
// lineSuffix, it is compiled on first use: only a refused inline document needs it.
var quoted = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"(?:[^"\\]|\\.)*"`) })

// inlineValues adds the scalar values of tree n (not its keys, not @type) to values.
func inlineValues(n *yaml.Node, values map[string]bool, depth int) {
	if n == nil || depth > 10000 {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		values[n.Value] = true
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "@type" || k == "type_url" {
				continue
			}
			inlineValues(n.Content[i+1], values, depth+1)
		}
	default:
		for _, c := range n.Content {
			inlineValues(c, values, depth+1)
		}
	}
}

// hideValues replaces every quoted value of values in msg by hiddenValue.
func hideValues(msg string, values map[string]bool) string {
	if len(values) == 0 || !strings.Contains(msg, `"`) {
		return msg
	}
	return quoted().ReplaceAllStringFunc(msg, func(q string) string {
		if s, err := strconv.Unquote(q); err == nil && values[s] {
			return hiddenValue
		}
		return q
	})
}
