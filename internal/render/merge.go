package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The bootstrap is merged as a yaml.v3 node tree: the rendered template is parsed once, user fragments are
// parsed into trees and grafted onto it, and validate.DecodeNode decodes the result with Envoy's reading of every
// scalar. Nothing is serialised and re-parsed on the way, so a value reaches the proto exactly as written.

// parseFragment parses a user fragment strictly: one YAML (or JSON) document whose top level is a mapping, no
// duplicate keys anywhere. It returns nil for an empty or comment-only file, or a null document.
func parseFragment(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// The YAML parser is third-party code; a bug there must not take the agent down.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("cannot parse: %v", r)
		}
	}()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil // empty or comment-only file
	case err != nil:
		return nil, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("more than one YAML document, and the next one is invalid: %w", err)
	case len(extra.Content) > 0 && !isNull(extra.Content[0]):
		return nil, fmt.Errorf("line %d: more than one YAML document", extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root = doc.Content[0]
	switch {
	case root.Kind == yaml.MappingNode:
	case isNull(root):
		return nil, nil
	default:
		return nil, errors.New("the top level must be a mapping of bootstrap fields")
	}
	if err := checkDuplicates(root, 0); err != nil {
		return nil, err
	}
	return root, nil
}

// checkDuplicates reports a key given twice in one mapping (keys brought in by "<<" may repeat explicit ones).
func checkDuplicates(n *yaml.Node, depth int) error {
	if depth > 10000 {
		return errors.New("nested too deeply")
	}
	if n.Kind == yaml.MappingNode && len(n.Content) > 2 {
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				continue
			}
			if prev, dup := seen[k.Value]; dup {
				return fmt.Errorf("line %d: duplicate key %q (first at line %d)", k.Line, k.Value, prev.Line)
			}
			seen[k.Value] = k
		}
	}
	for _, c := range n.Content {
		if err := checkDuplicates(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|
		yaml.LiteralStyle|yaml.FoldedStyle) == 0 && n.Tag == "!!null"
}

// field is one key of a mapping and its value.
type field struct {
	key   string
	value *yaml.Node
}

// fields lists the entries of mapping n with aliases followed and "<<" merge keys expanded (explicit keys win,
// earlier merged mappings win over later ones), in key order.
func fields(n *yaml.Node) []field {
	budget := 10000 // merged mappings visited: bounds hostile "<<" fan-out
	return fieldsAt(n, 0, &budget)
}

func fieldsAt(n *yaml.Node, depth int, budget *int) []field {
	var out []field
	seen := map[string]bool{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, n.Content[i+1])
			continue
		}
		if !seen[k.Value] {
			seen[k.Value] = true
			out = append(out, field{k.Value, n.Content[i+1]})
		}
	}
	var addMerged func(m *yaml.Node, depth int)
	addMerged = func(m *yaml.Node, depth int) {
		m = deref(m)
		if *budget--; m == nil || depth > 8 || *budget < 0 { // also ends cycles (a mapping that merges itself)
			return
		}
		switch m.Kind {
		case yaml.SequenceNode:
			for _, e := range m.Content {
				addMerged(e, depth+1)
			}
		case yaml.MappingNode:
			for _, f := range fieldsAt(m, depth+1, budget) {
				if !seen[f.key] {
					seen[f.key] = true
					out = append(out, f)
				}
			}
		}
	}
	for _, m := range merges {
		addMerged(m, depth+1)
	}
	slices.SortFunc(out, func(a, b field) int { return strings.Compare(a.key, b.key) })
	return out
}

// lookup returns the value of key in the (generated, alias-free) mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// set replaces the value of key in mapping n, or adds the key.
func set(n *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = v
			return
		}
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// appendList appends items to the list under key, replacing whatever else is there by a new list.
func appendList(n *yaml.Node, key string, items []*yaml.Node) {
	if prev := lookup(n, key); prev != nil && prev.Kind == yaml.SequenceNode {
		prev.Content = append(prev.Content, items...)
		return
	}
	set(n, key, &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: slices.Clone(items)})
}

