package platform

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

func TestReadMemoryLimit(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    int64  // limit in bytes, 0: none
		source  string // relative to the root
		wantErr string
	}{
		{"v2 limit", map[string]string{"memory.max": "536870912\n"}, 536870912, "memory.max", ""},
		{"v2 max", map[string]string{"memory.max": "max\n"}, 0, "memory.max", ""},
		{"v2 wins over v1", map[string]string{"memory.max": "1073741824\n", "memory/memory.limit_in_bytes": "268435456\n"}, 1073741824, "memory.max", ""},
		{"v1 limit", map[string]string{"memory/memory.limit_in_bytes": "268435456\n"}, 268435456, "memory/memory.limit_in_bytes", ""},
		{"v1 unlimited (4 KiB pages)", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0, "memory/memory.limit_in_bytes", ""},
		{"v1 unlimited (64 KiB pages)", map[string]string{"memory/memory.limit_in_bytes": "9223372036854710272\n"}, 0, "memory/memory.limit_in_bytes", ""},
		{"v1 -1", map[string]string{"memory/memory.limit_in_bytes": "-1"}, 0, "memory/memory.limit_in_bytes", ""},
		{"missing", map[string]string{"cpu.max": "max 100000"}, 0, "", "no cgroup memory limit file under"},
		{"v2 garbage", map[string]string{"memory.max": "lots\n"}, 0, "", `memory.max: unexpected content "lots" (want max or a number of bytes)`},
		{"v2 zero", map[string]string{"memory.max": "0\n"}, 0, "", `memory.max: unexpected content "0"`},
		{"v1 garbage", map[string]string{"memory/memory.limit_in_bytes": "1.5G"}, 0, "", `memory.limit_in_bytes: unexpected content "1.5G"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := testenv.WriteTree(t, tc.files)
			got, err := readMemoryLimit(root)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q (got %+v)", err, tc.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := (MemoryLimit{LimitBytes: tc.want, Source: filepath.Join(root, tc.source)}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// The limit is collected only when asked, from Inputs.CgroupRoot; a missing one is a
// warning then, and nothing at all for Capture on a host without a container limit.
func TestCollectMemoryLimit(t *testing.T) {
	limited := testenv.WriteTree(t, map[string]string{"memory.max": "536870912\n"})
	empty := testenv.WriteTree(t, nil)
	in := Inputs{NeedMemoryLimit: true, CgroupRoot: limited, IMDSDisabled: true}

	live := Collect(context.Background(), in)
	if live.Memory == nil || live.Memory.LimitBytes != 536870912 || live.Memory.Source != filepath.Join(limited, "memory.max") {
		t.Fatalf("Memory = %+v", live.Memory)
	}
	if f := Collect(context.Background(), Inputs{CgroupRoot: limited, IMDSDisabled: true}); f.Memory != nil {
		t.Errorf("collected without being asked: %+v", f.Memory)
	}
	f := Collect(context.Background(), Inputs{NeedMemoryLimit: true, CgroupRoot: empty, IMDSDisabled: true})
	if f.Memory != nil || !hasWarning(f.Warnings, "container memory limit: no cgroup memory limit file under "+empty) {
		t.Errorf("missing files: Memory %+v, warnings %q", f.Memory, f.Warnings)
	}
	h, warnings := Capture(context.Background(), Inputs{CgroupRoot: empty, IMDSDisabled: true})
	if h.Memory != nil || hasWarning(warnings, "memory") {
		t.Errorf("Capture without a container limit: %+v, %q", h.Memory, warnings)
	}
	h, _ = Capture(context.Background(), Inputs{CgroupRoot: limited, IMDSDisabled: true})
	if h.Memory == nil || h.Memory.LimitBytes != 536870912 {
		t.Errorf("Capture: %+v", h.Memory)
	}
	// Replayed: the same Facts, and a file without the section behaves like a host without it.
	if got := Replay(h).Collect(context.Background(), in); got.Memory == nil || *got.Memory != *live.Memory {
		t.Errorf("replayed Memory = %+v", got.Memory)
	}
	got := Replay(HostFacts{}).Collect(context.Background(), in)
	if got.Memory != nil || !hasWarning(got.Warnings, "container memory limit: not in the platform facts (memory)") {
		t.Errorf("replay without the section: %+v, %q", got.Memory, got.Warnings)
	}
}

func TestReadCPUQuota(t *testing.T) {
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
			q, err := readCPUQuota(testenv.WriteTree(t, tc.files))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || q.CPUs != tc.cpus {
				t.Fatalf("readCPUQuota = %+v, %v; want %v CPUs", q, err, tc.cpus)
			}
			if tc.cpus > 0 && q.Source == "" {
				t.Error("no source")
			}
		})
	}
}
