//go:build appnet_lean

package render

import "text/template"

// leanBuild tells tests which build they run in: this one gives templates only builtInFuncs.
const leanBuild = true

// funcMap is what templates may call in the lean build, which renders only the built-in templates
// (docs/DESIGN.md, the lean renderer): the functions they call, without sprig.
func funcMap(include func(name string, data any) (string, error)) template.FuncMap {
	return builtInFuncs(include)
}
