package e2e

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// What /proc says about the processes of a test.

// ownedPids lists the live processes (host pids) carrying this test's owner mark.
func (a *agent) ownedPids() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && a.owns(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// owns reports whether pid is a live (not zombie) process of this test.
func (a *agent) owns(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false // gone, or a zombie's environ is unreadable/empty
	}
	mark := []byte(ownerVar + "=" + a.dir)
	return slices.ContainsFunc(bytes.Split(b, []byte{0}), func(kv []byte) bool { return bytes.Equal(kv, mark) }) &&
		!isZombie(pid)
}

func isZombie(pid int) bool {
	st, ok := readStatus(pid)
	return ok && (st.state == 'Z' || st.state == 'X')
}

// descendantRunning returns pid or a process below it whose executable is exe, 0 if none.
func descendantRunning(pid int, exe string) int {
	for _, p := range append([]int{pid}, descendants(pid)...) {
		if e, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); e == exe {
			return p
		}
	}
	return 0
}

// descendants lists the processes below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStatus(p); ok {
			children[st.ppid] = append(children[st.ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
}

// procStatus is what /proc/PID/status says about a process.
type procStatus struct {
	pid, ppid int
	state     byte
	nspid     []int // pid in each nested pid namespace, outermost first
	peakRSS   int64 // VmHWM, bytes
	rss       int64 // VmRSS, bytes
	threads   int64
}

func readStatus(pid int) (procStatus, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}, false
	}
	st := procStatus{pid: pid}
	kib := func(v string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
		return n << 10
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "State":
			if v != "" {
				st.state = v[0]
			}
		case "PPid":
			st.ppid, _ = strconv.Atoi(v)
		case "NSpid":
			for f := range strings.FieldsSeq(v) {
				n, _ := strconv.Atoi(f)
				st.nspid = append(st.nspid, n)
			}
		case "VmHWM":
			st.peakRSS = kib(v)
		case "VmRSS":
			st.rss = kib(v)
		case "Threads":
			st.threads, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return st, true
}

// peakRSS is a process's peak resident set (VmHWM), in bytes; 0 if unknown.
func peakRSS(pid int) int64 { st, _ := readStatus(pid); return st.peakRSS }

// rss is a process's resident set (VmRSS), in bytes; 0 if unknown.
func rss(pid int) int64 { st, _ := readStatus(pid); return st.rss }

// threads is a process's thread count; 0 if unknown.
func threads(pid int) int64 { st, _ := readStatus(pid); return st.threads }

// pidNS is the pid namespace of pid, as the kernel names it ("pid:[4026531836]").
func pidNS(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	return s
}

// procsIn lists the processes in pid namespace ns, as seen from here.
func procsIn(ns string) []procStatus {
	var out []procStatus
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pidNS(pid) != ns {
			continue
		}
		if st, ok := readStatus(pid); ok {
			out = append(out, st)
		}
	}
	return out
}

// hostPid maps a pid inside namespace ns (its innermost pid) to the pid seen here; 0 if no
// such process exists.
func hostPid(ns string, inner int) int {
	for _, st := range procsIn(ns) {
		if len(st.nspid) > 0 && st.nspid[len(st.nspid)-1] == inner {
			return st.pid
		}
	}
	return 0
}
