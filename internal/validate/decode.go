package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Decode parses an Envoy bootstrap given as YAML or JSON strictly: unknown fields, wrong types, duplicate keys, more
// than one document and unresolvable @type are errors, returned as Problems with field paths. It keeps Envoy's own
// leniencies: enum names in any letter case, and a single object where a list is expected. Those apply in nested
// messages and inside typed_config payloads, but not inside google.protobuf.Struct/Value fields.
func Decode(data []byte) (b *bootstrapv3.Bootstrap, err error) {
	defer func() {
		// The YAML parser is third-party code; a bug there must not take the agent down.
		if r := recover(); r != nil {
			b, err = nil, Problems{{Message: fmt.Sprintf("cannot parse bootstrap: %v", r)}}
		}
	}()
	root, probs := parseDocument(escapeJSONForYAML(data))
	if probs != nil {
		return nil, probs
	}
	b = &bootstrapv3.Bootstrap{}
	c := newConverter("", root.Style&yaml.FlowStyle != 0)
	c.oneLine = bytes.IndexByte(bytes.TrimSpace(data), '\n') < 0
	c.nodes += len(data)
	if probs := c.decode(root, b); len(probs) > 0 {
		return nil, probs
	}
	return b, nil
}

// Parse parses data (YAML or JSON) into the root mapping node of its only document, without decoding it: for
// callers that lint, inspect or combine trees before DecodeNode. Invalid YAML, an empty input, more than one
// document and a root that is not a mapping are errors (Problems), as in Decode.
func Parse(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, Problems{{Message: fmt.Sprintf("cannot parse bootstrap: %v", r)}}
		}
	}()
	root, probs := parseDocument(data)
	if probs != nil {
		return nil, probs
	}
	return root, nil
}

// DecodeNode is Decode for an already parsed tree: root is the bootstrap's mapping node, which may combine nodes
// parsed from several files (aliases and "<<" merge keys are followed). Scalars are read the way Envoy's YAML
// loader reads them, whatever the style of the source, because the result is written out as YAML for Envoy: a
// plain scalar in a google.protobuf.Struct is a number only if it is an integer in int32 range, and a string
// otherwise. As the nodes may come from several files, problems carry field paths but no line numbers.
func DecodeNode(root *yaml.Node) (b *bootstrapv3.Bootstrap, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, Problems{{Message: fmt.Sprintf("cannot decode bootstrap: %v", r)}}
		}
	}()
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, Problems{{Message: "a bootstrap must be a mapping (YAML) or an object (JSON)"}}
	}
	if probs := checkNesting(root); probs != nil {
		return nil, probs
	}
	b = &bootstrapv3.Bootstrap{}
	c := newConverter("", false)
	c.oneLine = true
	c.nodes += countNodes(root)
	if probs := c.decode(root, b); len(probs) > 0 {
		return nil, probs
	}
	return b, nil
}

// countNodes counts the nodes of a tree without following aliases: the size the converter's budget allows for on
// top of maxNodes, as len(data) does in Decode.
func countNodes(root *yaml.Node) int {
	n := 0
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		stack = append(stack, x.Content...)
	}
	return n
}

// Bootstrap decodes and checks a bootstrap: Decode followed by Check. It returns nil and the problems on failure.
func Bootstrap(data []byte) (*bootstrapv3.Bootstrap, error) {
	b, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if probs := Check(b); len(probs) > 0 {
		return nil, probs
	}
	return b, nil
}

