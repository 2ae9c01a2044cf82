package render

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"text/template/parse"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/appnet/appnet-agent/templates"
)

// The lean build's list of message types (internal/validate TestLeanTemplateTypes) takes the payload types of the
// branches the conformance corpus does not render from the type URLs written literally in templates/, and from the
// bootstraps of FuzzRender's branch seeds. A type URL the templates compute from data ("@type": {{ printf ... }})
// would escape both: the lean agent would refuse a bootstrap the full one accepts. So every type URL in the built-in
// templates is a literal on its key's line.

// typeURLKey finds a key naming a payload type in a template's text: an Any's "@type", a TypedStruct's type_url.
var typeURLKey = regexp.MustCompile(`["']?(@type|type_url)["']?[ \t]*:`)

// literalTypeURL is the only value such a key may have: one type URL, as TestLeanTemplateTypes's scan reads it.
var literalTypeURL = regexp.MustCompile(`^[ \t]*(["']?)type\.googleapis\.com/([A-Za-z0-9_.]+)(["']?)[ \t]*(#.*)?$`)

// templateTypeURLs parses a template (functions unchecked: only its shape matters) and returns the message names of
// its literal type URLs and, as "name:line: reason", every type URL key whose value is not a literal type URL on the
// key's line, and every action that spells such a key or URL itself (a map built with dict, a printf).
func templateTypeURLs(name, text string) (literal []protoreflect.FullName, computed []string, err error) {
	tree := parse.New(name)
	tree.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := tree.Parse(text, "", "", trees); err != nil {
		return nil, nil, err
	}
	report := func(pos int, format string, args ...any) {
		computed = append(computed, fmt.Sprintf("%s:%d: ", name, 1+strings.Count(text[:pos], "\n"))+fmt.Sprintf(format, args...))
	}
	visit := func(n parse.Node) {
		switch n := n.(type) {
		case *parse.StringNode:
			if typeURLKey.MatchString(n.Text+":") || strings.Contains(n.Text, "type.googleapis.com/") {
				report(int(n.Pos), "an action spells a type URL or its key (%s): write it literally in the text", n.Quoted)
			}
		case *parse.TextNode:
			start := int(n.Pos)
			if start+len(n.Text) > len(text) || text[start:start+len(n.Text)] != string(n.Text) {
				report(start, "the parser's offsets do not point at its text (text/template changed?)")
				return
			}
			for _, m := range typeURLKey.FindAllIndex(n.Text, -1) {
				// The value as the source writes it, to the end of the key's line: a trim marker ({{-) on the next
				// line has taken the newline out of the text node, not out of the source.
				value, _, _ := strings.Cut(text[start+m[1]:], "\n")
				switch url := literalTypeURL.FindStringSubmatch(value); {
				case strings.Contains(value, "{{"):
					report(start+m[0], "a template action in a type URL (%s): write the URL literally", strings.TrimSpace(value))
				case url == nil:
					report(start+m[0], "%q is not a literal type.googleapis.com/ URL on the key's line", strings.TrimSpace(value))
				default:
					literal = append(literal, protoreflect.FullName(url[2]))
				}
			}
		}
	}
	for _, t := range trees {
		inspect(t.Root, visit)
	}
	return literal, computed, nil
}

// builtInTypeURLs applies templateTypeURLs to every built-in template.
func builtInTypeURLs(t *testing.T) (literal []protoreflect.FullName, computed []string) {
	t.Helper()
	err := fs.WalkDir(templates.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.FS, path)
		if err != nil {
			return err
		}
		l, c, err := templateTypeURLs("templates/"+path, string(data))
		literal, computed = append(literal, l...), append(computed, c...)
		return err
	})
	if err != nil || len(literal) == 0 {
		t.Fatalf("reading the templates' type URLs: %v (%d found)", err, len(literal))
	}
	return literal, computed
}

// TestTemplatesWriteLiteralTypeURLs: every type URL in the built-in templates is literal (templateTypeURLs).
func TestTemplatesWriteLiteralTypeURLs(t *testing.T) {
	_, computed := builtInTypeURLs(t)
	for _, c := range computed {
		t.Error(c)
	}
}

// TestComputedTypeURLsRefused: the checker refuses each way of computing a type URL, and passes literal ones.
func TestComputedTypeURLsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line       int // of the finding; 0: none
	}{
		{"literal", "a:\n  \"@type\": type.googleapis.com/envoy.config.trace.v3.XRayConfig\n  x: {{ .X }}\n", 0},
		{"literal before a trimmed action", "\"@type\": type.googleapis.com/envoy.A\n{{- if .B }}\nb: 1\n{{- end }}\n", 0},
		{"literal quoted with a comment", "'@type': \"type.googleapis.com/envoy.A\" # the payload\n", 0},
		{"in a template comment", "{{/* \"@type\": computed */}}\nx: 1\n", 0},
		{"printf", "x:\n  \"@type\": {{ printf \"type.googleapis.com/%s\" .X }}\n", 2},
		{"action after a literal prefix", "\"@type\": type.googleapis.com/envoy.{{ .X }}\n", 1},
		{"branches", "a: 1\nb:\n  \"@type\": {{ if .A }}type.googleapis.com/A{{ else }}type.googleapis.com/B{{ end }}\n", 3},
		{"in a define", "{{ define \"x\" }}\n\"@type\": {{ .URL }}\n{{ end }}", 2},
		{"inside a range", "{{ range .L }}\n- \"@type\": {{ q . }}\n{{ end }}", 2},
		{"value on the next line", "\"@type\":\n  type.googleapis.com/envoy.A\n", 1},
		{"another host", "\"@type\": example.com/envoy.A\n", 1},
		{"TypedStruct", "type_url: {{ .U }}\n", 1},
		{"key in an action", "{{ toJson (dict \"@type\" .X) }}\n", 1},
		{"url in an action", "x:\n  \"@type\": {{ \"type.googleapis.com/envoy.A\" }}\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, found, err := templateTypeURLs("t.tmpl", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.line == 0 && len(found) > 0:
				t.Errorf("refused a literal type URL: %q", found)
			case tc.line > 0 && len(found) == 0:
				t.Errorf("found nothing in:\n%s", tc.text)
			case tc.line > 0 && !strings.HasPrefix(found[0], fmt.Sprintf("t.tmpl:%d: ", tc.line)):
				t.Errorf("found %q, want it at t.tmpl:%d", found, tc.line)
			}
		})
	}
}
