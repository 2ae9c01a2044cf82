package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/lifecycle"
)

// Reaper reaps orphaned processes (R4): every child that has exited and that nobody in this
// process is going to wait for. As PID 1 the kernel re-parents every orphan of the container
// to the agent; otherwise NewReaper makes the agent a child subreaper
// (PR_SET_CHILD_SUBREAPER), so orphans of Envoy's descendants come to the agent instead of
// escaping to the host's init.
//
// The difficulty is not to steal an exit status: a plain wait4(-1) loop would also reap Envoy
// (and any other os/exec child), and their Wait would then fail with ECHILD. So each SIGCHLD
// starts a pass that only peeks, with waitid(P_ALL, WEXITED|WNOHANG|WNOWAIT), at the first
// exited child, and reaps it with wait4(pid) only when it is not owned. A child is owned when
//   - it was registered: Supervisor registers Envoy while holding the reaper's lock from before
//     the fork until its pid is known, so no pass can run in that window; or
//   - this process holds a pidfd for it: os/exec (Go ≥ 1.23 on Linux ≥ 5.4) creates every
//     child with CLONE_PIDFD and keeps the pidfd until its Wait has reaped it, so any os/exec
//     child elsewhere in the agent (e.g. the `envoy --version` probe) is safe too.
//
// An owned zombie is normally reaped by its owner within microseconds, but while it stays
// waitid keeps returning it first. The pass then reaps the other dead children it finds in
// /proc (ppid = agent, state Z), stops, and retries shortly (10 ms, doubling to 1 s) or as
// soon as the owner says it is done (release); so even an os/exec child nobody waits for
// cannot block reaping. Ownership is always checked after the child is seen dead, and a dead
// child's pid cannot be reused until it is reaped, so peeking and then reaping by pid is
// race-free.
//
// Processes started with raw syscall.ForkExec, or on kernels without pidfds, are protected
// only by registration.
type Reaper struct {
	log       hclog.Logger
	mu        sync.Mutex // held by a reap pass, and by a supervised start until its pid is registered
	owned     map[int]bool
	sigs      chan os.Signal
	kick      chan struct{}
	subreaper bool
	stopOnce  sync.Once
}

const (
	reapRetryMin = 10 * time.Millisecond
	reapRetryMax = time.Second
	// reapPassMax bounds one pass, so a fork bomb of exiting orphans cannot hold the lock forever.
	reapPassMax = 4096
)

// NewReaper prepares reaping orphans: unless the agent is PID 1 it makes the agent a child
// subreaper, so call it before any child exists. If becoming a subreaper fails it returns the
// error and no Reaper (log it and go on: only orphan reaping is lost). The reaping itself is
// Part, which the agent runs with its other long-running parts; call Stop after that part has
// ended.
func NewReaper(log hclog.Logger) (*Reaper, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	r := &Reaper{
		log:   log,
		owned: map[int]bool{},
		sigs:  make(chan os.Signal, 1),
		kick:  make(chan struct{}, 1),
	}
	if os.Getpid() != 1 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("becoming a child subreaper: %w", err)
		}
		r.subreaper = true
	}
	return r, nil
}

// Part is the reaping: a pass at once, then one on every SIGCHLD (and retries) until its
// context ends. Kept by lifecycle, a panic in a pass is logged and the loop restarted:
// reaping must go on.
func (r *Reaper) Part() lifecycle.Part {
	return lifecycle.Part{Name: "orphan reaper", Run: func(ctx context.Context) error { r.loop(ctx); return nil }}
}

// Stop makes a last pass and, when NewReaper made the agent a subreaper, clears that
// attribute; call it after Part has ended. Stop on a nil Reaper does nothing.
func (r *Reaper) Stop() {
	if r == nil {
		return
	}
	r.stopOnce.Do(func() {
		signal.Stop(r.sigs)
		r.pass()
		if r.subreaper {
			_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
		}
	})
}