// escapeJSONForYAML returns JSON input with the characters JSON allows raw in strings but YAML forbids or reads as
// line breaks (DEL, C1 controls including NEL, U+2028, U+2029, BOM, U+FFFE, U+FFFF) written as \uXXXX escapes,
// which mean the same to both, so that the YAML parser reads the strings Envoy's JSON parser would. Anything else
// is returned unchanged (YAML must not hold them raw: an error is right there).
func escapeJSONForYAML(data []byte) []byte {
	i := 0
	for i < len(data) && data[i] < utf8.RuneSelf {
		i++
	}
	if i == len(data) || !bytes.ContainsFunc(data[i:], yamlUnsafeRune) {
		return data
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' || !json.Valid(data) {
		return data
	}
	// In valid JSON such characters can only be inside strings.
	out := make([]byte, 0, len(data)+32)
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if yamlUnsafeRune(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, data[:size]...) // invalid UTF-8 stays, for the parser to refuse
		}
		data = data[size:]
	}
	return out
}

func yamlUnsafeRune(r rune) bool {
	return r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff
}

// parseDocument returns the root node of the only document in data.
func parseDocument(data []byte) (*yaml.Node, Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, Problems{{Message: "empty bootstrap: no YAML or JSON document"}}
		}
		return nil, Problems{{Message: yamlError(err)}}
	}
	// Envoy reads only the first document and would silently ignore the rest; a second one is a mistake.
	for i := 0; i < 100; i++ {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, Problems{{Message: "more than one YAML document, and the next one is invalid: " + yamlError(err)}}
		}
		if !emptyDocument(&extra) {
			return nil, Problems{{Message: "more than one YAML document" + atLine(extra.Line) +
				": Envoy reads only the first; remove the \"---\" separator"}}
		}
	}
	if len(doc.Content) == 0 || emptyDocument(&doc) {
		return nil, Problems{{Message: "empty bootstrap: no YAML or JSON document"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{Message: "a bootstrap must be a mapping (YAML) or an object (JSON)" + atLine(root.Line)}}
	}
	if probs := checkNesting(root); probs != nil {
		return nil, probs
	}
	return root, nil
}

// emptyDocument reports a document holding nothing, such as the one after a trailing "---".
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Value == "" && n.Style == 0 && n.Tag == "!!null"
}

func yamlError(err error) string {
	return "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")
}

// decodeNode converts root into m's JSON form and unmarshals it strictly. base prefixes every reported path.
func decodeNode(root *yaml.Node, m proto.Message, base string, jsonInput bool) Problems {
	return newConverter(base, jsonInput).decode(root, m)
}

func (c *converter) decode(root *yaml.Node, m proto.Message) Problems {
	c.message(root, m.ProtoReflect().Descriptor(), 0)
	if c.aborted {
		return c.probs
	}
	// Unknown fields and bad @type were dropped from the JSON after being reported, so protojson can still find
	// the first type error (it stops at one) among what remains.
	if err := protojson.Unmarshal(c.out, m); err != nil {
		c.probs = append(c.probs, c.unmarshalProblem(err))
	}
	return c.probs
}

// unmarshalProblem maps protojson's "(line N:C): message" onto the field path of output line N.
func (c *converter) unmarshalProblem(err error) Problem {
	msg := err.Error()
	i := strings.Index(msg, "(line ")
	if i < 0 {
		return Problem{Path: c.path(0), Message: stripProtoPrefix(msg)}
	}
	rest := msg[i+len("(line "):]
	colon := strings.IndexByte(rest, ':')
	end := strings.Index(rest, "): ")
	if colon < 0 || end < 0 {
		return Problem{Path: c.path(0), Message: stripProtoPrefix(msg)}
	}
	text := rest[end+len("): "):]
	line, convErr := strconv.Atoi(rest[:colon])
	if convErr != nil || line < 1 || line > len(c.lines) {
		return Problem{Path: c.path(0), Message: text}
	}
	li := c.lines[line-1]
	return Problem{Path: c.path(li.path), Message: text + c.at(int(li.src))}
}

// stripProtoPrefix removes protojson's "proto:" prefix, which it writes with a randomly chosen kind of space.
func stripProtoPrefix(msg string) string {
	msg = strings.TrimPrefix(msg, "proto:")
	return strings.TrimLeft(msg, " \u00a0")
}
