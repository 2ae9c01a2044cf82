package render

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

// OverloadData is Envoy's overload manager (overload.yaml.tmpl): one memory resource monitor
// and the actions of Envoy's edge best-practice configuration.
type OverloadData struct {
	// Monitor is the resource monitor: FixedHeapMonitor (Envoy's heap against MaxHeapBytes),
	// or CgroupMemoryMonitor (the container cgroup's memory use against MaxHeapBytes; Envoy
	// 1.35 and later).
	Monitor         string
	MaxHeapBytes    uint64        // the monitor's limit in bytes: max_heap_size_bytes, or max_memory_bytes
	ShrinkHeapAt    float64       // envoy.overload_actions.shrink_heap threshold
	StopAcceptingAt float64       // envoy.overload_actions.stop_accepting_requests threshold
	RefreshInterval time.Duration // how often the overload manager reads the monitor
}

// The resource monitors the overload manager may use.
const (
	FixedHeapMonitor    = "envoy.resource_monitors.fixed_heap"
	CgroupMemoryMonitor = "envoy.resource_monitors.cgroup_memory"
)

// cgroupMemorySince is the first Envoy release with the cgroup_memory resource monitor
// (changelogs/1.35.0.yaml, new_features, area resource_monitors).
const cgroupMemorySince = 35

// The thresholds and refresh interval of Envoy's edge proxy best practices
// (docs/root/configuration/best_practices/edge.rst).
const (
	shrinkHeapThreshold    = 0.95
	stopAcceptingThreshold = 0.98
	overloadRefresh        = 250 * time.Millisecond
)

// minHeapBytes is the smallest heap limit rendered, as for APPNET_ENVOY_MAX_HEAP_BYTES: below
// it Envoy would refuse requests from the start.
const minHeapBytes = 16 << 20

// Overload says how the overload manager was decided, for the start-up log: the numbers and
// where they came from, or why there is none.
type Overload struct {
	// MaxHeapBytes is the rendered limit; 0 when none was rendered.
	MaxHeapBytes uint64
	// Monitor is the rendered resource monitor (FixedHeapMonitor or CgroupMemoryMonitor).
	Monitor string
	// Source explains MaxHeapBytes, or why nothing was rendered.
	Source string
	// Replaced is set when a user file's overload_manager replaced the generated one.
	Replaced bool
}

// String is the start-up log line.
func (o *Overload) String() string {
	switch {
	case o.Replaced:
		return "Envoy overload protection: a user file's overload_manager (see the warning above) replaces the one derived from " + o.Source
	case o.MaxHeapBytes == 0:
		return "Envoy overload protection is off: " + o.Source
	}
	what := "heap limit"
	if o.Monitor == CgroupMemoryMonitor {
		what = "memory limit"
	}
	return fmt.Sprintf("Envoy overload protection: %s %d bytes (%s), read by %s; shrink heap at %g%%, stop accepting requests at %g%%, checked every %s",
		what, o.MaxHeapBytes, o.Source, o.Monitor, shrinkHeapThreshold*100, stopAcceptingThreshold*100, overloadRefresh)
}

// overloadPlan derives the overload manager from APPNET_ENVOY_MAX_HEAP_BYTES (the fixed-heap
// monitor), or from APPNET_ENVOY_HEAP_FRACTION times a memory limit: the container's, else
// the ECS task's (a task-level limit is the task cgroup's, invisible from inside the
// container). A limit derived so is read by the cgroup_memory monitor where Envoy has it
// (1.35+, by the version probe) and the container's cgroup memory files exist: it sees what
// the kernel's OOM killer sees, which the heap alone under-reports (Envoy #38718); otherwise
// by the fixed-heap monitor. Both nil when neither variable asks for one; no limit, or an
// unknown one, renders nothing and says why.
func overloadPlan(c *env.Config, f platform.Facts) (*OverloadData, *Overload, error) {
	o := c.Overload
	if o.MaxHeapBytes != nil {
		return overloadData(uint64(*o.MaxHeapBytes), FixedHeapMonitor, "APPNET_ENVOY_MAX_HEAP_BYTES")
	}
	if !o.FromCgroup {
		return nil, nil, nil
	}
	var limit int64
	var what, source string
	switch {
	case f.Memory != nil && !f.Memory.Unlimited():
		limit, what, source = f.Memory.LimitBytes, "the container's memory limit", f.Memory.Source
	case f.Task != nil && f.Task.MemoryBytes > 0:
		limit, what, source = f.Task.MemoryBytes, "the task's memory limit", f.Task.Source
	case f.Memory == nil:
		return nil, &Overload{Source: "APPNET_ENVOY_HEAP_FROM_CGROUP is true, but the container's memory limit is unknown (see the warning above), and no task memory limit is known"}, nil
	default:
		return nil, &Overload{Source: "APPNET_ENVOY_HEAP_FROM_CGROUP is true, but the container has no memory limit (" + f.Memory.Source + "), and no task memory limit is known"}, nil
	}
	heap := uint64(math.Floor(float64(limit) * o.Fraction))
	fraction := strconv.FormatFloat(o.Fraction, 'g', -1, 64)
	if heap < minHeapBytes {
		return nil, nil, fmt.Errorf("APPNET_ENVOY_HEAP_FRACTION: %s of %s (%d bytes, %s) is %d bytes, less than the 16 MiB Envoy needs to accept requests at all",
			fraction, what, limit, source, heap)
	}
	monitor := FixedHeapMonitor
	if f.Memory != nil && envoyAtLeast(f.EnvoyVersion, 1, cgroupMemorySince) {
		monitor = CgroupMemoryMonitor
	}
	return overloadData(heap, monitor, fmt.Sprintf("APPNET_ENVOY_HEAP_FRACTION %s × %s %d bytes (%s)", fraction, what, limit, source))
}

func overloadData(limit uint64, monitor, source string) (*OverloadData, *Overload, error) {
	d := &OverloadData{Monitor: monitor, MaxHeapBytes: limit, ShrinkHeapAt: shrinkHeapThreshold, StopAcceptingAt: stopAcceptingThreshold, RefreshInterval: overloadRefresh}
	return d, &Overload{MaxHeapBytes: limit, Monitor: monitor, Source: source}, nil
}

// envoyAtLeast reports whether `envoy --version` output names major.minor or later; false
// when the version is unknown.
func envoyAtLeast(version string, major, minor int) bool {
	ma, mi, ok := envoyMinor(version)
	return ok && (ma > major || ma == major && mi >= minor)
}

// noteReplacedOverload marks the report when a user fragment replaced the generated
// overload_manager (the merge warns about it; the user's wins).
func noteReplacedOverload(o *Overload, before *yaml.Node, doc *yaml.Node) {
	if o == nil || before == nil || lookup(doc, "overload_manager") == before {
		return
	}
	o.Replaced, o.MaxHeapBytes = true, 0
}
