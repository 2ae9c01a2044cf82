//go:build !appnet_lean

package render

// buildName names the build of the validator this test binary links: the full one, every Envoy API package
// (internal/validate/extensions_gen.go).
const buildName = "full"
