//go:build linux && !(amd64 || arm64)

package main

// canResetInKernel is false where the kernel's struct sigaction layout is not known here;
// such signals then end in the Go runtime's default handling instead.
const canResetInKernel = false
