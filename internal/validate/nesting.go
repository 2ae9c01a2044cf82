package validate

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxNesting is how deeply mappings and sequences may nest in a bootstrap. Envoy turns the
// YAML it reads into JSON and parses that with protobuf's JSON parser, which refuses more than
// 100 nested objects and arrays ("JSON content was too deeply nested": ParseOptions'
// recursion_depth, kDefaultDepth = 100, in protobuf's src/google/protobuf/json/internal/lexer.h;
// the bootstrap's own mapping is the first). Checked on the parsed tree before anything is
// decoded, so an absurdly nested document costs no more than its parse.
const MaxNesting = 100

// checkNesting reports where root (a document's top mapping) nests deeper than MaxNesting,
// following aliases; nil when it does not. An anchored node's height is worked out once, so
// an alias bomb costs no more than its text; an alias to one of its own ancestors (a cycle) is
// left to the decoder, which reports it with the field path.
func checkNesting(root *yaml.Node) Problems {
	var (
		path   []string
		deep   *yaml.Node                // where the limit was passed
		height = map[*yaml.Node]int{}    // of anchored nodes: containers at and below them
		open   = map[*yaml.Node]bool{}   // anchored nodes being walked
		walk   func(*yaml.Node, int) int // the height of n, found at depth
	)
	walk = func(n *yaml.Node, depth int) int {
		for i := 0; n != nil && n.Kind == yaml.AliasNode && i < MaxNesting; i++ {
			n = n.Alias
		}
		if n == nil || (n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode) || open[n] {
			return 0
		}
		if h, known := height[n]; known {
			if depth-1+h > MaxNesting {
				deep = n
			}
			return h
		}
		if depth > MaxNesting {
			deep = n
			return 1
		}
		if n.Anchor != "" { // only an anchored node can be an alias's target
			open[n] = true
		}
		h := 0
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode {
				if i%2 == 0 {
					continue
				}
				path = append(path, n.Content[i-1].Value)
			} else {
				path = append(path, "["+strconv.Itoa(i)+"]")
			}
			h = max(h, walk(c, depth+1))
			if deep != nil {
				return h + 1 // path stays as it is: it leads to deep
			}
			path = path[:len(path)-1]
		}
		if n.Anchor != "" {
			delete(open, n)
			height[n] = h + 1
		}
		return h + 1
	}
	walk(root, 1)
	if deep == nil {
		return nil
	}
	return Problems{{Path: nestingPath(path), Message: "nested more than " + strconv.Itoa(MaxNesting) +
		" mappings and lists deep" + atLine(deep.Line) + "; Envoy's JSON parser refuses that (JSON content was too deeply nested)"}}
}

// nestingPath renders the first segments of a path into a deep document.
func nestingPath(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i == 6 {
			b.WriteString("...")
			break
		}
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}
