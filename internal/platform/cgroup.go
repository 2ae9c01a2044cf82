package platform

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The container's limits as its cgroup states them: memory (APPNET_ENVOY_HEAP_FROM_CGROUP)
// and CPU (Envoy's --concurrency). One reader for both, one root.

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

// CPUQuota is the container's CPU limit as its cgroup states it.
type CPUQuota struct {
	// CPUs is quota/period (1.5 = one and a half CPUs); 0 means no limit.
	CPUs float64 `json:"cpus"`
	// Source is the file it was read from, e.g. /sys/fs/cgroup/cpu.max.
	Source string `json:"source"`
}

// cgroupV1Dirs are the usual mount points of the v1 cpu controller under the root.
var cgroupV1Dirs = []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"}

// readCPUQuota reads the CPU quota of the cgroup mounted at root: cgroup v2 cpu.max
// ("max 100000" or "150000 100000"), else v1 cpu.cfs_quota_us / cpu.cfs_period_us (quota -1
// is unlimited). No cgroup file at all is not an error: the result is then zero, without a
// Source.
//
// Inside a container these are the container's own files (its cgroup namespace, or Docker's
// bind mount for v1); a limit set only on a parent cgroup, invisible from inside, is not seen.
func readCPUQuota(root string) (CPUQuota, error) {
	v2 := filepath.Join(root, "cpu.max")
	b, err := os.ReadFile(v2)
	switch {
	case err == nil:
		cpus, err := parseCPUMax(string(b))
		if err != nil {
			return CPUQuota{}, fmt.Errorf("%s: %w", v2, err)
		}
		return CPUQuota{CPUs: cpus, Source: v2}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return CPUQuota{}, err
	}
	for _, d := range cgroupV1Dirs {
		qp := filepath.Join(root, d, "cpu.cfs_quota_us")
		qb, err := os.ReadFile(qp)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return CPUQuota{}, err
		}
		pp := filepath.Join(root, d, "cpu.cfs_period_us")
		pb, err := os.ReadFile(pp)
		if err != nil {
			return CPUQuota{}, err
		}
		cpus, err := quotaRatio(strings.TrimSpace(string(qb)), strings.TrimSpace(string(pb)))
		if err != nil {
			return CPUQuota{}, fmt.Errorf("%s, %s: %w", qp, pp, err)
		}
		return CPUQuota{CPUs: cpus, Source: qp}, nil
	}
	return CPUQuota{}, nil
}

// parseCPUMax reads cgroup v2 cpu.max: "$MAX $PERIOD", MAX being "max" or microseconds; a
// missing period means the kernel default, 100000.
func parseCPUMax(s string) (float64, error) {
	f := strings.Fields(s)
	switch len(f) {
	case 1:
		f = append(f, "100000")
	case 2:
	default:
		return 0, fmt.Errorf("unexpected content %q", strings.TrimSpace(s))
	}
	if f[0] == "max" {
		return 0, nil
	}
	return quotaRatio(f[0], f[1])
}

// quotaRatio is quota/period in CPUs; a negative quota (v1's -1) is unlimited.
func quotaRatio(quota, period string) (float64, error) {
	q, err := strconv.ParseInt(quota, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("quota %q is not an integer", quota)
	}
	if q < 0 {
		return 0, nil
	}
	p, err := strconv.ParseInt(period, 10, 64)
	if err != nil || p <= 0 {
		return 0, fmt.Errorf("period %q is not a positive integer", period)
	}
	if q == 0 {
		return 0, fmt.Errorf("quota 0 is not a valid limit")
	}
	return float64(q) / float64(p), nil
}

// ReadMemoryLimit reads the container's memory limit under root (DefaultCgroupRoot when
// empty), as the facts do: for messages at run time, such as an OOM kill's.
func ReadMemoryLimit(root string) (MemoryLimit, error) {
	return readMemoryLimit(cmp.Or(root, DefaultCgroupRoot))
}

// ReadOOMKills reads how many processes of the container the kernel's OOM killer has
// killed: the oom_kill count of cgroup v2 memory.events, else of v1
// memory/memory.oom_control (Linux 4.13 and later). An error when neither says.
func ReadOOMKills(root string) (uint64, error) {
	root = cmp.Or(root, DefaultCgroupRoot)
	var firstErr error
	for _, p := range []string{filepath.Join(root, "memory.events"), filepath.Join(root, "memory", "memory.oom_control")} {
		b, err := os.ReadFile(p)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
				n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				if err != nil {
					return 0, fmt.Errorf("%s: oom_kill %q is not a count", p, strings.TrimSpace(v))
				}
				return n, nil
			}
		}
		return 0, fmt.Errorf("%s has no oom_kill count", p)
	}
	return 0, firstErr
}
