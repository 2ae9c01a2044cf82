package supervise

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Envoy inherits the agent's open-files limit and, when the agent may grant it, NET_ADMIN
// (as the reference agent does before it starts Envoy; Service Connect's tproxy needs it in a non-root Envoy).

// raiseNofile sets the RLIMIT_NOFILE soft limit to the hard limit for the agent and its
// children. It always calls syscall.Setrlimit, even when the soft limit already equals the
// hard one: the Go runtime raises its own soft limit at start-up but restores the original
// in children unless the program sets the limit itself through package syscall.
func raiseNofile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getting RLIMIT_NOFILE: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("setting RLIMIT_NOFILE to %d: %w", lim.Max, err)
	}
	return lim.Max, nil
}

// capSets are the calling thread's capability sets (two 32-bit words each).
type capSets struct {
	hdr  unix.CapUserHeader
	data [2]unix.CapUserData
}

func getCaps() (*capSets, error) {
	c := &capSets{hdr: unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}}
	if err := unix.Capget(&c.hdr, &c.data[0]); err != nil {
		return nil, fmt.Errorf("capget: %w", err)
	}
	return c, nil
}

func (c *capSets) permitted(capability int) bool {
	return c.data[capability/32].Permitted&(1<<(capability%32)) != 0
}

// hasPermittedNetAdmin reports whether NET_ADMIN is in the calling thread's permitted set.
func hasPermittedNetAdmin() bool {
	c, err := getCaps()
	return err == nil && c.permitted(unix.CAP_NET_ADMIN)
}

// raiseAmbient adds capability to the calling thread's inheritable and ambient sets, so a
// program it executes keeps the capability even when it does not run as root. Capabilities
// are per thread: the caller must be locked to the OS thread that then forks Envoy. The
// returned function restores the thread's previous sets.
func raiseAmbient(capability int) (restore func(), err error) {
	c, err := getCaps()
	if err != nil {
		return nil, err
	}
	if !c.permitted(capability) {
		return nil, fmt.Errorf("capability %d is not in the permitted set", capability)
	}
	before := *c
	c.data[capability/32].Inheritable |= 1 << (capability % 32)
	c.hdr.Pid = 0
	if err := unix.Capset(&c.hdr, &c.data[0]); err != nil {
		return nil, fmt.Errorf("raising the inheritable set (needs CAP_SETPCAP or the capability in the permitted set): %w", err)
	}
	restoreSets := func() {
		before.hdr.Pid = 0
		_ = unix.Capset(&before.hdr, &before.data[0])
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(capability), 0, 0); err != nil {
		restoreSets()
		return nil, fmt.Errorf("raising the ambient set: %w", err)
	}
	return func() {
		_ = unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_LOWER, uintptr(capability), 0, 0)
		restoreSets()
	}, nil
}
