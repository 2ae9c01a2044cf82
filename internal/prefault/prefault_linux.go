//go:build linux

package prefault

import (
	"errors"
	"os"
	"syscall"
	"time"
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
		reserveStack()
		from, end := advise() // now, before the next allocations
		go prepare(from, end) // on another thread
	}
}

// nextChunkWait bounds how long prepare waits for the heap to reach its next chunk, and
// nextChunkPoll is how often it looks. The render reaches it in about half of the starts (the
// heap's base is random within its first chunk), some 10–25 ms after this package's init on a
// 2-core machine; a heap that never gets there (or grows elsewhere, in a new arena) costs the
// wait's polls, on another thread.
const (
	nextChunkWait = 50 * time.Millisecond
	nextChunkPoll = 200 * time.Microsecond
)

// prepare faults in the rest of the chunk the runtime allocates from, [from, end), then the
// program's variables and the runtime's metadata (prepareRuntimeMemory), then the next chunk as
// soon as the runtime maps it.
func prepare(from, end uintptr) {
	if errors.Is(populate(from, end), syscall.EINVAL) {
		return // no MADV_POPULATE_WRITE before Linux 5.14: nothing to wait for either
	}
	prepareRuntimeMemory()
	awaitChunk(end, nextChunkWait, nextChunkPoll)
}

// awaitChunk prepares the heap chunk at addr once the runtime has mapped it read-write (it does
// so, replacing its reservation, when the chunk below is full): huge pages are asked for again
// each time (a new mapping does not keep the advice), and the chunk is faulted in once a write
// to its first page no longer fails. It gives up after wait, and says whether it got there.
// When the current chunk ends its arena, addr is where the runtime puts the next arena, or
// nothing; were it another mapping, the cost would be at most one chunk of it faulted in, in a
// process that lives for the start.
func awaitChunk(addr uintptr, wait, poll time.Duration) bool {
	page := uintptr(os.Getpagesize())
	deadline := time.Now().Add(wait)
	for {
		_ = madvise(addr, heapChunk, syscall.MADV_HUGEPAGE)
		if populate(addr, addr+page) == nil {
			_ = populate(addr+page, addr+heapChunk)
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(poll)
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

// populate faults in [from, end) writable, as the runtime's next allocations would, page by page.
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
