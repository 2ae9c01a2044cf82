//go:build !appnet_lean

// docs/TEMPLATES.md describes the full build, whose function table is sprig's and ours.

package render

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/sprig/v3"

	"github.com/appnet/appnet-agent/internal/testenv"
	"github.com/appnet/appnet-agent/internal/testflag"
	"github.com/appnet/appnet-agent/templates"
)

// The generated part of docs/TEMPLATES.md lies between these markers.
const (
	templateDocBegin = "<!-- BEGIN TEMPLATE DATA -->\n"
	templateDocEnd   = "<!-- END TEMPLATE DATA -->"
)

// TestTemplateDataDocIsCurrent: docs/TEMPLATES.md documents what a template override can use
// (the embedded templates, the functions, every field of Data), generated from the Go types
// and their doc comments. It fails when the file is stale; `make docs` (this test with
// -update) rewrites it.
func TestTemplateDataDocIsCurrent(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(), "docs", "TEMPLATES.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, templateDocBegin), strings.Index(s, templateDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q and %q", path, templateDocBegin, templateDocEnd)
	}
	want := templateDataDoc(t)
	if got := s[i+len(templateDocBegin) : j]; got != want {
		if !*testflag.Update {
			t.Fatalf("%s is stale: run `make docs`", path)
		}
		if err := os.WriteFile(path, []byte(s[:i+len(templateDocBegin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// templateDataDoc is the generated Markdown: templates, functions, data fields.
func templateDataDoc(t *testing.T) string {
	docs := packageDocs(t)
	var b strings.Builder
	b.WriteString("### Templates\n\nEach template's own header comment, which also says what its data (`.`) is: " +
		"the top-level templates get the whole `Data` below, a partial included by another gets the part named.\n\n" +
		"| Template | What it renders |\n|---|---|\n")
	names, err := embeddedTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		text, err := templates.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		header := templateHeader.FindSubmatch(text)
		if header == nil || !strings.Contains(string(header[1]), "Data: ") {
			t.Errorf("templates/%s does not start with a {{- /* comment */ -}} saying what it renders and its data (Data: ...)", name)
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", name, cell(string(header[1])))
	}

	b.WriteString("\n### Functions\n\n| Function | What it does |\n|---|---|\n")
	fm := funcMap(func(string, any) (string, error) { return "", nil })
	sprigs := sprig.TxtFuncMap()
	for _, name := range slices.Sorted(maps.Keys(fm)) {
		if _, fromSprig := sprigs[name]; fromSprig && !slices.Contains(unsafeSprig, name) {
			continue // sprig's own, listed as a whole below
		}
		desc := docs.funcs[funcName(fm[name])]
		if name == "include" {
			desc = "include NAME DATA executes the template NAME with DATA into a string, so a partial can be piped to indent."
		}
		if desc == "" {
			t.Errorf("function %s has no doc comment", name)
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", name, cell(desc))
	}
	var removed []string
	for _, name := range unsafeSprig {
		if _, replaced := fm[name]; !replaced {
			removed = append(removed, "`"+name+"`")
		}
	}
	slices.Sort(removed)
	fmt.Fprintf(&b, "| [sprig](https://masterminds.github.io/sprig/)'s | every other sprig function, except %s |\n", strings.Join(removed, ", "))

	b.WriteString("\n### Data\n\nThe value of type `Data` that `sidecar.yaml.tmpl` and `relay.yaml.tmpl` are executed with " +
		"(`.`), field by field:\n\n" +
		"| Field | Go type | What it is |\n|---|---|---|\n")
	var rows func(prefix string, st reflect.Type)
	rows = func(prefix string, st reflect.Type) {
		for i := range st.NumField() {
			f := st.Field(i)
			if !f.IsExported() {
				continue
			}
			path := prefix + "." + f.Name
			desc := docs.fields[st.Name()+"."+f.Name]
			inner := f.Type
			if inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			isStruct := inner.Kind() == reflect.Struct && inner != reflect.TypeFor[time.Duration]()
			if desc == "" && isStruct {
				desc = docs.types[inner.Name()]
			}
			if desc == "" {
				t.Errorf("field %s.%s (template path %s) has no doc comment", st.Name(), f.Name, path)
			}
			if f.Type.Kind() == reflect.Pointer {
				desc = strings.TrimSuffix(strings.TrimSpace(desc), ".") + ". May be nil: test it (`{{ with " + path + " }}`) first."
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", path, strings.ReplaceAll(strings.ReplaceAll(f.Type.String(), "render.", ""), "interface {}", "any"), cell(desc))
			if isStruct {
				rows(path, inner)
			}
		}
	}
	rows("", reflect.TypeFor[Data]())
	return b.String()
}

// templateHeader is a template's leading comment: what it renders, and what its data (.) is.
var templateHeader = regexp.MustCompile(`(?s)^\{\{-? ?/\*(.*?)\*/`)

// cell makes text one Markdown table cell: one line, pipes escaped.
func cell(text string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(text), " "), "|", `\|`)
}

// funcName is the name of the function fn in this package ("quote"), or "".
func funcName(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func {
		return ""
	}
	full := runtime.FuncForPC(v.Pointer()).Name()
	return full[strings.LastIndex(full, ".")+1:]
}

// docs are the doc comments of this package: of types, of struct fields ("Type.Field"; a
// field's trailing comment when it has no doc comment), and of functions.
type docs struct{ types, fields, funcs map[string]string }

func packageDocs(t *testing.T) docs {
	d := docs{types: map[string]string{}, fields: map[string]string{}, funcs: map[string]string{}}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if decl.Recv == nil {
					d.funcs[decl.Name.Name] = decl.Doc.Text()
				}
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok {
						continue
					}
					d.types[ts.Name.Name] = cmpText(ts.Doc, decl.Doc)
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, field := range st.Fields.List {
						for _, name := range field.Names {
							d.fields[ts.Name.Name+"."+name.Name] = cmpText(field.Doc, field.Comment)
						}
					}
				}
			}
		}
	}
	return d
}

// cmpText is the first non-empty comment's text.
func cmpText(groups ...*ast.CommentGroup) string {
	for _, g := range groups {
		if text := g.Text(); text != "" {
			return text
		}
	}
	return ""
}
