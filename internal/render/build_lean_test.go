//go:build appnet_lean

package render

// buildName names the build of the validator this test binary links: the lean one (tag appnet_lean), whose
// registry holds only the packages of the types the built-in templates emit (extensions_lean_gen.go).
const buildName = "lean"
