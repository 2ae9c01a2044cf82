//go:build !appnet_lean

package dispatch

// Lean reports whether this is the lean build.
const Lean = false
