package render

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/env"
)

// coldChildVar names, in a re-executed test binary, the environment TestColdRenderChild renders.
const coldChildVar = "RENDER_COLD_CHILD"

// coldEnvs are the built-in templates' example environments (examples/*.env without the parts
// that reach outside the process).
var coldEnvs = map[string]map[string]string{
	"service-connect": {
		"AWS_REGION":                       "us-west-2",
		"APPMESH_RESOURCE_ARN":             "arn:aws:ecs:us-west-2:123456789012:task-set/demo-cluster/web/ecs-svc/1234567890",
		"APPMESH_XDS_ENDPOINT":             "unix:///tmp/relay_xds.sock",
		"APPMESH_METRIC_EXTENSION_VERSION": "1",
		"ENVOY_ADMIN_MODE":                 "uds",
		"APPNET_CONTAINER_IP_MAPPING":      `{"web":"127.0.0.1"}`,
		"APPNET_LISTENER_PORT_MAPPING":     `{"web":15000}`,
		"NAMESPACE_NAME":                   "demo",
	},
	"appmesh": {
		"AWS_REGION":           "us-west-2",
		"APPMESH_RESOURCE_ARN": "arn:aws:appmesh:us-west-2:123456789012:mesh/foo/virtualNode/bar",
	},
	"relay": {"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "AWS_REGION": "us-west-2"},
}

// BenchmarkColdRender measures what BenchmarkRender leaves out: the first Render in a fresh
// process, as the agent's run does it once per start — template parsing and the protobuf
// runtime's one-time work for every message type the bootstrap uses (descriptors unpacked,
// MessageInfo built) included. Each iteration re-executes the test binary, which renders once
// with the collector off the machine and the garbage collector paused as in the agent
// (internal/startup); cold-ms is that Render's own time, measured inside the child, and cold-cpu-ms
// the CPU time the child's process spent meanwhile (every thread: steadier than cold-ms on a
// loaded machine, but blind to work moved onto another core).
func BenchmarkColdRender(b *testing.B) {
	for _, name := range []string{"service-connect", "appmesh", "relay"} {
		b.Run(name, func(b *testing.B) {
			var total, cpu time.Duration
			n := 0
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestColdRenderChild$", "-test.bench=^$", "-test.count=1")
				cmd.Env = append(os.Environ(), coldChildVar+"="+name, "GOGC=off")
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				_, rest, ok := strings.Cut(string(out), "cold-render-ns ")
				f := strings.Fields(rest)
				if !ok || len(f) < 2 {
					b.Fatalf("child printed no times:\n%s", out)
				}
				wall, err1 := strconv.ParseInt(f[0], 10, 64)
				used, err2 := strconv.ParseInt(f[1], 10, 64)
				if err1 != nil || err2 != nil {
					b.Fatalf("child printed %q", rest)
				}
				total += time.Duration(wall)
				cpu += time.Duration(used)
				n++
			}
			b.ReportMetric(float64(total.Microseconds())/1e3/float64(n), "cold-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(n), "cold-cpu-ms")
		})
	}
}

// TestColdRenderChild is BenchmarkColdRender's child; it does nothing unless that benchmark runs it.
func TestColdRenderChild(t *testing.T) {
	name := os.Getenv(coldChildVar)
	if name == "" {
		t.Skip("run by BenchmarkColdRender")
	}
	cfg, _, err := env.Load(env.MapSource(coldEnvs[name]), env.Options{FileHasContent: func(string) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := processCPU(t)
	start := time.Now()
	if _, err := Render(context.Background(), cfg, Options{Collector: fixedCollector}); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	fmt.Printf("cold-render-ns %d %d\n", wall.Nanoseconds(), (processCPU(t) - cpu0).Nanoseconds())
}

// processCPU is the user and system time of every thread of this process so far.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
