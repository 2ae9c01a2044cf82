//go:build linux

package prefault

import (
	"os"
	"unsafe"
)

// Besides the heap, the start-up writes for the first time to memory of two other kinds, page
// by page: the program's own variables (its data and bss segments) and the Go runtime's
// off-heap metadata (span structures, the sweeper's span sets, the heap arenas' bitmaps, in
// small anonymous mappings of their own). Measured on a Service Connect render: some 190 of
// the main thread's page faults after this package's init. prepareRuntimeMemory faults them in
// on prepare's thread instead, in a few system calls.
const (
	// bssPrefix bounds what is faulted in of the bss mapping. Its first ~300 KiB are the
	// runtime's and the packages' zeroed variables, which the start-up writes; the rest is
	// mostly crypto/internal/fips140/drbg's 32 MiB buffer, which it never touches.
	bssPrefix = 512 << 10
	// smallMapping is the largest anonymous mapping taken for runtime metadata: the runtime
	// maps those in pieces of 64 KiB to 2 MiB, and reserves its big tables (the arena index,
	// the page allocator's summaries) sparsely, in mappings far larger, which stay untouched.
	smallMapping = 2 << 20
	// runtimeMemoryBudget bounds the whole: a layout unlike today's costs at most this much
	// memory, in a process that lives for the start.
	runtimeMemoryBudget = 8 << 20
)

// dataMarker is a variable of the program's data segment (initialised, so not bss): the
// mapping that holds it is the executable's writable one.
var dataMarker uintptr = 1

// prepareRuntimeMemory faults in the ranges runtimeMemory picks from /proc/self/maps. Advice
// only: an unreadable maps file or a refused range changes nothing but the speed.
func prepareRuntimeMemory() {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, r := range runtimeMemory(parseMaps(maps), uintptr(unsafe.Pointer(&dataMarker))) {
		_ = populate(r.from, r.end)
	}
}

// addrRange is [from, end).
type addrRange struct{ from, end uintptr }

// mapsLine is one line of /proc/PID/maps: its range, its permissions, and whether it names a
// file or a kernel object ([stack], [vdso], ...) rather than being anonymous.
type mapsLine struct {
	addrRange
	perms string
	named bool
}

// runtimeMemory picks, from a process's mappings, the writable private ones the start-up is
// about to write: the mapping holding data (the executable's data segment), the first
// bssPrefix bytes of the anonymous mapping right after it (bss), and the anonymous ones of at
// most smallMapping bytes (the runtime's metadata), within runtimeMemoryBudget in all.
func runtimeMemory(maps []mapsLine, data uintptr) []addrRange {
	var out []addrRange
	budget := uintptr(runtimeMemoryBudget)
	take := func(r addrRange) {
		if n := r.end - r.from; n > 0 && n <= budget {
			out = append(out, r)
			budget -= n
		}
	}
	var dataEnd uintptr
	for _, m := range maps {
		if m.perms != "rw-p" {
			continue
		}
		switch size := m.end - m.from; {
		case m.from <= data && data < m.end:
			take(m.addrRange)
			dataEnd = m.end
		case m.named:
		case m.from == dataEnd && dataEnd != 0:
			take(addrRange{m.from, m.from + min(size, bssPrefix)})
		case size <= smallMapping:
			take(m.addrRange)
		}
	}
	return out
}

// parseMaps reads the text of /proc/PID/maps; a line it cannot read is left out. (By hand:
// strings and strconv would initialise after the protobuf runtime and so delay this package's
// init past it; see the package comment.)
func parseMaps(text []byte) []mapsLine {
	var out []mapsLine
	for len(text) > 0 {
		line, next := text, []byte(nil)
		for i, c := range text {
			if c == '\n' {
				line, next = text[:i], text[i+1:]
				break
			}
		}
		text = next
		f := fields(line)
		if len(f) < 5 {
			continue
		}
		from, rest := hexPrefix(f[0])
		if len(rest) == len(f[0]) || len(rest) < 2 || rest[0] != '-' {
			continue
		}
		end, tail := hexPrefix(rest[1:])
		if len(tail) != 0 || end <= from { // tail is rest[1:] whole when no digit followed '-'
			continue
		}
		out = append(out, mapsLine{addrRange: addrRange{from, end}, perms: string(f[1]), named: len(f) > 5})
	}
	return out
}

// fields splits a line at runs of spaces.
func fields(line []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i <= len(line); i++ {
		if i == len(line) || line[i] == ' ' {
			if start >= 0 {
				out = append(out, line[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

// hexPrefix reads the lower-case hexadecimal number that s starts with, and returns the rest.
func hexPrefix(s []byte) (uintptr, []byte) {
	var v uintptr
	i := 0
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			v = v<<4 | uintptr(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uintptr(c-'a'+10)
		default:
			return v, s[i:]
		}
	}
	return v, s[i:]
}
