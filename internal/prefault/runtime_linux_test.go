//go:build linux

package prefault

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func TestParseMaps(t *testing.T) {
	text := "00400000-00dd2000 r-xp 00000000 fe:00 10199139                           /usr/bin/appnet-agent\n" +
		"01a2a000-01ab7000 rw-p 0162a000 fe:00 10199139                           /usr/bin/appnet-agent\n" +
		"01ab7000-03b00000 rw-p 00000000 00:00 0 \n" +
		"garbage\n" +
		"zz-01 rw-p 00000000 00:00 0\n" +
		"2000-1000 rw-p 00000000 00:00 0\n" +
		"7ffe33e29000-7ffe33e4a000 rw-p 00000000 00:00 0                          [stack]\n" +
		"7f7b767f4000-7f7b76854000 rw-p 00000000 00:00 0" // no final newline
	want := []mapsLine{
		{addrRange{0x400000, 0xdd2000}, "r-xp", true},
		{addrRange{0x1a2a000, 0x1ab7000}, "rw-p", true},
		{addrRange{0x1ab7000, 0x3b00000}, "rw-p", false},
		{addrRange{0x7ffe33e29000, 0x7ffe33e4a000}, "rw-p", true},
		{addrRange{0x7f7b767f4000, 0x7f7b76854000}, "rw-p", false},
	}
	if diff := cmp.Diff(want, parseMaps([]byte(text)), cmp.AllowUnexported(mapsLine{}, addrRange{})); diff != "" {
		t.Errorf("parseMaps (-want +got):\n%s", diff)
	}
}

func TestRuntimeMemory(t *testing.T) {
	exe := func(from, end uintptr, perms string) mapsLine { return mapsLine{addrRange{from, end}, perms, true} }
	anon := func(from, end uintptr, perms string) mapsLine { return mapsLine{addrRange{from, end}, perms, false} }
	const data = 0x1a30000
	tests := []struct {
		name string
		maps []mapsLine
		want []addrRange
	}{{
		name: "today's layout",
		maps: []mapsLine{
			exe(0x400000, 0xdd2000, "r-xp"),              // text: not written
			exe(0xdd2000, 0x1a2a000, "r--p"),             // rodata
			exe(0x1a2a000, 0x1ab7000, "rw-p"),            // data: taken whole
			anon(0x1ab7000, 0x3b00000, "rw-p"),           // bss: its first bssPrefix bytes
			anon(0x3e19c000000, 0x3e19fc00000, "---p"),   // heap reservation
			anon(0x3e19fc00000, 0x3e1a0400000, "rw-p"),   // heap chunks (8 MiB): prepare's own business
			anon(0x7f7b2fb60000, 0x7f7b2fd00000, "rw-p"), // metadata, 1.6 MiB
			anon(0x7f7b2fd00000, 0x7f7b31e00000, "rw-p"), // the arena index, 33 MiB: sparse
			anon(0x7f7b425c3000, 0x7f7b425c4000, "rw-p"), // a summary page
			anon(0x7f7b767f4000, 0x7f7b76854000, "rw-p"), // metadata, 384 KiB
			exe(0x7f7b76854000, 0x7f7b76858000, "r--p"),  // [vvar]
			exe(0x7ffe33e29000, 0x7ffe33e4a000, "rw-p"),  // [stack]: named, left alone
		},
		want: []addrRange{
			{0x1a2a000, 0x1ab7000},
			{0x1ab7000, 0x1ab7000 + bssPrefix},
			{0x7f7b2fb60000, 0x7f7b2fd00000},
			{0x7f7b425c3000, 0x7f7b425c4000},
			{0x7f7b767f4000, 0x7f7b76854000},
		},
	}, {
		name: "a bss smaller than the prefix is taken whole",
		maps: []mapsLine{exe(0x1a2a000, 0x1ab7000, "rw-p"), anon(0x1ab7000, 0x1ac0000, "rw-p")},
		want: []addrRange{{0x1a2a000, 0x1ab7000}, {0x1ab7000, 0x1ac0000}},
	}, {
		name: "no data mapping found: no bss either, metadata still",
		maps: []mapsLine{exe(0x2000000, 0x2100000, "rw-p"), anon(0x2100000, 0x4000000, "rw-p"), anon(0x7f0000000000, 0x7f0000010000, "rw-p")},
		want: []addrRange{{0x7f0000000000, 0x7f0000010000}},
	}, {
		name: "within the budget",
		maps: []mapsLine{
			anon(0x7f0000000000, 0x7f0000200000, "rw-p"), anon(0x7f0000300000, 0x7f0000500000, "rw-p"),
			anon(0x7f0000600000, 0x7f0000800000, "rw-p"), anon(0x7f0000900000, 0x7f0000b00000, "rw-p"),
			anon(0x7f0000c00000, 0x7f0000e00000, "rw-p"), anon(0x7f0000f00000, 0x7f0000f10000, "rw-p"),
		},
		want: []addrRange{
			{0x7f0000000000, 0x7f0000200000}, {0x7f0000300000, 0x7f0000500000},
			{0x7f0000600000, 0x7f0000800000}, {0x7f0000900000, 0x7f0000b00000},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runtimeMemory(tt.maps, data)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(addrRange{})); diff != "" {
				t.Errorf("runtimeMemory (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPrepareRuntimeMemory: on this process, the data segment and a small anonymous mapping (as the runtime's
// metadata) are resident afterwards; a large anonymous one (as its sparse tables) is left untouched.
func TestPrepareRuntimeMemory(t *testing.T) {
	if err := populate(0, 0); errors.Is(err, syscall.EINVAL) {
		t.Skip("MADV_POPULATE_WRITE is not supported here (Linux before 5.14)")
	}
	small := isolated(t, 64<<10)
	large := isolated(t, 2*smallMapping)
	prepareRuntimeMemory()
	data := containing(t, uintptr(unsafe.Pointer(&dataMarker)))
	if data.rss != data.end-data.start {
		t.Errorf("the data segment %#x–%#x has %d bytes resident, want all %d", data.start, data.end, data.rss, data.end-data.start)
	}
	if m := containing(t, small); m.rss != 64<<10 {
		t.Errorf("the small mapping %#x–%#x has %d bytes resident, want all %d", m.start, m.end, m.rss, 64<<10)
	}
	if m := containing(t, large); m.rss != 0 {
		t.Errorf("the large mapping %#x–%#x has %d bytes resident, want none", m.start, m.end, m.rss)
	}
}

// isolated maps n bytes read-write, anonymous, between two inaccessible pages (so the kernel cannot merge it
// with a neighbour), and returns its address; the mapping is removed when the test ends.
func isolated(t *testing.T, n uintptr) uintptr {
	t.Helper()
	page := uintptr(os.Getpagesize())
	addr, _, errno := syscall.Syscall6(syscall.SYS_MMAP, 0, n+2*page, syscall.PROT_NONE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS, ^uintptr(0), 0)
	if errno != 0 {
		t.Fatalf("mmap: %v", errno)
	}
	t.Cleanup(func() { _, _, _ = syscall.Syscall(syscall.SYS_MUNMAP, addr, n+2*page, 0) })
	if _, _, errno := syscall.Syscall(syscall.SYS_MPROTECT, addr+page, n, syscall.PROT_READ|syscall.PROT_WRITE); errno != 0 {
		t.Fatalf("mprotect: %v", errno)
	}
	return addr + page
}
