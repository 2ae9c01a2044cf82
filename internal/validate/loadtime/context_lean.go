//go:build appnet_lean

package loadtime

// extensionState is empty in the lean build: the rules that remember anything across the walk are extension rules,
// which it leaves out (context_ext.go holds the full build's).
type extensionState struct{}
