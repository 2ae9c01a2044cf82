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

// OverloadData is Envoy's overload manager (overload.yaml.tmpl): the fixed-heap resource
// monitor and the actions of Envoy's edge best-practice configuration.
type OverloadData struct {
	MaxHeapBytes    uint64        // the fixed_heap monitor's heap limit in bytes
	ShrinkHeapAt    float64       // envoy.overload_actions.shrink_heap threshold
	StopAcceptingAt float64       // envoy.overload_actions.stop_accepting_requests threshold
	RefreshInterval time.Duration // how often the overload manager reads the monitor
}

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
	// MaxHeapBytes is the rendered heap limit; 0 when none was rendered.
	MaxHeapBytes uint64
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
	return fmt.Sprintf("Envoy overload protection: heap limit %d bytes (%s); shrink heap at %g%%, stop accepting requests at %g%%, checked every %s",
		o.MaxHeapBytes, o.Source, shrinkHeapThreshold*100, stopAcceptingThreshold*100, overloadRefresh)
}

// overloadPlan derives the overload manager from APPNET_ENVOY_MAX_HEAP_BYTES, or from the
// container's memory limit times APPNET_ENVOY_HEAP_FRACTION. Both nil when neither variable
// asks for one; no limit, or an unknown one, renders nothing and says why.
func overloadPlan(c *env.Config, f platform.Facts) (*OverloadData, *Overload, error) {
	var heap uint64
	var source string
	switch o := c.Overload; {
	case o.MaxHeapBytes != nil:
		heap, source = uint64(*o.MaxHeapBytes), "APPNET_ENVOY_MAX_HEAP_BYTES"
	case !o.FromCgroup:
		return nil, nil, nil
	case f.Memory == nil:
		return nil, &Overload{Source: "APPNET_ENVOY_HEAP_FROM_CGROUP is true, but the container's memory limit is unknown (see the warning above)"}, nil
	case f.Memory.Unlimited():
		return nil, &Overload{Source: "APPNET_ENVOY_HEAP_FROM_CGROUP is true, but the container has no memory limit (" + f.Memory.Source + ")"}, nil
	default:
		heap = uint64(math.Floor(float64(f.Memory.LimitBytes) * o.Fraction))
		fraction := strconv.FormatFloat(o.Fraction, 'g', -1, 64)
		source = fmt.Sprintf("APPNET_ENVOY_HEAP_FRACTION %s × the container's memory limit %d bytes (%s)", fraction, f.Memory.LimitBytes, f.Memory.Source)
		if heap < minHeapBytes {
			return nil, nil, fmt.Errorf("APPNET_ENVOY_HEAP_FRACTION: %s of the container's memory limit (%d bytes, %s) is %d bytes, less than the 16 MiB Envoy needs to accept requests at all",
				fraction, f.Memory.LimitBytes, f.Memory.Source, heap)
		}
	}
	d := &OverloadData{MaxHeapBytes: heap, ShrinkHeapAt: shrinkHeapThreshold, StopAcceptingAt: stopAcceptingThreshold, RefreshInterval: overloadRefresh}
	return d, &Overload{MaxHeapBytes: heap, Source: source}, nil
}

// noteReplacedOverload marks the report when a user fragment replaced the generated
// overload_manager (the merge warns about it; the user's wins).
func noteReplacedOverload(o *Overload, before *yaml.Node, doc *yaml.Node) {
	if o == nil || before == nil || lookup(doc, "overload_manager") == before {
		return
	}
	o.Replaced, o.MaxHeapBytes = true, 0
}
