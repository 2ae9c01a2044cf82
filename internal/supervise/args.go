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
// order: -c PATH -l LEVEL [--component-log-level C:L,...] [--log-format JSON] [--concurrency N]
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

// Concurrency decides Envoy's --concurrency: ENVOY_CONCURRENCY when > 0;
// otherwise 1 in relay mode; otherwise ceil(CPUs), at least 1, of the first limit known:
// the container's CPU quota (the platform fact cpu, read from its cgroup), then the ECS
// task's CPU limit (task metadata Limits.CPU: on EC2 a task-level limit is the task
// cgroup's quota, invisible from inside the container); otherwise 0, meaning no flag, so
// Envoy runs one worker per hardware thread of the host. Facts come from the host or a
// facts file (render --facts). A limit-derived value is logged at info with its source,
// because it changes Envoy's default. (A quota that could not be read is nil here; the
// facts warned about it.)
func Concurrency(c *env.Config, f platform.Facts, log hclog.Logger) int {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	switch {
	case c.Admin.Concurrency > 0:
		return c.Admin.Concurrency
	case c.Mode.RelayMode:
		return 1
	}
	var cpus float64
	var what, source string
	switch {
	case f.CPU != nil && f.CPU.CPUs > 0:
		cpus, what, source = f.CPU.CPUs, "the container's CPU quota", f.CPU.Source
	case f.Task != nil && f.Task.CPUs > 0:
		cpus, what, source = f.Task.CPUs, "the task's CPU limit", f.Task.Source
	default:
		return 0
	}
	n := max(1, int(math.Ceil(cpus)))
	log.Info("ENVOY_CONCURRENCY is unset: Envoy runs with --concurrency from "+what,
		"concurrency", n, "cpus", strconv.FormatFloat(cpus, 'f', -1, 64), "source", source)
	return n
}
