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
	for _, tc := range []struct {
		name string
		vars map[string]string
		cpu  *platform.CPUQuota
		want int
		log  string
	}{
		{"ENVOY_CONCURRENCY wins", map[string]string{"ENVOY_CONCURRENCY": "6"}, quota, 6, ""},
		{"relay mode", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}, quota, 1, ""},
		{"ENVOY_CONCURRENCY wins over relay", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "ENVOY_CONCURRENCY": "2"}, quota, 2, ""},
		{"quota rounds up", nil, quota, 2, "CPU quota"},
		{"quota at least 1", nil, small, 1, "CPU quota"},
		{"no quota", nil, unlimited, 0, ""},
		{"quota unknown", nil, nil, 0, ""},
		{"zero means unset", map[string]string{"ENVOY_CONCURRENCY": "0"}, quota, 2, "CPU quota"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs testenv.SafeBuffer
			log := hclog.New(&hclog.LoggerOptions{Output: &logs})
			if got := Concurrency(loadConfig(t, tc.vars), tc.cpu, log); got != tc.want {
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
