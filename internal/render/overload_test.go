package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"google.golang.org/protobuf/types/known/anypb"

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
			"heap limit 858993459 bytes (APPNET_ENVOY_HEAP_FRACTION 0.8 × the container's memory limit 1073741824 bytes (ROOT/memory.max)); shrink heap at 95%, stop accepting requests at 98%, checked every 250ms", ""},
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
