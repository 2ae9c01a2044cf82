package render

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cgroupmemv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/cgroup_memory/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestOverloadFromCgroup renders with the real platform collector reading fake cgroup files
// (v2, v1, "max", v1's unlimited value, none at all): the heap limit, where it came from,
// and nothing rendered without a limit.
func TestOverloadFromCgroup(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		fraction string
		wantHeap uint64 // 0: no overload manager
		wantLog  string // substring of Overload.String()
		wantWarn string // substring of a render warning
	}{
		{"v2", map[string]string{"memory.max": "1073741824\n"}, "", 858993459,
			"heap limit 858993459 bytes (APPNET_ENVOY_HEAP_FRACTION 0.8 × the container's memory limit 1073741824 bytes (ROOT/memory.max)), read by envoy.resource_monitors.fixed_heap; shrink heap at 95%, stop accepting requests at 98%, checked every 250ms", ""},
		{"v1", map[string]string{"memory/memory.limit_in_bytes": "536870912\n"}, "0.5", 268435456,
			"heap limit 268435456 bytes (APPNET_ENVOY_HEAP_FRACTION 0.5 × the container's memory limit 536870912 bytes (ROOT/memory/memory.limit_in_bytes))", ""},
		{"v2 max", map[string]string{"memory.max": "max\n"}, "", 0,
			"Envoy overload protection is off: APPNET_ENVOY_HEAP_FROM_CGROUP is true, but the container has no memory limit (ROOT/memory.max)", ""},
		{"v1 unlimited", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, "", 0,
			"the container has no memory limit (ROOT/memory/memory.limit_in_bytes)", ""},
		{"missing", nil, "", 0,
			"the container's memory limit is unknown", "container memory limit: no cgroup memory limit file under ROOT"},
		{"unreadable content", map[string]string{"memory.max": "a lot\n"}, "", 0,
			"the container's memory limit is unknown", `container memory limit: ROOT/memory.max: unexpected content "a lot"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := testenv.WriteTree(t, tc.files)
			vars := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/foo/virtualNode/bar", "AWS_EC2_METADATA_DISABLED": "true",
				"APPNET_ENVOY_PATH": filepath.Join(root, "no-envoy"), "APPNET_ENVOY_HEAP_FROM_CGROUP": "true", "APPNET_ENVOY_HEAP_FRACTION": tc.fraction}
			res, err := renderVars(vars, Options{Collector: platform.System, CgroupRoot: root})
			if err != nil {
				t.Fatal(err)
			}
			om := res.Bootstrap.GetOverloadManager()
			var heap uint64
			if om != nil {
				heap = fixedHeapBytes(t, om.GetResourceMonitors()[0].GetTypedConfig())
			}
			if heap != tc.wantHeap || (om == nil) != (tc.wantHeap == 0) {
				t.Errorf("overload manager %v with heap %d, want heap %d", om, heap, tc.wantHeap)
			}
			if res.Overload == nil || !strings.Contains(res.Overload.String(), strings.ReplaceAll(tc.wantLog, "ROOT", root)) {
				t.Errorf("log line %q, want it to contain %q", res.Overload, tc.wantLog)
			}
			if w := strings.ReplaceAll(tc.wantWarn, "ROOT", root); w != "" && !slices.ContainsFunc(res.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
				t.Errorf("warnings %q lack %q", res.Warnings, w)
			}
		})
	}
}

// fixedHeapBytes is the FixedHeapConfig's max_heap_size_bytes in a resource monitor.
func fixedHeapBytes(t *testing.T, a *anypb.Any) uint64 {
	t.Helper()
	var c fixedheapv3.FixedHeapConfig
	if err := a.UnmarshalTo(&c); err != nil {
		t.Fatal(err)
	}
	return c.GetMaxHeapSizeBytes()
}

func TestOverloadExplicitAndUserFileWins(t *testing.T) {
	base := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/foo/virtualNode/bar", "APPNET_ENVOY_MAX_HEAP_BYTES": "268435456"}
	res, err := renderVars(base, Options{Collector: fixedCollector})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Overload.String(); !strings.HasPrefix(got, "Envoy overload protection: heap limit 268435456 bytes (APPNET_ENVOY_MAX_HEAP_BYTES)") {
		t.Errorf("log line %q", got)
	}
	if res.Bootstrap.GetOverloadManager() == nil {
		t.Fatal("no overload manager")
	}

	dir := t.TempDir()
	user := filepath.Join(dir, "resources.yaml")
	if err := os.WriteFile(user, []byte(`overloadManager:
  refresh_interval: 1s
  resource_monitors:
  - name: envoy.resource_monitors.fixed_heap
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig
      max_heap_size_bytes: 1073741824
`), 0o644); err != nil {
		t.Fatal(err)
	}
	base["ENVOY_RESOURCES_CONFIG_FILE"] = user
	res, err = renderVars(base, Options{Collector: fixedCollector})
	if err != nil {
		t.Fatal(err)
	}
	om := res.Bootstrap.GetOverloadManager()
	if om.GetRefreshInterval().AsDuration().Seconds() != 1 || fixedHeapBytes(t, om.GetResourceMonitors()[0].GetTypedConfig()) != 1<<30 {
		t.Errorf("the user's overload_manager was not used: %v", om)
	}
	if !slices.Contains(res.Warnings, "ENVOY_RESOURCES_CONFIG_FILE replaces the generated overload_manager") {
		t.Errorf("no warning: %q", res.Warnings)
	}
	if got := res.Overload.String(); !res.Overload.Replaced || !strings.Contains(got, "a user file's overload_manager (see the warning above) replaces the one derived from APPNET_ENVOY_MAX_HEAP_BYTES") {
		t.Errorf("log line %q", got)
	}

	// Without a heap variable there is no report, and nothing is rendered.
	res, err = renderVars(map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/foo/virtualNode/bar"}, Options{Collector: fixedCollector})
	if err != nil || res.Overload != nil || res.Bootstrap.GetOverloadManager() != nil {
		t.Errorf("no heap variable: report %v, overload manager %v, err %v", res.Overload, res.Bootstrap.GetOverloadManager(), err)
	}
}

// The collector is asked for the memory limit only when APPNET_ENVOY_HEAP_FROM_CGROUP applies.
func TestMemoryLimitAskedOnlyWhenNeeded(t *testing.T) {
	var asked []bool
	spy := platform.CollectorFunc(func(ctx context.Context, in platform.Inputs) platform.Facts {
		asked = append(asked, in.NeedMemoryLimit)
		return fixedCollector.Collect(ctx, in)
	})
	for _, vars := range []map[string]string{
		{"APPNET_ENVOY_HEAP_FROM_CGROUP": "true"},
		{"APPNET_ENVOY_HEAP_FROM_CGROUP": "true", "APPNET_ENVOY_MAX_HEAP_BYTES": "268435456"},
		{},
	} {
		vars["AWS_REGION"], vars["APPMESH_RESOURCE_ARN"] = "us-west-2", "mesh/foo/virtualNode/bar"
		if _, err := renderVars(vars, Options{Collector: spy}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(asked, []bool{true, false, false}) {
		t.Errorf("NeedMemoryLimit per render: %v, want [true false false]", asked)
	}
}

// TestOverloadMonitorAndTaskMemory: a limit derived from the container or the task is read
// by the cgroup_memory monitor where Envoy has it (1.35+) and the container's cgroup files
// exist, else by fixed_heap; the task's memory limit stands in for a container without one.
func TestOverloadMonitorAndTaskMemory(t *testing.T) {
	const mib = 1 << 20
	limited := &platform.MemoryLimit{LimitBytes: 512 * mib, Source: "/sys/fs/cgroup/memory.max"}
	unlimited := &platform.MemoryLimit{Source: "/sys/fs/cgroup/memory.max"}
	task := &platform.TaskLimits{CPUs: 1, MemoryBytes: 1024 * mib, Source: "ECS task metadata http://169.254.170.2/v4/x/task"}
	const v140, v134 = "abc/1.40.1/Clean/RELEASE/BoringSSL", "abc/1.34.2/Clean/RELEASE/BoringSSL"
	tests := []struct {
		name        string
		vars        map[string]string
		version     string
		memory      *platform.MemoryLimit
		task        *platform.TaskLimits
		wantMonitor string // "": no overload manager
		wantLimit   uint64
		wantLog     string
		wantErr     string
	}{
		{"container limit, Envoy 1.40: cgroup_memory", nil, v140, limited, nil, CgroupMemoryMonitor, 429496729,
			"memory limit 429496729 bytes (APPNET_ENVOY_HEAP_FRACTION 0.8 × the container's memory limit 536870912 bytes (/sys/fs/cgroup/memory.max)), read by envoy.resource_monitors.cgroup_memory", ""},
		{"container limit, Envoy 1.34: fixed_heap", nil, v134, limited, nil, FixedHeapMonitor, 429496729, "heap limit 429496729 bytes", ""},
		{"Envoy version unknown: fixed_heap", nil, platform.UnknownVersion, limited, nil, FixedHeapMonitor, 429496729, "read by envoy.resource_monitors.fixed_heap", ""},
		{"the container's limit wins over the task's", nil, v140, limited, task, CgroupMemoryMonitor, 429496729, "the container's memory limit", ""},
		{"no container limit: the task's", nil, v140, unlimited, task, CgroupMemoryMonitor, 858993459,
			"0.8 × the task's memory limit 1073741824 bytes (ECS task metadata http://169.254.170.2/v4/x/task)), read by envoy.resource_monitors.cgroup_memory", ""},
		{"no cgroup files: the task's, by fixed_heap (Envoy could not read the cgroup)", nil, v140, nil, task, FixedHeapMonitor, 858993459, "the task's memory limit", ""},
		{"no limit anywhere", nil, v140, unlimited, &platform.TaskLimits{CPUs: 2, Source: "t"}, "", 0,
			"the container has no memory limit (/sys/fs/cgroup/memory.max), and no task memory limit is known", ""},
		{"unknown container limit, no task", nil, v140, nil, nil, "", 0, "the container's memory limit is unknown", ""},
		{"explicit heap bytes stay fixed_heap", map[string]string{"APPNET_ENVOY_MAX_HEAP_BYTES": "268435456"}, v140, limited, task, FixedHeapMonitor, 268435456,
			"heap limit 268435456 bytes (APPNET_ENVOY_MAX_HEAP_BYTES)", ""},
		{"a task too small for the fraction", map[string]string{"APPNET_ENVOY_HEAP_FRACTION": "0.01"}, v140, nil, task, "", 0, "",
			"APPNET_ENVOY_HEAP_FRACTION: 0.01 of the task's memory limit (1073741824 bytes, ECS task metadata http://169.254.170.2/v4/x/task)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			collector := platform.CollectorFunc(func(ctx context.Context, in platform.Inputs) platform.Facts {
				f := fixedCollector.Collect(ctx, in)
				f.EnvoyVersion, f.Memory, f.Task = tc.version, tc.memory, tc.task
				return f
			})
			vars := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/foo/virtualNode/bar", "APPNET_ENVOY_HEAP_FROM_CGROUP": "true"}
			maps.Copy(vars, tc.vars)
			res, err := renderVars(vars, Options{Collector: collector})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			om := res.Bootstrap.GetOverloadManager()
			if tc.wantMonitor == "" {
				if om != nil {
					t.Errorf("overload manager %v, want none", om)
				}
			} else {
				mon := om.GetResourceMonitors()[0]
				var limit uint64
				if mon.GetName() == CgroupMemoryMonitor {
					var c cgroupmemv3.CgroupMemoryConfig
					if err := mon.GetTypedConfig().UnmarshalTo(&c); err != nil {
						t.Fatal(err)
					}
					limit = c.GetMaxMemoryBytes()
				} else {
					limit = fixedHeapBytes(t, mon.GetTypedConfig())
				}
				if mon.GetName() != tc.wantMonitor || limit != tc.wantLimit {
					t.Errorf("monitor %s with limit %d, want %s with %d", mon.GetName(), limit, tc.wantMonitor, tc.wantLimit)
				}
				for _, a := range om.GetActions() {
					if got := a.GetTriggers()[0].GetName(); got != tc.wantMonitor {
						t.Errorf("action %s triggered by %s, want %s", a.GetName(), got, tc.wantMonitor)
					}
				}
			}
			if !strings.Contains(res.Overload.String(), tc.wantLog) {
				t.Errorf("log line %q, want it to contain %q", res.Overload, tc.wantLog)
			}
		})
	}
}

// The version probe runs when the overload manager's monitor depends on it, also where the
// mode itself needs no version (the Service Connect relay client).
func TestEnvoyProbedForTheMonitor(t *testing.T) {
	base := map[string]string{"APPMESH_RESOURCE_ARN": "arn:aws:ecs:us-west-2:1:task-set/c/s/ecs-svc/1", "APPMESH_XDS_ENDPOINT": "unix:///tmp/relay.sock"}
	cfg, _, err := env.Load(env.MapSource(base), env.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if PlatformInputs(cfg).ProbeEnvoy {
		t.Error("relay client without a heap variable probes Envoy")
	}
	base["APPNET_ENVOY_HEAP_FROM_CGROUP"] = "true"
	if cfg, _, err = env.Load(env.MapSource(base), env.Options{}); err != nil {
		t.Fatal(err)
	}
	if !PlatformInputs(cfg).ProbeEnvoy {
		t.Error("relay client with APPNET_ENVOY_HEAP_FROM_CGROUP does not probe Envoy's version")
	}
}

// TestEnvoyMinor: major and minor of the first "/DIGITS.DIGITS.DIGITS/" in `envoy --version` output.
func TestEnvoyMinor(t *testing.T) {
	tests := []struct {
		version      string
		major, minor int
		ok           bool
	}{
		{"envoy  version: 0000000000000000000000000000000000000000/1.34.0/Clean/RELEASE/BoringSSL", 1, 34, true},
		{"x/1.35.2/y", 1, 35, true},
		{"/1.2.3/4.5.6/", 1, 2, true},
		{"/01.002.3/", 1, 2, true},
		{"/1.2.3/ /9.9.9/", 1, 2, true},
		{"", 0, 0, false},
		{"/1.35/", 0, 0, false},
		{"/1.35.x/", 0, 0, false},
		{"/1.2.3", 0, 0, false},
		{"1.2.3/", 0, 0, false},
		{"/1..3/", 0, 0, false},
		{"/1.2.3.4/", 0, 0, false},
		{"/a1.2.3/", 0, 0, false},
		{"/１.2.3/", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, ok := envoyMinor(tt.version)
		if major != tt.major || minor != tt.minor || ok != tt.ok {
			t.Errorf("envoyMinor(%q) = %d, %d, %v; want %d, %d, %v", tt.version, major, minor, ok, tt.major, tt.minor, tt.ok)
		}
	}
}
