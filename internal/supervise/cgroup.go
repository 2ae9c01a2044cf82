package supervise

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

// Quota is a CPU limit: CPUs is quota/period (1.5 = one and a half CPUs), 0 when unlimited.
// Source names the file(s) it came from.
type Quota struct {
	CPUs   float64
	Source string
}

// cgroupV1Dirs are the usual mount points of the v1 cpu controller under the root.
var cgroupV1Dirs = []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"}

// CPUQuota reads the CPU quota of the cgroup mounted at root: cgroup v2 cpu.max
// ("max 100000" or "150000 100000"), else v1 cpu.cfs_quota_us / cpu.cfs_period_us (quota -1
// is unlimited). No cgroup file at all is not an error: the result is then zero.
//
// Inside a container these are the container's own files (its cgroup namespace, or Docker's
// bind mount for v1); a limit set only on a parent cgroup, invisible from inside, is not seen.
func CPUQuota(root string) (Quota, error) {
	v2 := filepath.Join(root, "cpu.max")
	b, err := os.ReadFile(v2)
	switch {
	case err == nil:
		cpus, err := parseCPUMax(string(b))
		if err != nil {
			return Quota{}, fmt.Errorf("%s: %w", v2, err)
		}
		return Quota{CPUs: cpus, Source: v2}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Quota{}, err
	}
	for _, d := range cgroupV1Dirs {
		qp := filepath.Join(root, d, "cpu.cfs_quota_us")
		qb, err := os.ReadFile(qp)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Quota{}, err
		}
		pp := filepath.Join(root, d, "cpu.cfs_period_us")
		pb, err := os.ReadFile(pp)
		if err != nil {
			return Quota{}, err
		}
		cpus, err := quotaRatio(strings.TrimSpace(string(qb)), strings.TrimSpace(string(pb)))
		if err != nil {
			return Quota{}, fmt.Errorf("%s, %s: %w", qp, pp, err)
		}
		return Quota{CPUs: cpus, Source: qp}, nil
	}
	return Quota{}, nil
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
