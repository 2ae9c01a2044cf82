package render

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestCPUQuotaIsAFact: the CPU quota that Envoy's --concurrency depends on comes with the
// platform facts, for a generated bootstrap and for an existing ENVOY_CONFIG_FILE (then only
// the quota is asked for), and is not asked for when ENVOY_CONCURRENCY or relay mode decides.
func TestCPUQuotaIsAFact(t *testing.T) {
	root := testenv.WriteTree(t, map[string]string{"cpu.max": "250000 100000\n"})
	existing := filepath.Join(t.TempDir(), "envoy.yaml")
	boot := "admin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: 9901}\n"
	if err := os.WriteFile(existing, []byte(boot), 0o600); err != nil {
		t.Fatal(err)
	}
	generated := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/foo/virtualNode/bar",
		"AWS_EC2_METADATA_DISABLED": "true", "APPNET_ENVOY_PATH": filepath.Join(root, "no-envoy")}
	fixed := maps.Clone(generated)
	fixed["ENVOY_CONCURRENCY"] = "4"
	for _, tc := range []struct {
		name     string
		vars     map[string]string
		wantCPUs float64 // 0: no quota fact
		nodeInfo bool    // uname and interfaces asked for
		noFacts  bool    // no facts asked for at all
	}{
		{"generated", generated, 2.5, true, false},
		{"existing file", map[string]string{"ENVOY_CONFIG_FILE": existing}, 2.5, false, false},
		{"ENVOY_CONCURRENCY set", fixed, 0, true, false},
		{"existing file, ENVOY_CONCURRENCY set", map[string]string{"ENVOY_CONFIG_FILE": existing, "ENVOY_CONCURRENCY": "4"}, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var asked []platform.Inputs
			collector := platform.CollectorFunc(func(ctx context.Context, in platform.Inputs) platform.Facts {
				mu.Lock()
				asked = append(asked, in)
				mu.Unlock()
				return platform.Collect(ctx, in)
			})
			res, err := renderVars(tc.vars, Options{Collector: collector, CgroupRoot: root})
			if err != nil {
				t.Fatal(err)
			}
			switch cpu := res.Facts.CPU; {
			case tc.wantCPUs == 0 && cpu != nil:
				t.Errorf("CPU quota fact %+v, want none", cpu)
			case tc.wantCPUs != 0 && (cpu == nil || cpu.CPUs != tc.wantCPUs || cpu.Source != filepath.Join(root, "cpu.max")):
				t.Errorf("CPU quota fact %+v, want %v CPUs from %s/cpu.max", cpu, tc.wantCPUs, root)
			}
			if (len(asked) == 0) != tc.noFacts {
				t.Errorf("facts asked %d times", len(asked))
			}
			for _, in := range asked {
				if in.SkipNodeInfo == tc.nodeInfo {
					t.Errorf("facts asked with SkipNodeInfo %v", in.SkipNodeInfo)
				}
			}
		})
	}
}
