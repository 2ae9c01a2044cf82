// Command gencategories writes internal/validate/loadtime/categories_gen.go: which extension categories each
// extension slot of the Envoy API accepts (from the "[#extension-category: ...]" annotations that
// go-control-plane's generated code carries as comments), and which extension, of which categories, each config
// message type configures (from Envoy's source/extensions/extensions_metadata.yaml). Run it through
// scripts/gen-extension-categories.sh.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"log"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

var (
	categoryRE = regexp.MustCompile(`^\s*\[#extension-category:\s*([^\]]+)\]`)
	sourceRE   = regexp.MustCompile(`(?m)^// source: (envoy/\S+)\.proto$`)
)

type slot struct {
	message, field string
	categories     []string
}

type extension struct {
	Categories []string `json:"categories"`
	TypeURLs   []string `json:"type_urls"`
}

func main() {
	module := flag.String("module", "", "directory of the github.com/envoyproxy/go-control-plane/envoy module")
	metadata := flag.String("metadata", "", "Envoy's source/extensions/extensions_metadata.yaml")
	out := flag.String("out", "", "file to write")
	flag.Parse()
	if *module == "" || *metadata == "" || *out == "" {
		log.Fatal("usage: gencategories -module DIR -metadata FILE -out FILE")
	}
	slots, err := readSlots(*module)
	if err != nil {
		log.Fatal(err)
	}
	exts, err := readMetadata(*metadata)
	if err != nil {
		log.Fatal(err)
	}
	src, err := render(slots, exts)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// readSlots finds every annotated field in the generated API code.
func readSlots(module string) ([]slot, error) {
	var slots []slot
	err := filepath.WalkDir(module, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pb.go") || strings.HasSuffix(path, "_vtproto.pb.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m := sourceRE.FindSubmatch(src)
		if m == nil {
			return nil
		}
		pkg := strings.ReplaceAll(filepath.Dir(string(m[1])), "/", ".")
		if !strings.HasPrefix(filepath.Base(filepath.Dir(path)), "v3") {
			return nil // the removed v2 API
		}
		found, err := fileSlots(path, src, pkg)
		slots = append(slots, found...)
		return err
	})
	return slots, err
}

func fileSlots(path string, src []byte, pkg string) ([]slot, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	structs := map[string]*ast.StructType{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			if ts, ok := spec.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
		}
	}
	var out []slot
	for goName, st := range structs {
		for _, field := range st.Fields.List {
			cats := categories(field.Doc)
			if cats == nil || field.Tag == nil || len(field.Names) != 1 {
				continue
			}
			if oneof := reflect.StructTag(strings.Trim(field.Tag.Value, "`")).Get("protobuf_oneof"); oneof != "" {
				// The annotation sits on the oneof; its members are the wrappers the comment lists.
				for _, wrapper := range oneofWrappers(field.Doc) {
					ws, ok := structs[wrapper]
					if !ok || len(ws.Fields.List) != 1 || ws.Fields.List[0].Tag == nil {
						return nil, fmt.Errorf("%s: no oneof wrapper %s", path, wrapper)
					}
					wtag := reflect.StructTag(strings.Trim(ws.Fields.List[0].Tag.Value, "`")).Get("protobuf")
					out = append(out, slot{message: pkg + "." + strings.ReplaceAll(goName, "_", "."), field: tagName(wtag), categories: cats})
				}
				continue
			}
			tag := reflect.StructTag(strings.Trim(field.Tag.Value, "`")).Get("protobuf")
			protoField := tagName(tag)
			if protoField == "" || !messageType(field.Type) {
				continue // a string or enum that names an extension (wasm runtime, thrift transport), not a config
			}
			owner := goName
			if strings.Contains(tag, ",oneof") {
				// A oneof member lives in a wrapper struct named <Message>_<Field>.
				owner = strings.TrimSuffix(strings.TrimSuffix(goName, "_"), "_"+field.Names[0].Name)
				if _, ok := structs[owner]; !ok {
					return nil, fmt.Errorf("%s: no message for oneof wrapper %s", path, goName)
				}
			}
			out = append(out, slot{message: pkg + "." + strings.ReplaceAll(owner, "_", "."), field: protoField, categories: cats})
		}
	}
	return out, nil
}

