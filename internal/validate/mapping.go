package validate

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// collect pushes the entries of mapping n onto c.pairs and returns where they start. keyKind is how keys appear in
// paths: segField for messages, segKey for maps and Structs. It reads keys as Envoy's YAML loader does
// (source/common/protobuf/yaml_utility.cc parseYamlNode): a key tagged !ignore is dropped with its value; a key
// given twice keeps its last value (yaml-cpp keeps both entries and the Struct keeps the last), which is a warning
// — except in a map or Struct of a JSON file, where protobuf's parser refuses it (parser.cc:776-787). "<<" merge
// keys are expanded only when c.mergeKeys is set (explicit keys win, earlier merged mappings over later ones).
func (c *converter) collect(n *yaml.Node, p int32, keyKind uint8) int {
	start := len(c.pairs)
	ks := keySet{start: start}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for j := 0; k.Kind == yaml.AliasNode && k.Alias != nil && j < maxDepth; j++ {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" && c.mergeKeys {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.problem(c.path(p), k.Line, "mapping keys must be scalars")
			continue
		}
		if k.Tag == "!ignore" {
			continue
		}
		if j := ks.find(c.pairs, k.Value); j >= 0 {
			kp := c.path(c.child(p, keyKind, k.Value, 0))
			first := ""
			if !c.oneLine {
				first = fmt.Sprintf(" (first at line %d)", c.pairs[j].k.Line)
			}
			if c.jsonInput && keyKind == segKey {
				c.problem(kp, k.Line, "duplicate key %q%s: Envoy's JSON parser refuses a repeated map key", k.Value, first)
				continue
			}
			how := "Envoy uses the last value"
			if c.jsonInput {
				// The JSON parser reads both (parser.cc:1257-1264): a later null leaves the first in place.
				how = "Envoy uses the last value that is not null (merging messages and lists)"
				if c.isNull(v) {
					c.warn(kp, k.Line, "duplicate key %q%s: %s", k.Value, first, how)
					continue
				}
			}
			c.warn(kp, k.Line, "duplicate key %q%s: %s", k.Value, first, how)
			c.pairs[j].v = v
			c.pairs[j].k = k
			continue
		}
		c.pairs = ks.add(c.pairs, pair{k, v})
	}
	for _, m := range merges {
		c.merge(&ks, m, p, 0)
	}
	return start
}

// merge adds the entries of a "<<" value (a mapping or a list of mappings) that are not already present.
func (c *converter) merge(ks *keySet, m *yaml.Node, p int32, depth int) {
	for i := 0; m != nil && m.Kind == yaml.AliasNode && i < maxDepth; i++ {
		m = m.Alias
	}
	if m == nil || depth > 8 {
		return
	}
	switch m.Kind {
	case yaml.SequenceNode:
		for _, e := range m.Content {
			c.merge(ks, e, p, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				c.merge(ks, m.Content[i+1], p, depth+1)
				continue
			}
			if k.Kind == yaml.ScalarNode && ks.find(c.pairs, k.Value) < 0 {
				c.pairs = ks.add(c.pairs, pair{k, m.Content[i+1]})
			}
		}
	default:
		c.problem(c.path(p), m.Line, "a merge key (<<) needs a mapping or a list of mappings")
	}
}

// smallMap is the mapping size up to which duplicate keys are found by a linear scan rather than a Go map.
const smallMap = 32

// keySet finds the keys of one mapping among c.pairs[start:]; index is only built for large mappings.
type keySet struct {
	start int
	index map[string]int
}

func (ks *keySet) find(pairs []pair, key string) int {
	if ks.index != nil {
		if j, ok := ks.index[key]; ok {
			return j
		}
		return -1
	}
	for j := ks.start; j < len(pairs); j++ {
		if pairs[j].k.Value == key {
			return j
		}
	}
	return -1
}

func (ks *keySet) add(pairs []pair, p pair) []pair {
	if ks.index == nil && len(pairs)-ks.start >= smallMap {
		ks.index = make(map[string]int, 2*smallMap)
		for j := ks.start; j < len(pairs); j++ {
			ks.index[pairs[j].k.Value] = j
		}
	}
	if ks.index != nil {
		ks.index[p.k.Value] = len(pairs)
	}
	return append(pairs, p)
}