// snakeKey turns a top-level key into its proto field name: statsConfig → stats_config, Admin → admin.
func snakeKey(k string) string {
	var b strings.Builder
	for i, r := range k {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalize renames the entries of mapping src to proto field names; both spellings of one field is an error.
func normalize(src *yaml.Node) ([]field, error) {
	fs := fields(src)
	out := make([]field, 0, len(fs))
	from := map[string]string{}
	for _, f := range fs {
		sk := snakeKey(f.key)
		if prev, dup := from[sk]; dup {
			return nil, fmt.Errorf("the config contains both %s and %s; specify only one of them", prev, f.key)
		}
		from[sk] = f.key
		out = append(out, field{sk, f.value})
	}
	slices.SortFunc(out, func(a, b field) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// merge folds one user fragment into the generated bootstrap by the reference agent's rules, with D4:
//   - tracing and stats_config may be given once;
//   - stats_sinks are appended;
//   - static_resources listeners/clusters/secrets are appended (other sub-keys are copied only when
//     nothing was generated there);
//   - any other top-level field replaces the generated one wholesale.
func merge(dst, src *yaml.Node, variable string) (warnings []string, err error) {
	entries, err := normalize(src)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		k, v := e.key, e.value
		switch k {
		case "tracing":
			if lookup(dst, k) != nil {
				return nil, errors.New("multiple tracing configurations were specified")
			}
			set(dst, k, v)
		case "stats_config":
			if lookup(dst, k) != nil {
				return nil, errors.New("multiple stats configurations were specified")
			}
			set(dst, k, v)
		case "stats_sinks":
			list := deref(v)
			if list.Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("stats_sinks must be a list, not %s", kind(v))
			}
			appendList(dst, k, list.Content)
		case "static_resources":
			w, err := mergeStaticResources(dst, v)
			if err != nil {
				return nil, err
			}
			warnings = append(warnings, w...)
		default:
			if lookup(dst, k) != nil {
				warnings = append(warnings, fmt.Sprintf("%s replaces the generated %s", variable, k))
			}
			set(dst, k, v)
		}
	}
	return warnings, nil
}

func mergeStaticResources(dst, v *yaml.Node) ([]string, error) {
	srcNode := deref(v)
	if srcNode.Kind != yaml.MappingNode {
		if isNull(srcNode) {
			return nil, nil
		}
		return nil, fmt.Errorf("static_resources must be a mapping, not %s", kind(srcNode))
	}
	src, err := normalize(srcNode)
	if err != nil {
		return nil, fmt.Errorf("static_resources: %w", err)
	}
	for _, f := range src {
		switch f.key {
		case "listeners", "clusters", "secrets":
			if deref(f.value).Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("static_resources.%s must be a list, not %s", f.key, kind(f.value))
			}
		}
	}
	have := lookup(dst, "static_resources")
	if have == nil || have.Kind != yaml.MappingNode {
		// A new mapping: later fragments append to it, which must not change the user's (possibly aliased) nodes.
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, f := range src {
			v := f.value
			if l := deref(v); l.Kind == yaml.SequenceNode {
				v = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: slices.Clone(l.Content)}
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, v)
		}
		set(dst, "static_resources", m)
		return nil, nil
	}
	for _, f := range src {
		switch f.key {
		case "listeners", "clusters", "secrets":
			appendList(have, f.key, deref(f.value).Content)
		default:
			if lookup(have, f.key) != nil {
				return nil, fmt.Errorf("static_resources.%s is already generated", f.key)
			}
			set(have, f.key, f.value)
		}
	}
	return nil, nil
}

// kind names what a node holds, for error messages.
func kind(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	case n.Tag == "!!str":
		return "a string"
	}
	return "a scalar"
}