// messageType reports a generated message field: a pointer, a list of pointers or a map of them.
func messageType(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.StarExpr:
		return true
	case *ast.ArrayType:
		_, ok := t.Elt.(*ast.StarExpr)
		return ok
	case *ast.MapType:
		_, ok := t.Value.(*ast.StarExpr)
		return ok
	}
	return false
}

func categories(doc *ast.CommentGroup) []string {
	if doc == nil {
		return nil
	}
	for _, c := range doc.List {
		if m := categoryRE.FindStringSubmatch(strings.TrimPrefix(c.Text, "//")); m != nil {
			var cats []string
			for _, s := range strings.Split(m[1], ",") {
				cats = append(cats, strings.TrimSpace(s))
			}
			return cats
		}
	}
	return nil
}

var wrapperRE = regexp.MustCompile(`^\s*\*(\w+)$`)

// oneofWrappers lists the wrapper types named in a oneof field's "Types that are valid to be assigned" comment.
func oneofWrappers(doc *ast.CommentGroup) []string {
	var out []string
	for _, c := range doc.List {
		if m := wrapperRE.FindStringSubmatch(strings.TrimPrefix(c.Text, "//")); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

func tagName(tag string) string {
	for _, part := range strings.Split(tag, ",") {
		if name, ok := strings.CutPrefix(part, "name="); ok {
			return name
		}
	}
	return ""
}

func readMetadata(path string) (map[string]extension, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	exts := map[string]extension{}
	return exts, yaml.Unmarshal(data, &exts)
}

// render writes the tables as sorted slices of structs of constants, which the compiler lays out as static data:
// nothing is built at start-up (as map literals, with the tables derived from them, they cost every run ~800
// allocations and ~120 KB in package initialisation). The lookups in categories.go search them by binary search.
func render(slots []slot, exts map[string]extension) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by scripts/gen-extension-categories.sh; DO NOT EDIT.\n\npackage loadtime\n\n")
	b.WriteString("// slotCategories lists, by message and field, the extension categories an extension slot accepts, from the\n")
	b.WriteString("// [#extension-category: ...] annotations of the Envoy API; sorted by message, and each message's slots by field.\n")
	b.WriteString("var slotCategories = []slotMessage{\n")
	byMessage := map[string][]slot{}
	for _, s := range slots {
		byMessage[s.message] = append(byMessage[s.message], s)
	}
	for _, msg := range slices.Sorted(maps.Keys(byMessage)) {
		fields := byMessage[msg]
		sort.Slice(fields, func(i, j int) bool { return fields[i].field < fields[j].field })
		fmt.Fprintf(&b, "\t{%q, []slotField{", msg)
		for i, s := range fields {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{%q, %#v}", s.field, s.categories)
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n\n")
	b.WriteString("// extensionsByType lists, by config message type, the extension the type configures and its categories, from\n")
	b.WriteString("// Envoy's source/extensions/extensions_metadata.yaml; sorted by type.\n")
	b.WriteString("var extensionsByType = []extensionInfo{\n")
	byType := map[string]string{}
	for name, e := range exts {
		for _, t := range e.TypeURLs {
			if prev, dup := byType[t]; dup && prev < name {
				continue // a type shared by two extensions keeps the first name in order
			}
			byType[t] = name
		}
	}
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		cats := slices.Clone(exts[byType[t]].Categories)
		for name, e := range exts { // a type configuring several extensions belongs to all their categories
			if name != byType[t] && slices.Contains(e.TypeURLs, t) {
				cats = append(cats, e.Categories...)
			}
		}
		slices.Sort(cats)
		fmt.Fprintf(&b, "\t{%q, %q, %#v},\n", t, byType[t], slices.Compact(cats))
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}
