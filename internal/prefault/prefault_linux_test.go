//go:build linux

package prefault

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// mapping is one line of /proc/self/smaps: an address range, its permissions, and the fields
// this test reads.
type mapping struct {
	start, end uintptr
	perms      string
	rss        uintptr // bytes
	flags      []string
}

func mappings(t *testing.T) []mapping {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	var out []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && len(fields) >= 2 && !strings.HasSuffix(fields[0], ":") {
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				out = append(out, mapping{start: uintptr(start), end: uintptr(end), perms: fields[1]})
				continue
			}
		}
		if len(out) == 0 {
			continue
		}
		m := &out[len(out)-1]
		switch fields[0] {
		case "Rss:":
			kb, _ := strconv.ParseUint(fields[1], 10, 64)
			m.rss = uintptr(kb) << 10
		case "VmFlags:":
			m.flags = fields[1:]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func containing(t *testing.T, addr uintptr) mapping {
	t.Helper()
	for _, m := range mappings(t) {
		if m.start <= addr && addr < m.end {
			return m
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return mapping{}
}

// TestHeapChunkIsOneMapping holds the runtime layout advise relies on: the aligned heapChunk around a fresh heap
// object is mapped, read-write and private, whole. A Go release that maps its heap otherwise fails here, not in
// the field (where advise's madvise calls would then be refused or miss, never harm).
func TestHeapChunkIsOneMapping(t *testing.T) {
	for range 8 { // objects of several sizes, from wherever the heap is now
		obj := make([]byte, 4096)
		at := uintptr(unsafe.Pointer(&obj[0]))
		base := at &^ (heapChunk - 1)
		covered := base
		for _, m := range mappings(t) { // adjacent mappings (split by advice) may cover the chunk together
			if m.start <= covered && covered < m.end && covered < base+heapChunk {
				if !strings.HasPrefix(m.perms, "rw") || !strings.HasSuffix(m.perms, "p") {
					t.Fatalf("the heap chunk %#x–%#x (object at %#x) has a part %#x–%#x mapped %s, want rw-p", base, base+heapChunk, at, m.start, m.end, m.perms)
				}
				covered = m.end
			}
		}
		if covered < base+heapChunk {
			t.Fatalf("the heap chunk %#x–%#x is mapped only up to %#x", base, base+heapChunk, covered)
		}
		sink = obj
	}
}

var sink []byte

// TestAdviseAndPopulate: after advise and populate, the rest of the chunk is resident and marked for huge pages.
func TestAdviseAndPopulate(t *testing.T) {
	from, end := advise()
	if end-from == 0 || end-from > heapChunk || end%heapChunk != 0 {
		t.Fatalf("advise returned [%#x, %#x), want the rest of a %d-byte chunk", from, end, heapChunk)
	}
	if err := populate(from, end); errors.Is(err, syscall.EINVAL) {
		t.Skip("MADV_POPULATE_WRITE is not supported here (Linux before 5.14)")
	} else if err != nil {
		t.Fatalf("populate: %v", err)
	}
	m := containing(t, from)
	if m.end < end {
		t.Fatalf("the chunk's rest [%#x, %#x) spans mappings (%#x–%#x first)", from, end, m.start, m.end)
	}
	if want := end - from; m.rss < want {
		t.Errorf("resident %d bytes of the mapping holding the chunk's rest, want at least %d", m.rss, want)
	}
	thp, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if strings.Contains(string(thp), "[never]") || len(thp) == 0 {
		return // the advice may be refused or ignored
	}
	if m.start > from-from%heapChunk || !contains(m.flags, "hg") {
		t.Errorf("the heap chunk is not marked for huge pages: mapping %#x–%#x flags %v", m.start, m.end, m.flags)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reserve maps n bytes with no access, aligned to heapChunk, as the runtime reserves its heap arenas; the
// mapping is removed when the test ends.
func reserve(t *testing.T, n uintptr) uintptr {
	t.Helper()
	addr, _, errno := syscall.Syscall6(syscall.SYS_MMAP, 0, n+heapChunk, syscall.PROT_NONE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS, ^uintptr(0), 0)
	if errno != 0 {
		t.Fatalf("mmap: %v", errno)
	}
	t.Cleanup(func() { _, _, _ = syscall.Syscall(syscall.SYS_MUNMAP, addr, n+heapChunk, 0) })
	return (addr + heapChunk - 1) &^ (heapChunk - 1)
}

// commit maps [addr, addr+n) read-write over the reservation, as the runtime's sysMap does when the heap grows.
func commit(t *testing.T, addr, n uintptr) {
	t.Helper()
	_, _, errno := syscall.Syscall6(syscall.SYS_MMAP, addr, n, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_FIXED, ^uintptr(0), 0)
	if errno != 0 {
		t.Fatalf("mmap: %v", errno)
	}
}

// TestAwaitChunkPreparesTheChunkOnceMapped: a chunk still reserved is waited for; once mapped read-write it is
// faulted in (and marked for huge pages where they are on), within the wait.
func TestAwaitChunkPreparesTheChunkOnceMapped(t *testing.T) {
	if err := populate(0, 0); errors.Is(err, syscall.EINVAL) {
		t.Skip("MADV_POPULATE_WRITE is not supported here (Linux before 5.14)")
	}
	chunk := reserve(t, 2*heapChunk)
	done := make(chan bool)
	go func() { done <- awaitChunk(chunk, 10*time.Second, time.Millisecond) }()
	time.Sleep(20 * time.Millisecond) // several polls while it is reserved
	select {
	case <-done:
		t.Fatal("awaitChunk returned while the chunk was only reserved")
	default:
	}
	commit(t, chunk, heapChunk)
	if !<-done {
		t.Fatal("awaitChunk gave up on a chunk mapped within its wait")
	}
	m := containing(t, chunk)
	if m.rss < heapChunk {
		t.Errorf("resident %d bytes of the prepared chunk's mapping, want %d", m.rss, heapChunk)
	}
	thp, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if len(thp) > 0 && !strings.Contains(string(thp), "[never]") && !contains(m.flags, "hg") {
		t.Errorf("the prepared chunk is not marked for huge pages: flags %v", m.flags)
	}
}

// TestAwaitChunkGivesUp: a chunk the heap never reaches is given up after the wait, untouched.
func TestAwaitChunkGivesUp(t *testing.T) {
	chunk := reserve(t, heapChunk)
	start := time.Now()
	if awaitChunk(chunk, 30*time.Millisecond, time.Millisecond) {
		t.Fatal("awaitChunk prepared a chunk that is only reserved")
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("gave up after %v, before its wait of 30ms", d)
	}
	if m := containing(t, chunk); m.rss != 0 || strings.Contains(m.perms, "w") {
		t.Errorf("the reserved chunk changed: %s, %d bytes resident", m.perms, m.rss)
	}
}
