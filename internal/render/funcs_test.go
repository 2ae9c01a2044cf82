package render

import (
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"text/template"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"

	"github.com/appnet/appnet-agent/templates"
)

// sprigSubset returns the functions of builtInFuncs that stand in for sprig's (all but our own).
func sprigSubset() template.FuncMap {
	fm := builtInFuncs(nil)
	for name := range ownFuncs(nil) {
		delete(fm, name)
	}
	return fm
}

// TestBuiltInSprigSubsetMatchesSprig: the lean build's stand-ins for sprig's functions give sprig's result, or
// fail as sprig's does (a negative indent panics in both, which text/template reports as the call's error), for
// every combination of a table of arguments.
func TestBuiltInSprigSubsetMatchesSprig(t *testing.T) {
	inputs := map[reflect.Type][]any{
		reflect.TypeFor[int](): {0, 1, 2, 4, 17, -1, -3},
		reflect.TypeFor[string](): {
			"", "a", " ", "\n", "\n\n", "a\nb", "a\nb\n", "\na", "a\n\nb", "\ta\n\tb\t", "  padded  ",
			" \t\n x y \r\n", "a\r\nb\r\n", "\r\n", "ünïcödé\n日本語\n", "\u00a0nbsp\u00a0", "\u2028ls\u2029",
			"\u3000ideographic\u3000", "\x85nel\x85", "\v\fvt ff\f\v", "emoji 🙂\n🙂", "\xffinvalid\xfe",
		},
	}
	sprigs := sprig.TxtFuncMap()
	subset := sprigSubset()
	if len(subset) == 0 {
		t.Fatal("builtInFuncs stands in for no sprig function: the check looks at the wrong map")
	}
	for _, name := range slices.Sorted(maps.Keys(subset)) {
		ours, theirs := reflect.ValueOf(subset[name]), reflect.ValueOf(sprigs[name])
		if !theirs.IsValid() {
			t.Errorf("%s is not a sprig function: put it into ownFuncs", name)
			continue
		}
		if ours.Type() != theirs.Type() {
			t.Errorf("%s: ours is %v, sprig's %v; the guards' prechecks take sprig's signature", name, ours.Type(), theirs.Type())
			continue
		}
		calls := [][]reflect.Value{nil}
		for i := range ours.Type().NumIn() {
			in := ours.Type().In(i)
			if inputs[in] == nil {
				t.Fatalf("%s takes a %v: add inputs of that type", name, in)
			}
			var next [][]reflect.Value
			for _, args := range calls {
				for _, v := range inputs[in] {
					next = append(next, append(slices.Clone(args), reflect.ValueOf(v)))
				}
			}
			calls = next
		}
		for _, args := range calls {
			got, want := callRecovering(ours, args), callRecovering(theirs, args)
			if got != want {
				t.Errorf("{{%s %s}} gives %s; sprig's %s", name, goSyntax(args), got, want)
			}
		}
	}
}

// callRecovering calls fn and describes its results, or its panic.
func callRecovering(fn reflect.Value, args []reflect.Value) (result string) {
	defer func() {
		if r := recover(); r != nil {
			result = fmt.Sprintf("panic(%v)", r)
		}
	}()
	return goSyntax(fn.Call(args))
}

// goSyntax writes vs in Go syntax, separated by spaces.
func goSyntax(vs []reflect.Value) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%#v", v.Interface())
	}
	return strings.Join(out, " ")
}

// TestBuiltInTemplatesCallOnlyBuiltInFuncs: every function any file under templates/ calls is in builtInFuncs
// (the lean build's whole map), a guard override or a text/template builtin, and builtInFuncs stands in for no
// sprig function that no built-in template calls.
func TestBuiltInTemplatesCallOnlyBuiltInFuncs(t *testing.T) {
	available := builtInFuncs(nil)
	maps.Copy(available, builtinOverrides)
	called := map[string]bool{}
	err := fs.WalkDir(templates.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".tmpl") {
			return err
		}
		text, err := fs.ReadFile(templates.FS, name)
		if err != nil {
			return err
		}
		for fn := range templateCalls(t, name, string(text)) {
			called[fn] = true
			if _, ok := available[fn]; !ok && !isTemplateBuiltin(fn) {
				t.Errorf("templates/%s calls %s, which the lean build does not have: add it to builtInFuncs "+
					"(internal/render/funcs.go; for a sprig function, an own implementation with sprig's results) "+
					"and to TestBuiltInSprigSubsetMatchesSprig's inputs", name, fn)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(called) == 0 {
		t.Fatal("no function call found in templates/: the walk looks at the wrong files")
	}
	for name := range sprigSubset() {
		if !called[name] {
			t.Errorf("builtInFuncs has %s, which no built-in template calls: drop it (the full build keeps sprig's)", name)
		}
	}
}

// templateCalls parses text (and the templates it defines) without resolving functions and returns the names it
// calls.
func templateCalls(t *testing.T, name, text string) map[string]bool {
	t.Helper()
	tree := parse.New(name)
	tree.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := tree.Parse(text, "", "", trees); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	used := map[string]bool{}
	for _, tr := range trees {
		addIdentifiers(tr.Root, used)
	}
	return used
}

// isTemplateBuiltin reports whether name is one of text/template's own functions (and, eq, len, ...).
func isTemplateBuiltin(name string) bool {
	_, err := template.New("").Parse("{{" + name + "}}")
	return err == nil
}

// skipUnlessBuildHasFuncs skips a test of a template text that calls a function this build's templates do not
// have: the lean build's (builtInFuncs) lacks most of sprig's.
func skipUnlessBuildHasFuncs(t *testing.T, text string) {
	t.Helper()
	available := funcMap(nil)
	maps.Copy(available, builtinOverrides)
	for fn := range templateCalls(t, t.Name(), text) {
		if _, ok := available[fn]; !ok && !isTemplateBuiltin(fn) {
			t.Skipf("calls %s, which this build (lean: %v) does not give templates", fn, leanBuild)
		}
	}
}
