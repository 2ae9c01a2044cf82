package supervise

import (
	"slices"
	"strings"
	"testing"
	"time"

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
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Args(loadConfig(t, tc.vars), "/tmp/b.yaml", tc.concurrency)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}

func TestCPUQuota(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		cpus  float64
		err   string
	}{
		{"none", nil, 0, ""},
		{"v2 unlimited", map[string]string{"cpu.max": "max 100000\n"}, 0, ""},
		{"v2 1.5", map[string]string{"cpu.max": "150000 100000\n"}, 1.5, ""},
		{"v2 quarter", map[string]string{"cpu.max": "25000 100000"}, 0.25, ""},
		{"v2 no period", map[string]string{"cpu.max": "200000"}, 2, ""},
		{"v2 wins over v1", map[string]string{"cpu.max": "300000 100000", "cpu/cpu.cfs_quota_us": "100000", "cpu/cpu.cfs_period_us": "100000"}, 3, ""},
		{"v2 garbage", map[string]string{"cpu.max": "lots"}, 0, "not an integer"},
		{"v2 three fields", map[string]string{"cpu.max": "1 2 3"}, 0, "unexpected content"},
		{"v2 zero period", map[string]string{"cpu.max": "1000 0"}, 0, "period"},
		{"v1 unlimited", map[string]string{"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0, ""},
		{"v1 two", map[string]string{"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2, ""},
		{"v1 combined mount", map[string]string{"cpu,cpuacct/cpu.cfs_quota_us": "50000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, 0.5, ""},
		{"v1 missing period", map[string]string{"cpu/cpu.cfs_quota_us": "50000"}, 0, "no such file"},
		{"v1 garbage", map[string]string{"cpu/cpu.cfs_quota_us": "x", "cpu/cpu.cfs_period_us": "100000"}, 0, "not an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := CPUQuota(testenv.WriteTree(t, tc.files))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || q.CPUs != tc.cpus {
				t.Fatalf("CPUQuota = %+v, %v; want %v CPUs", q, err, tc.cpus)
			}
			if tc.cpus > 0 && q.Source == "" {
				t.Error("no source")
			}
		})
	}
}

func TestConcurrency(t *testing.T) {
	quota := testenv.WriteTree(t, map[string]string{"cpu.max": "150000 100000"})
	small := testenv.WriteTree(t, map[string]string{"cpu.max": "10000 100000"})
	broken := testenv.WriteTree(t, map[string]string{"cpu.max": "?"})
	none := t.TempDir()
	for _, tc := range []struct {
		name string
		vars map[string]string
		root string
		want int
		log  string
	}{
		{"ENVOY_CONCURRENCY wins", map[string]string{"ENVOY_CONCURRENCY": "6"}, quota, 6, ""},
		{"relay mode", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}, quota, 1, ""},
		{"ENVOY_CONCURRENCY wins over relay", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "ENVOY_CONCURRENCY": "2"}, quota, 2, ""},
		{"quota rounds up", nil, quota, 2, "CPU quota"},
		{"quota at least 1", nil, small, 1, "CPU quota"},
		{"no quota", nil, none, 0, ""},
		{"zero means unset", map[string]string{"ENVOY_CONCURRENCY": "0"}, quota, 2, "CPU quota"},
		{"unreadable quota", nil, broken, 0, "Cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs testenv.SafeBuffer
			log := hclog.New(&hclog.LoggerOptions{Output: &logs})
			if got := Concurrency(loadConfig(t, tc.vars), tc.root, log); got != tc.want {
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
