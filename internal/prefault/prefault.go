// Package prefault takes the page faults of the agent's first heap memory off the start-up's
// critical path.
//
// With the garbage collector paused for the start-up (internal/startup), the agent's package
// initialisation and render touch about 4 MB of fresh heap, page by page: about a thousand
// page faults of 4 KiB, each taken by the goroutine that initialises the packages and renders.
// On the virtual machines sidecars run in, a page fault costs microseconds (measured:
// docs/DESIGN.md, "The heap's first pages").
//
// This package's init, for an invocation that renders a bootstrap (dispatch.Renders), asks for
// transparent huge pages on the heap chunk the Go runtime is allocating from (MADV_HUGEPAGE: a
// 2 MiB page takes one fault where transparent huge pages are "madvise" or "always") and has
// another thread fault in the rest of that chunk (MADV_POPULATE_WRITE, Linux 5.14) while the
// package initialisation goes on. Both are advice: where the kernel refuses them (an older
// kernel, huge pages "never", a seccomp filter) nothing changes but the speed. What it costs:
// at most the chunk, 4 MiB, of a heap the render fills anyway, in a process that execs the
// supervisor tens of milliseconds later. It also grows the main goroutine's stack to its
// start-up size at once, while it is shallow (reserveStack).
//
// It imports only dispatch, os, syscall and unsafe, which are initialised first (see package
// dispatch), so its init runs before the Envoy API's registrations, the first big allocators.
package prefault
