//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// pdeathsig and inheritedFDs are captured in init, on the main thread, before the runtime
// or this program opens anything: the parent-death signal is per thread, and later
// descriptors (epoll, the record file, sockets) would hide what the supervisor passed.
var (
	pdeathsig    = -1
	inheritedFDs = map[string]string{}
)

const prGetPdeathsig = 2

func init() {
	var sig int32
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetPdeathsig, uintptr(unsafe.Pointer(&sig)), 0); errno == 0 {
		pdeathsig = int(sig)
	}
	for fd := 0; fd < 256; fd++ {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); errno != 0 {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		if err != nil {
			target = "?"
		}
		if strings.HasPrefix(target, "/sys/fs/cgroup/") {
			continue // the Go runtime keeps CPU-quota files open to track GOMAXPROCS
		}
		inheritedFDs[strconv.Itoa(fd)] = target
	}
}

func getsid() int {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
	if errno != 0 {
		return -1
	}
	return int(sid)
}

// kernelSigaction is the kernel's struct sigaction on amd64 and arm64 (handler, flags,
// restorer, mask). Only the handler is set, to SIG_DFL.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// dieBySignal ends the process with sig's default action, so the supervisor's wait status
// says "killed by sig" exactly as for a crashing Envoy. The Go runtime would otherwise turn
// many signals into exit code 2, so its handler is replaced directly in the kernel.
func dieBySignal(sig syscall.Signal, keepCore bool) {
	if !keepCore {
		// Avoid core files in test directories; WCOREDUMP is then false.
		_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	}
	if sig != syscall.SIGKILL && sig != syscall.SIGSTOP && canResetInKernel {
		sa := kernelSigaction{}
		_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
	}
	_ = syscall.Kill(os.Getpid(), sig)
}
