package validate

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

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
	root, probs := parseDocument(data)
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
