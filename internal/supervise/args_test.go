package supervise

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/platform"
	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/testenv"
)

func loadConfig(t *testing.T, vars map[string]string) *env.Config {
	t.Helper()
	c, _, err := env.Load(env.MapSource(vars), env.Options{FileHasContent: func(string) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestArgs(t *testing.T) {
	base := []string{"/usr/bin/envoy", "-c", "/tmp/b.yaml"}
	for _, tc := range []struct {
		name        string
		vars        map[string]string
		concurrency int
		want        []string
	}{
		{"defaults", nil, 0, append(base, "-l", "info", "--drain-time-s", "20", "--disable-hot-restart", "--skip-deprecated-logs")},
		{"concurrency", nil, 3, append(base, "-l", "info", "--concurrency", "3", "--drain-time-s", "20", "--disable-hot-restart", "--skip-deprecated-logs")},
		{"level", map[string]string{"ENVOY_LOG_LEVEL": "DEBUG"}, 0, append(base, "-l", "debug", "--drain-time-s", "20", "--disable-hot-restart", "--skip-deprecated-logs")},
		{"drain", map[string]string{"LISTENER_DRAIN_WAIT_TIME_S": "7"}, 0, append(base, "-l", "info", "--drain-time-s", "7", "--disable-hot-restart", "--skip-deprecated-logs")},
		{"hot restart", map[string]string{"DISABLE_HOT_RESTART": "false"}, 0, append(base, "-l", "info", "--drain-time-s", "20", "--skip-deprecated-logs")},
		{"deprecated logs", map[string]string{"ENVOY_SKIP_DEPRECATED_LOGS": "false"}, 0, append(base, "-l", "info", "--drain-time-s", "20", "--disable-hot-restart")},
		{"path", map[string]string{"APPNET_ENVOY_PATH": "/opt/envoy"}, 0, append([]string{"/opt/envoy", "-c", "/tmp/b.yaml"}, "-l", "info", "--drain-time-s", "20", "--disable-hot-restart", "--skip-deprecated-logs")},
		{"component levels", map[string]string{"ENVOY_COMPONENT_LOG_LEVEL": "upstream:debug, connection:TRACE"}, 0,
			append(base, "-l", "info", "--component-log-level", "upstream:debug,connection:trace", "--drain-time-s", "20", "--disable-hot-restart", "--skip-deprecated-logs")},
		{"json logs", map[string]string{"APPNET_LOG_FORMAT": "json"}, 2,
			append(base, "-l", "info", "--log-format", EnvoyJSONLogFormat, "--concurrency", "2", "--drain-time-s", "20", "--disable-hot-restart", "--skip-deprecated-logs")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Args(loadConfig(t, tc.vars), "/tmp/b.yaml", tc.concurrency)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}

func TestConcurrency(t *testing.T) {
	quota := &platform.CPUQuota{CPUs: 1.5, Source: "/sys/fs/cgroup/cpu.max"}
	small := &platform.CPUQuota{CPUs: 0.1, Source: "/sys/fs/cgroup/cpu.max"}
	unlimited := &platform.CPUQuota{Source: "/sys/fs/cgroup/cpu.max"}
	task := &platform.TaskLimits{CPUs: 2.5, MemoryBytes: 1 << 30, Source: "ECS task metadata http://169.254.170.2/v4/x/task"}
	quarter := &platform.TaskLimits{CPUs: 0.25, Source: "ECS task metadata"}
	for _, tc := range []struct {
		name string
		vars map[string]string
		cpu  *platform.CPUQuota
		task *platform.TaskLimits
		want int
		log  string
	}{
		{"ENVOY_CONCURRENCY wins", map[string]string{"ENVOY_CONCURRENCY": "6"}, quota, task, 6, ""},
		{"relay mode", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}, quota, task, 1, ""},
		{"ENVOY_CONCURRENCY wins over relay", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "ENVOY_CONCURRENCY": "2"}, quota, nil, 2, ""},
		{"quota rounds up", nil, quota, nil, 2, "the container's CPU quota"},
		{"quota at least 1", nil, small, nil, 1, "CPU quota"},
		{"the quota wins over the task", nil, quota, task, 2, "source=/sys/fs/cgroup/cpu.max"},
		{"no quota", nil, unlimited, nil, 0, ""},
		{"quota unknown", nil, nil, nil, 0, ""},
		{"no quota: the task's CPU limit, rounded up", nil, unlimited, task, 3, "the task's CPU limit"},
		{"quota unknown: the task's", nil, nil, task, 3, "source=\"ECS task metadata http://169.254.170.2/v4/x/task\""},
		{"a quarter vCPU: 1", nil, nil, quarter, 1, "cpus=0.25"},
		{"task without a CPU limit", nil, nil, &platform.TaskLimits{MemoryBytes: 1 << 30}, 0, ""},
		{"ENVOY_CONCURRENCY wins over the task", map[string]string{"ENVOY_CONCURRENCY": "4"}, nil, task, 4, ""},
		{"zero means unset", map[string]string{"ENVOY_CONCURRENCY": "0"}, quota, nil, 2, "CPU quota"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs testenv.SafeBuffer
			log := hclog.New(&hclog.LoggerOptions{Output: &logs})
			if got := Concurrency(loadConfig(t, tc.vars), platform.Facts{CPU: tc.cpu, Task: tc.task}, log); got != tc.want {
				t.Errorf("Concurrency = %d, want %d", got, tc.want)
			}
			if tc.log != "" && !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log %q lacks %q", logs.String(), tc.log)
			}
			if tc.log == "" && logs.String() != "" {
				t.Errorf("unexpected log %q", logs.String())
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	s := New(Options{Argv: []string{"x"}})
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, s.backoff(n))
	}
	ms := time.Millisecond
	want := []time.Duration{0, 250 * ms, 500 * ms, 1000 * ms, 2000 * ms, 4000 * ms, 8000 * ms, 10000 * ms, 10000 * ms}
	if !slices.Equal(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
	if d := New(Options{Argv: []string{"x"}, BackoffInitial: -1}).backoff(5); d != 0 {
		t.Errorf("negative BackoffInitial: %v", d)
	}
}
