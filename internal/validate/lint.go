package validate

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LintNode rejects YAML from our templates that different parsers could read differently (Envoy's yaml-cpp, YAML
// 1.1 and 1.2 libraries): anchors, aliases and merge keys, plain scalars y/n/yes/no/on/off in any case, and plain
// scalars that look octal (0700, 0o700). Each problem carries the field path and the line. Quoting such a value,
// or writing true/false or a decimal, makes it unambiguous. root is the tree Parse returned (which refuses more
// than one document), so a caller parses once and then lints and decodes the same tree.
func LintNode(root *yaml.Node) error {
	if root == nil {
		return nil
	}
	l := linter{}
	l.node(root, 0)
	return l.probs.asError()
}

// linter keeps the current path as a stack of segments, rendered only when something is reported.
type linter struct {
	probs Problems
	segs  []seg
}

func (l *linter) add(line int, msg string) {
	p := ""
	for _, s := range l.segs {
		p = appendSeg(p, s.kind, s.name, s.index)
	}
	l.probs = append(l.probs, Problem{Path: p, Message: "line " + strconv.Itoa(line) + ": " + msg})
}

func (l *linter) node(n *yaml.Node, depth int) {
	if depth > maxDepth {
		l.add(n.Line, "nesting too deep")
		return
	}
	if n.Anchor != "" {
		l.add(n.Line, "anchor &"+n.Anchor+": anchors and aliases are not allowed")
	}
	switch n.Kind {
	case yaml.AliasNode:
		l.add(n.Line, "alias *"+n.Value+": anchors and aliases are not allowed")
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				l.add(k.Line, "merge key <<: not allowed")
				continue
			}
			l.segs = append(l.segs, seg{kind: segField, name: k.Value})
			l.node(k, depth+1)
			l.node(v, depth+1)
			l.segs = l.segs[:len(l.segs)-1]
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			l.segs = append(l.segs, seg{kind: segIndex, index: i})
			l.node(e, depth+1)
			l.segs = l.segs[:len(l.segs)-1]
		}
	case yaml.ScalarNode:
		if n.Style&^yaml.FlowStyle == 0 && ambiguous(n.Value) {
			l.add(n.Line, "ambiguous plain scalar "+n.Value+`: quote it (or write true/false, or a decimal)`)
		}
	}
}

// ambiguous reports plain scalars that YAML 1.1, YAML 1.2 and yaml-cpp do not agree on.
func ambiguous(s string) bool {
	if len(s) <= 3 {
		switch strings.ToLower(s) {
		case "y", "n", "yes", "no", "on", "off":
			return true
		}
	}
	return looksOctal(s)
}

// looksOctal matches [-+]?0o?[0-7_]+ : read as octal by some parsers, as decimal or a string by others.
func looksOctal(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if len(s) < 2 || s[0] != '0' {
		return false
	}
	s = s[1:]
	if s[0] == 'o' || s[0] == 'O' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '7') && s[i] != '_' {
			return false
		}
	}
	return true
}
