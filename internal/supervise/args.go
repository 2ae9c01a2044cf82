package supervise

import (
	"math"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

// Args is Envoy's command line, argv[0] included, in the reference agent's
// order: -c PATH -l LEVEL [--concurrency N] --drain-time-s S [--disable-hot-restart]
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

// Concurrency decides Envoy's --concurrency: ENVOY_CONCURRENCY when > 0;
// otherwise 1 in relay mode; otherwise ceil(container CPU quota), at least 1, the quota being
// the platform fact cpu (render.Result.Facts.CPU: read from the cgroup, or replayed from a facts
// file); otherwise 0, meaning no flag, so Envoy uses one worker per hardware thread. The quota
// case is logged at info because it changes Envoy's default. (A quota that could not be read
// is nil here; the facts warned about it.)
func Concurrency(c *env.Config, cpu *platform.CPUQuota, log hclog.Logger) int {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	switch {
	case c.Admin.Concurrency > 0:
		return c.Admin.Concurrency
	case c.Mode.RelayMode:
		return 1
	}
	if cpu == nil || cpu.CPUs <= 0 {
		return 0
	}
	q := *cpu
	n := max(1, int(math.Ceil(q.CPUs)))
	log.Info("ENVOY_CONCURRENCY is unset and the container has a CPU quota: Envoy runs with --concurrency",
		"concurrency", n, "cpus", strconv.FormatFloat(q.CPUs, 'f', -1, 64), "source", q.Source)
	return n
}
