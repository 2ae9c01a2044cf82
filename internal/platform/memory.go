package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultCgroupRoot is where the container's cgroup file systems are mounted.
const DefaultCgroupRoot = "/sys/fs/cgroup"

// MemoryLimit is the container's memory limit as its cgroup states it.
type MemoryLimit struct {
	// LimitBytes is the limit in bytes; 0 means none ("max" in cgroup v2, v1's
	// "unlimited" page-counter maximum).
	LimitBytes int64 `json:"limitBytes"`
	// Source is the file it was read from, e.g. /sys/fs/cgroup/memory.max.
	Source string `json:"source"`
}

// Unlimited reports a cgroup without a memory limit.
func (m MemoryLimit) Unlimited() bool { return m.LimitBytes == 0 }

// errNoMemoryCgroup is the answer of a host without either cgroup file: no
// container limit is visible (outside a container, or a cgroup v2 root).
var errNoMemoryCgroup = errors.New("no cgroup memory limit file")

// v1Unlimited is where cgroup v1 limits start to mean "no limit": the kernel
// reports its page-counter maximum (9223372036854771712 with 4 KiB pages).
const v1Unlimited = int64(1) << 62

// readMemoryLimit reads the memory limit of the cgroup mounted at root: v2
// memory.max ("max" or bytes), else v1 memory/memory.limit_in_bytes. Inside a
// container these are the container's own files; a limit set only on a parent
// cgroup (an ECS task-level limit without a container limit) is not visible.
func readMemoryLimit(root string) (MemoryLimit, error) {
	v2 := filepath.Join(root, "memory.max")
	b, err := os.ReadFile(v2)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return MemoryLimit{Source: v2}, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return MemoryLimit{}, fmt.Errorf("%s: unexpected content %q (want max or a number of bytes)", v2, s)
		}
		return MemoryLimit{LimitBytes: n, Source: v2}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return MemoryLimit{}, err
	}
	v1 := filepath.Join(root, "memory", "memory.limit_in_bytes")
	b, err = os.ReadFile(v1)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return MemoryLimit{}, fmt.Errorf("%w under %s (neither memory.max nor memory/memory.limit_in_bytes)", errNoMemoryCgroup, root)
	case err != nil:
		return MemoryLimit{}, err
	}
	s := strings.TrimSpace(string(b))
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) || (err == nil && (n == -1 || n >= v1Unlimited)):
		return MemoryLimit{Source: v1}, nil
	case err != nil || n <= 0:
		return MemoryLimit{}, fmt.Errorf("%s: unexpected content %q (want a number of bytes)", v1, s)
	}
	return MemoryLimit{LimitBytes: n, Source: v1}, nil
}
