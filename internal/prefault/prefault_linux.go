//go:build linux

package prefault

import (
	"os"
	"syscall"
	"unsafe"

	"github.com/appnet/appnet-agent/internal/dispatch"
)

// heapChunk is the unit in which the Go runtime maps heap memory on 64-bit Linux
// (runtime.pallocChunkBytes): aligned 4 MiB pieces of its 64 MiB heap arenas. So the aligned
// 4 MiB around a heap object is heap memory, mapped read-write (TestHeapChunkIsOneMapping).
const heapChunk = 4 << 20

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which package syscall does not name.
const madvPopulateWrite = 23

// probe is the heap object advise allocates to find where the runtime allocates now. A package variable,
// so that it is on the heap (a local whose address only becomes a uintptr may live on the stack).
var probe *[64]byte

func init() {
	if dispatch.Renders(os.Args[1:]) {
		go populate(advise()) // advise now, before the next allocations; populate on another thread
	}
}

// advise asks for huge pages on the heap chunk the runtime allocates from, and returns the
// part of it from the next allocation on: [from, end).
func advise() (from, end uintptr) {
	probe = new([64]byte)
	at := uintptr(unsafe.Pointer(probe))
	base := at &^ (heapChunk - 1)
	_ = madvise(base, heapChunk, syscall.MADV_HUGEPAGE) // advice: refused where huge pages are off
	page := uintptr(os.Getpagesize())
	return at &^ (page - 1), base + heapChunk
}

// populate faults in [from, end) writable, as the runtime's next allocations would, one by one.
func populate(from, end uintptr) error {
	return madvise(from, end-from, madvPopulateWrite)
}

// madvise is the system call on a range given by address: the heap's memory is not a slice
// this package owns.
func madvise(addr, n uintptr, advice int) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}
