package supervise

import (
	"math"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

// Args is Envoy's command line, argv[0] included, in the reference order (runtime-reference
// §2.1): -c PATH -l LEVEL [--component-log-level C:L,...] [--log-format JSON] [--concurrency N]
// --drain-time-s S [--disable-hot-restart] [--skip-deprecated-logs]. The two optional log flags
// come from ENVOY_COMPONENT_LOG_LEVEL and APPNET_LOG_FORMAT=json. concurrency ≤ 0 leaves
// --concurrency out (see Concurrency).
func Args(c *env.Config, bootstrapPath string, concurrency int) []string {
	argv := []string{c.Mode.EnvoyPath}
	if bootstrapPath != "" {
		argv = append(argv, "-c", bootstrapPath)
	}
	if c.Agent.LogLevel != "" {
		argv = append(argv, "-l", c.Agent.LogLevel)
	}
	if len(c.Agent.ComponentLevels) > 0 {
		argv = append(argv, "--component-log-level", c.Agent.ComponentLevels.String())
	}
	if c.Logging.Format == "json" {
		argv = append(argv, "--log-format", EnvoyJSONLogFormat)
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

// EnvoyJSONLogFormat is Envoy's --log-format with APPNET_LOG_FORMAT=json: one JSON object per
// line with the keys of the agent's own JSON lines (internal/logging): time (RFC 3339 with
// milliseconds and the UTC offset), level, logger, pid, message, and Envoy's component,
// thread and source location. %j is Envoy's JSON-escaped message. --log-format-escaped is
// deliberately not passed: Envoy applies it (absl::CEscape) to the whole formatted line, which
// would escape the pattern's own quotes and break every line's JSON.
const EnvoyJSONLogFormat = `{"time":"%Y-%m-%dT%T.%e%z","level":"%l","logger":"envoy","pid":%P,"message":"%j",` +
	`"component":"%n","thread":%t,"source":"%g:%#"}`

// Concurrency decides Envoy's --concurrency (PRODUCT.md §4): ENVOY_CONCURRENCY when > 0;
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
