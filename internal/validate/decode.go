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

// Format says how Envoy reads a bootstrap file.
type Format uint8

const (
	// FormatAuto decides by content: a document that is a JSON object (in protobuf's legacy syntax too) is read as
	// JSON, anything else as YAML.
	FormatAuto Format = iota
	// FormatYAML is how Envoy reads a file named *.yaml or *.yml: yaml-cpp, then the JSON made of the result.
	FormatYAML
	// FormatJSON is how Envoy reads any other file: protobuf's JSON parser, legacy syntax allowed.
	FormatJSON
)

// FormatOf is the format Envoy reads the file at path in: MessageUtil::loadFromFile (source/common/protobuf/
// utility.cc) reads names ending in .yaml or .yml, in any letter case, as YAML and every other name as JSON (but
// .pb and .pb_text, which are binary and text protos this validator does not read).
func FormatOf(path string) Format {
	lower := strings.ToLower(path)
	if strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml") {
		return FormatYAML
	}
	return FormatJSON
}

// Read decodes an Envoy bootstrap the way Envoy reads a file of format f, and returns it with every problem found:
// errors (what Envoy refuses: unknown fields, wrong types, unresolvable @type, a map key repeated in JSON...) and
// warnings (what Envoy accepts but was probably not meant: a key given twice, a second YAML document). The
// bootstrap is nil when there is an error. It keeps all of Envoy's leniencies (leniency.go, fieldvalue.go, wkt.go,
// legacyjson.go), in nested messages and inside typed_config payloads.
func Read(data []byte, f Format) (b *bootstrapv3.Bootstrap, ps Problems) {
	defer func() {
		// The YAML parser is third-party code; a bug there must not take the agent down.
		if r := recover(); r != nil {
			b, ps = nil, Problems{{Message: fmt.Sprintf("cannot parse bootstrap: %v", r)}}
		}
	}()
	text, jsonInput, probs := prepare(data, f)
	if probs != nil {
		return nil, probs
	}
	root, probs, warns := parseDocument(text, false)
	if probs != nil {
		return nil, probs
	}
	c := newConverter("", jsonInput)
	if !jsonInput {
		c.src = text
	}
	c.oneLine = bytes.IndexByte(bytes.TrimSpace(data), '\n') < 0
	c.nodes += len(text)
	return c.finish(root, warns)
}

// finish decodes root into a new bootstrap and gathers the problems in the order found.
func (c *converter) finish(root *yaml.Node, warns Problems) (*bootstrapv3.Bootstrap, Problems) {
	b := &bootstrapv3.Bootstrap{}
	probs := c.decode(root, b)
	ps := append(append(warns, c.warns...), probs...)
	if len(probs) > 0 {
		return nil, ps
	}
	return b, ps
}

// prepare returns the text to parse as YAML and whether it is JSON, for Envoy's reading of format f.
func prepare(data []byte, f Format) ([]byte, bool, Problems) {
	t := bytes.TrimLeft(data, " \t\r\n")
	looksJSON := len(t) > 0 && t[0] == '{'
	switch {
	case f == FormatYAML:
		return escapeJSONForYAML(data), false, nil
	case f == FormatAuto && !looksJSON:
		return data, false, nil
	case json.Valid(data):
		return escapeJSONForYAML(data), true, nil
	}
	strict, err := legacyJSON(data)
	switch {
	case err == nil:
		return escapeJSONForYAML(strict), true, nil
	case f == FormatAuto:
		return data, false, nil // not JSON: YAML in flow style
	}
	return nil, false, Problems{{Message: "Envoy reads this file as JSON (its name does not end in .yaml or .yml), " +
		"and it is not: " + err.Error()}}
}

// Decode is Read with FormatAuto, for callers that only need to know whether the bootstrap decodes: it returns the
// errors only (as Problems).
func Decode(data []byte) (*bootstrapv3.Bootstrap, error) {
	b, ps := Read(data, FormatAuto)
	if ps.HasErrors() {
		return nil, ps.Errors()
	}
	return b, nil
}

// Parse parses data (YAML or JSON) into the root mapping node of its only document, without decoding it: for
// callers that lint, inspect or combine trees before DecodeNode. Invalid YAML, an empty input, more than one
// document and a root that is not a mapping are errors (Problems): this is for text the agent makes.
func Parse(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, Problems{{Message: fmt.Sprintf("cannot parse bootstrap: %v", r)}}
		}
	}()
	root, probs, _ := parseDocument(data, true)
	if probs != nil {
		return nil, probs
	}
	return root, nil
}

// ReadNode is Read for an already parsed tree: root is the bootstrap's mapping node, which may combine nodes parsed
// from several files (aliases and "<<" merge keys are followed, as the agent writes the result out). Scalars are
// read the way Envoy's YAML loader reads them, whatever the style of the source, because the result is written out
// as YAML for Envoy: a plain scalar in a google.protobuf.Struct is a number only if it is an integer in int32
// range, and a string otherwise. As the nodes may come from several files, problems carry field paths but no line
// numbers.
func ReadNode(root *yaml.Node) (b *bootstrapv3.Bootstrap, ps Problems) {
	defer func() {
		if r := recover(); r != nil {
			b, ps = nil, Problems{{Message: fmt.Sprintf("cannot decode bootstrap: %v", r)}}
		}
	}()
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, Problems{{Message: "a bootstrap must be a mapping (YAML) or an object (JSON)"}}
	}
	if probs := checkNesting(root); probs != nil {
		return nil, probs
	}
	c := newConverter("", false)
	c.oneLine = true
	c.mergeKeys = true
	c.nodes += countNodes(root)
	return c.finish(root, nil)
}

// DecodeNode is ReadNode returning the errors only.
func DecodeNode(root *yaml.Node) (*bootstrapv3.Bootstrap, error) {
	b, ps := ReadNode(root)
	if ps.HasErrors() {
		return nil, ps.Errors()
	}
	return b, nil
}

// countNodes counts the nodes of a tree without following aliases: the size the converter's budget allows for on
// top of maxNodes, as len(data) does in Read.
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

// Bootstrap decodes and checks a bootstrap: Decode followed by Check. It returns nil and the errors on failure.
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

// parseDocument returns the root node of the first document in data. Envoy's YAML loader reads only the first
// document (yaml-cpp's YAML::Load) and never looks at the rest: with strict set, any other document is an error
// (the agent's own text); without, a warning.
func parseDocument(data []byte, strict bool) (*yaml.Node, Problems, Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, Problems{{Message: "empty bootstrap: no YAML or JSON document"}}, nil
		}
		return nil, Problems{{Message: yamlError(err)}}, nil
	}
	var more Problems
	for i := 0; i < 100; i++ {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if err == io.EOF {
			break
		}
		if err != nil {
			more = Problems{{Message: "more than one YAML document, and the next one is invalid: " + yamlError(err)}}
			break
		}
		if !emptyDocument(&extra) {
			more = Problems{{Message: "more than one YAML document" + atLine(extra.Line) +
				": Envoy reads only the first; remove the \"---\" separator"}}
			break
		}
	}
	if strict && more != nil {
		return nil, more, nil
	}
	var warns Problems
	for _, p := range more {
		p.Warning = true
		warns = append(warns, p)
	}
	if len(doc.Content) == 0 || emptyDocument(&doc) {
		return nil, Problems{{Message: "empty bootstrap: no YAML or JSON document"}}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{Message: "a bootstrap must be a mapping (YAML) or an object (JSON)" + atLine(root.Line)}}, nil
	}
	if probs := checkNesting(root); probs != nil {
		return nil, probs, warns
	}
	return root, nil, warns
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
