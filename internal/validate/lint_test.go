package validate

import (
	"bytes"
	"io"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// lint runs LintNode's checks on YAML text, every document's problems included, for tests
// of the text this package and the templates produce.
func lint(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil
		}
		return Problems{{Message: yamlError(err)}}
	}
	l := linter{}
	for _, n := range doc.Content {
		l.node(n, 0)
	}
	return l.finish(dec)
}

// finish reports a second document, which Parse refuses.
func (l *linter) finish(dec *yaml.Decoder) error {
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
	case err != nil:
		l.probs = append(l.probs, Problem{Message: "more than one YAML document, and the next one is invalid: " +
			yamlError(err)})
	default:
		l.probs = append(l.probs, Problem{Message: "line " + strconv.Itoa(extra.Line) + ": more than one YAML document"})
	}
	return l.probs.asError()
}

func TestLint(t *testing.T) {
	cases := []struct {
		name, yaml  string
		path, error string // error "" means clean
	}{
		{"sample", "", "", ""},
		{"quoted and typed values", "a: 'yes'\nb: \"0700\"\nc: true\nd: 0\ne: 10\nf: 0x1F\ng: !!str on\n", "", ""},
		{"yes", "a:\n  b: yes\n", "a.b", "line 2: ambiguous plain scalar yes"},
		{"Off in a list", "a: [x, Off]\n", "a[1]", "line 1: ambiguous plain scalar Off"},
		{"single letter", "a: N\n", "a", "ambiguous plain scalar N"},
		{"ambiguous key", "on: 1\n", "on", "line 1: ambiguous plain scalar on"},
		{"octal", "mode: 0700\n", "mode", "line 1: ambiguous plain scalar 0700"},
		{"0o octal", "mode: 0o17\n", "mode", "ambiguous plain scalar 0o17"},
		{"signed octal", "x: -012\n", "x", "ambiguous plain scalar -012"},
		{"anchor and alias", "a: &x {b: 1}\nc: *x\n", "a", "line 1: anchor &x"},
		{"alias", "a: &x {b: 1}\nc: *x\n", "c", "line 2: alias *x"},
		{"merge key", "a:\n  <<: {b: 1}\n", "a", "line 2: merge key <<: not allowed"},
		{"second document", "a: 1\n---\nb: 2\n", "", "line 2: more than one YAML document"},
		{"invalid YAML", "a: [1\n", "", "invalid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.yaml
			if src == "" {
				src = sample(t)
			}
			err := lint([]byte(src))
			if tc.error == "" {
				if err != nil {
					t.Fatalf("Lint: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no problem found")
			}
			assertProblem(t, err, tc.path, tc.error)
		})
	}
}

func TestLooksOctal(t *testing.T) {
	for s, want := range map[string]bool{
		"0700": true, "0o700": true, "+07": true, "-0_7": true, "00": true,
		"0": false, "0o": false, "08": false, "700": false, "0x7": false, "o7": false, "": false,
	} {
		if got := looksOctal(s); got != want {
			t.Errorf("looksOctal(%q) = %v", s, got)
		}
	}
}
