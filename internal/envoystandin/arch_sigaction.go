//go:build linux && (amd64 || arm64)

package main

// canResetInKernel is true where kernelSigaction matches the kernel's layout.
const canResetInKernel = true
