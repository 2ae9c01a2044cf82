package loadtime_test

import "testing"

// Decoding cases about the whole document, which has no field path: the problem gives the line.

func TestDocumentLayerRules(t *testing.T) { runLayerCases(t, casesDocumentLayerRules()) }

func casesDocumentLayerRules() []ruleCase {
	return []ruleCase{
		{"bootstrap that is a string", "envoy\n", "", "a bootstrap must be a mapping (YAML) or an object (JSON) (line 1)"},
		{"bootstrap that is a number", "# comment\n42\n", "", "a bootstrap must be a mapping (YAML) or an object (JSON) (line 2)"},
		{"bootstrap of two documents", "node: {id: a, cluster: b}\n---\nnot: read\n", "", ""},
	}
}

func init() { registerLayerCases(casesDocumentLayerRules) }
