package supervise

import (
	"os"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Strays are processes that Envoy's descendants left behind outside Envoy's process group: a
// grandchild that called setsid or setpgid escapes the group kill. Because the agent is a
// child subreaper (or PID 1), such a process is re-parented to the agent when its parent
// dies, so it can be found among the agent's children: a child that is not Envoy, was not
// registered, and is held by no pidfd (os/exec keeps one for each child it started) was
// started by nobody in the agent.
//
// The limit, documented in docs/OPERATIONS.md (shutdown): without a reaper (prctl refused and not PID 1) strays
// go to the host's init and are out of reach, and on kernels without pidfds (before 5.4)
// the agent cannot tell its own children from strays, so it leaves them alone.

const (
	strayRounds = 50                   // each round kills what the last one re-parented
	strayPause  = 2 * time.Millisecond // for the kernel to re-parent a killed stray's children
)

// killStrays SIGKILLs every stray and its descendants, until none is left or strayRounds
// have passed, and returns how many it killed. envoyPid, which must be exited but not yet
// reaped, proves that pidfds are tracked: if this process holds none for it, nothing is
// killed.
//
// The pidfds are read only when the agent has a child that no start registered: after
// Envoy's usual exit there is none, and the restart does not wait for a read of every
// descriptor (issue 19: ~0.4 ms of a 4 ms restart here).
func (r *Reaper) killStrays(envoyPid int) int {
	if r == nil {
		return 0
	}
	r.mu.Lock() // no start may register a child meanwhile
	defer r.mu.Unlock()
	self := os.Getpid()
	killed := map[int]bool{} // a killed process may still show for a moment while it exits
	for round := range strayRounds {
		parents := family(self)
		var unregistered []int
		for pid, ppid := range parents {
			if ppid == self && pid != envoyPid && !r.owned[pid] {
				unregistered = append(unregistered, pid)
			}
		}
		if len(unregistered) == 0 {
			break
		}
		// Read after the children: a child os/exec started meanwhile has its pidfd by now.
		held := heldPidfds()
		if round == 0 && !held[envoyPid] {
			return 0
		}
		strays := slices.DeleteFunc(unregistered, func(pid int) bool { return held[pid] })
		if len(strays) == 0 {
			break
		}
		for _, pid := range descendants(strays, parents) {
			if unix.Kill(pid, unix.SIGKILL) == nil {
				killed[pid] = true
			}
		}
		time.Sleep(strayPause)
	}
	return len(killed)
}

// processParents maps every live (not zombie) process's pid to its parent's, from a scan of all
// of /proc: what family falls back to on a kernel without children lists.
func processParents() map[int]int {
	out := map[int]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state, ok := procStat(pid); ok && state != 'Z' && state != 'X' {
			out[pid] = ppid
		}
	}
	return out
}

// descendants returns roots and every process below them.
func descendants(roots []int, parents map[int]int) []int {
	children := map[int][]int{}
	for pid, ppid := range parents {
		children[ppid] = append(children[ppid], pid)
	}
	out := append([]int(nil), roots...)
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}