// startOwned runs start, which forks a child and returns its pid, with reaping paused, and
// registers the pid as owned. On a nil Reaper it only runs start.
func (r *Reaper) startOwned(start func() (int, error)) error {
	if r == nil {
		_, err := start()
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := start()
	if err == nil {
		r.owned[pid] = true
	}
	return err
}

// own registers pid, a child started before this Reaper was told (Options.Adopt), as owned.
func (r *Reaper) own(pid int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.owned[pid] = true
	r.mu.Unlock()
}

// release forgets an owned pid once its owner has reaped it, and starts a pass: zombies
// queued behind it can now be seen.
func (r *Reaper) release(pid int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.owned, pid)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// loop reaps on every SIGCHLD, kick and retry until ctx ends. It subscribes to SIGCHLD first
// (again after a restart: Notify on a subscribed channel changes nothing): a child that exited
// before is found by the first pass. Subscribing here, not in NewReaper, keeps the signal
// thread's round trip off the way to Envoy's start; the entry process, which execs the
// supervisor right after Envoy's start, never runs this part at all.
func (r *Reaper) loop(ctx context.Context) {
	signal.Notify(r.sigs, syscall.SIGCHLD)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	backoff := lifecycle.Backoff{Min: reapRetryMin, Max: reapRetryMax}
	blocked := 0 // passes in a row that an owned zombie blocked
	for {
		if r.pass() {
			retry.Reset(backoff.Delay(blocked))
			blocked++
		} else {
			retry.Stop()
			blocked = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-r.sigs:
		case <-r.kick:
		case <-retry.C:
		}
	}
}

// pass reaps exited children that are not owned, until none is left or an owned one is in
// the way; it reports the latter.
func (r *Reaper) pass() (blocked bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var pidfds map[int]bool // read lazily: most passes never need it
	for range reapPassMax {
		pid, err := peekExited()
		if err != nil || pid <= 0 {
			if err != nil && !errors.Is(err, unix.ECHILD) {
				r.log.Warn("Waiting for orphaned processes failed", "error", err)
			}
			return false
		}
		if !r.owned[pid] && !pidfds[pid] {
			// Refresh on a miss: the child may have been forked after the last scan.
			pidfds = heldPidfds()
		}
		if r.owned[pid] || pidfds[pid] {
			// Normally its owner reaps it within microseconds. Meanwhile look past it, in
			// case it stays (an os/exec child nobody waits for would block reaping forever).
			r.reapListed()
			return true
		}
		r.reap(pid)
	}
	return true
}

// reap reaps pid if it is still an exited child.
func (r *Reaper) reap(pid int) {
	var ws unix.WaitStatus
	got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	if err != nil || got != pid {
		return // its owner reaped it after our look
	}
	r.log.Debug("Reaped orphaned process", "pid", pid, "status", describeWaitStatus(ws))
}

// reapListed reaps the zombie children that are not owned, found in the agent's children
// lists (children.go) instead of asking waitid, which keeps returning the same owned zombie
// first. As in pass, ownership is checked after the child is seen dead, so a pidfd scan that
// misses it is authoritative.
func (r *Reaper) reapListed() {
	self := os.Getpid()
	zombies, ok := zombieChildren(self)
	if !ok {
		zombies = scannedZombies(self)
	}
	var pidfds map[int]bool
	for _, pid := range zombies {
		if r.owned[pid] {
			continue
		}
		if !pidfds[pid] {
			pidfds = heldPidfds()
		}
		if !pidfds[pid] {
			r.reap(pid)
		}
	}
}

// scannedZombies is zombieChildren on a kernel without children lists: it scans all of /proc.
func scannedZombies(self int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var zombies []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state, ok := procStat(pid); ok && ppid == self && state == 'Z' {
			zombies = append(zombies, pid)
		}
	}
	return zombies
}

// procStat reads the parent pid and state letter from /proc/PID/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) S ppid ...": comm may contain spaces and parentheses; the last ')' ends it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// siginfoPidOffset is where si_pid sits in siginfo_t: after three 32-bit ints, at the
// union, which is aligned like a pointer (offset 16 on 64-bit, 12 on 32-bit platforms).
var siginfoPidOffset = max(12, unsafe.Sizeof(uintptr(0))*2)

// peekExited returns the pid of an exited child without reaping it, 0 if none has exited.
func peekExited() (int, error) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return int(*(*int32)(unsafe.Add(unsafe.Pointer(&info), siginfoPidOffset))), nil
	}
}

// heldPidfds returns the pids this process holds pidfds for, from /proc/self/fdinfo.
func heldPidfds() map[int]bool {
	out := map[int]bool{}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return out
	}
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || target != "anon_inode:[pidfd]" {
			continue
		}
		if pid := pidfdPid(e.Name()); pid > 0 {
			out[pid] = true
		}
	}
	return out
}

// pidfdPid reads the "Pid:" line of a pidfd's fdinfo (-1 once the process is reaped).
func pidfdPid(fd string) int {
	f, err := os.Open("/proc/self/fdinfo/" + fd)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			pid, _ := strconv.Atoi(strings.TrimSpace(v))
			return pid
		}
	}
	return 0
}

func describeWaitStatus(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by signal " + strconv.Itoa(int(ws.Signal()))
	}
	return "exited with code " + strconv.Itoa(ws.ExitStatus())
}
