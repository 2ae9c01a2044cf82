package supervise

import (
	"os"
	"strconv"
	"strings"
)

// The agent finds its own children (strays to kill, zombies to reap) from the kernel's
// per-thread children lists, /proc/PID/task/TID/children, instead of reading the stat file of
// every process on the host: a restart spent 1.0–1.3 ms scanning all of /proc (issue 19), and
// the agent's family is a handful of processes. Every thread's list is read, because a child
// is listed under the thread that forked it and an orphan is re-parented to any thread of its
// subreaper. Without those files (a kernel built without CONFIG_PROC_CHILDREN) the scan of
// /proc remains.

// childrenOf returns pid's children, zombies included; ok is false when the kernel has no
// children lists. A process that is gone has none.
func childrenOf(pid int) (kids []int, ok bool) {
	task := "/proc/" + strconv.Itoa(pid) + "/task/"
	threads, err := os.ReadDir(task)
	if err != nil {
		return nil, childrenListsExist()
	}
	for _, t := range threads {
		b, err := os.ReadFile(task + t.Name() + "/children")
		if os.IsNotExist(err) && !childrenListsExist() {
			return nil, false
		}
		for _, f := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(f); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids, true
}

// childrenListsExist reports whether this kernel keeps children lists (our own thread's always
// exists when it does).
func childrenListsExist() bool {
	_, err := os.Stat("/proc/thread-self/children")
	return err == nil
}

// family maps every live (not zombie) process below pid to its parent, from the children
// lists, or from a scan of all of /proc (processParents) when the kernel has none.
func family(pid int) map[int]int {
	out := map[int]int{}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		kids, ok := childrenOf(p)
		if !ok {
			return processParents()
		}
		for _, k := range kids {
			if _, seen := out[k]; seen || k == pid {
				continue
			}
			if _, state, ok := procStat(k); ok && state != 'Z' && state != 'X' {
				out[k] = p
				queue = append(queue, k)
			}
		}
	}
	return out
}

// zombieChildren returns pid's children that have exited and are not yet reaped; with
// listsOK false the kernel has no children lists and the caller must scan /proc.
func zombieChildren(pid int) (zombies []int, listsOK bool) {
	kids, ok := childrenOf(pid)
	if !ok {
		return nil, false
	}
	for _, k := range kids {
		if ppid, state, ok := procStat(k); ok && ppid == pid && state == 'Z' {
			zombies = append(zombies, k)
		}
	}
	return zombies, true
}
