package supervise

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// closeOnExecInherited marks every descriptor above stderr close-on-exec, so Envoy gets
// exactly stdin, stdout and stderr, as the reference agent's Envoy does. The agent's own files are
// close-on-exec already (Go opens them so); this catches descriptors the agent inherited
// from whoever started it, which would otherwise leak into Envoy.
func closeOnExecInherited() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	// Kernels before 5.11: one descriptor at a time.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}
