package validate

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestNestingLimit (issue 16, item 15): Envoy's JSON parser refuses more than 100 nested
// mappings and lists (the bootstrap's own mapping counts); so does the validator, before it
// decodes anything. Aliases count where they are used.
func TestNestingLimit(t *testing.T) {
	doc := func(levels int) string { // levels containers, the bootstrap's mapping included
		inner := strings.Repeat("[", levels-3) + strings.Repeat("]", levels-3)
		return "node: {id: node1, cluster: c1, metadata: {x: " + inner + "}}\n"
	}
	if _, err := Decode([]byte(doc(MaxNesting))); err != nil {
		t.Fatalf("%d levels: %v", MaxNesting, err)
	}
	_, err := Decode([]byte(doc(MaxNesting + 1)))
	if err == nil || !strings.Contains(err.Error(), "node.metadata.x[0][0][0]...: nested more than 100 mappings and lists deep (line 1)") ||
		!strings.Contains(err.Error(), "JSON content was too deeply nested") {
		t.Fatalf("%d levels: %v", MaxNesting+1, err)
	}
	// An anchor of 60 levels used 60 levels down nests 120 deep.
	anchored := "x: &a " + strings.Repeat("[", 60) + strings.Repeat("]", 60)
	used := "y: " + strings.Repeat("[", 59) + "*a" + strings.Repeat("]", 59)
	if _, err := Decode([]byte("node: {id: node1, cluster: c1, metadata: {" + anchored + ", " + used + "}}\n")); err == nil ||
		!strings.Contains(err.Error(), "nested more than 100") {
		t.Fatalf("aliased: %v", err)
	}
	// The rendered tree (DecodeNode) is checked the same way: one more list inside the innermost.
	root, err := Parse([]byte(doc(MaxNesting)))
	if err != nil {
		t.Fatal(err)
	}
	n := root.Content[1].Content[5].Content[1] // node.metadata.x
	for len(n.Content) > 0 {
		n = n.Content[0]
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"})
	if _, err := DecodeNode(root); err == nil || !strings.Contains(err.Error(), "nested more than 100") {
		t.Fatalf("DecodeNode of 101 levels: %v", err)
	}
}
