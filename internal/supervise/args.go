package supervise

import (
	"math"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
)

// Args is Envoy's command line, argv[0] included, in the reference order (runtime-reference
// §2.1): -c PATH -l LEVEL [--concurrency N] --drain-time-s S [--disable-hot-restart]
// [--skip-deprecated-logs]. concurrency ≤ 0 leaves --concurrency out (see Concurrency).
func Args(c *env.Config, bootstrapPath string, concurrency int) []string {
	argv := []string{c.Mode.EnvoyPath}
	if bootstrapPath != "" {
		argv = append(argv, "-c", bootstrapPath)
	}
	if c.Agent.LogLevel != "" {
		argv = append(argv, "-l", c.Agent.LogLevel)
	}
	if concurrency > 0 {
		argv = append(argv, "--concurrency", strconv.Itoa(concurrency))
	}
	if s := int64(c.Agent.DrainWait / time.Second); s > 0 {
		argv = append(argv, "--drain-time-s", strconv.FormatInt(s, 10))
	}
	if c.Agent.DisableHotRestart {
		argv = append(argv, "--disable-hot-restart")
	}
	if c.Agent.SkipDeprecatedLogs {
		argv = append(argv, "--skip-deprecated-logs")
	}
	return argv
}

// Concurrency decides Envoy's --concurrency (PRODUCT.md §4): ENVOY_CONCURRENCY when > 0;
// otherwise 1 in relay mode; otherwise ceil(container CPU quota), at least 1, read from the
// cgroup files under cgroupRoot ("" means /sys/fs/cgroup); otherwise 0, meaning no flag, so
// Envoy uses one worker per hardware thread. The quota case is logged at info because it
// changes Envoy's default; a cgroup file that cannot be read is logged at warn.
func Concurrency(c *env.Config, cgroupRoot string, log hclog.Logger) int {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	switch {
	case c.Admin.Concurrency > 0:
		return c.Admin.Concurrency
	case c.Mode.RelayMode:
		return 1
	}
	if cgroupRoot == "" {
		cgroupRoot = DefaultCgroupRoot
	}
	q, err := CPUQuota(cgroupRoot)
	if err != nil {
		log.Warn("Cannot read the container CPU quota; Envoy picks its own concurrency", "error", err)
		return 0
	}
	if q.CPUs <= 0 {
		return 0
	}
	n := max(1, int(math.Ceil(q.CPUs)))
	log.Info("ENVOY_CONCURRENCY is unset and the container has a CPU quota: passing --concurrency",
		"concurrency", n, "cpus", strconv.FormatFloat(q.CPUs, 'f', -1, 64), "source", q.Source)
	return n
}
