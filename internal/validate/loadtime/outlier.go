package loadtime

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Outlier detection rules: source/common/upstream/outlier_detection_impl.cc, run when a cluster is created.

func init() {
	register("envoy.config.cluster.v3.OutlierDetection", outlierEjectionTimes)
}

// outlierEjectionTimes: an ejection never lasts less than the base ejection time, so the cap is at least that
// (compared in milliseconds; an unset cap defaults to max(300s, base_ejection_time)).
// Envoy: source/common/upstream/outlier_detection_impl.cc:329 [clusters-ee0e6bd3] (DetectorImpl::create) —
// "outlier detector's max_ejection_time cannot be smaller than base_ejection_time".
func outlierEjectionTimes(c *Context, m protoreflect.Message) {
	od, ok := m.Interface().(*clusterv3.OutlierDetection)
	if !ok || od.GetMaxEjectionTime() == nil {
		return
	}
	base := uint64(30000) // DEFAULT_BASE_EJECTION_TIME_MS
	if od.GetBaseEjectionTime() != nil {
		base = durationMillis(od.GetBaseEjectionTime())
	}
	if max := durationMillis(od.GetMaxEjectionTime()); max < base {
		c.envoyf(c.at("max_ejection_time"), "source/common/upstream/outlier_detection_impl.cc",
			"outlier detector's max_ejection_time cannot be smaller than base_ejection_time (%dms < %dms)", max, base)
	}
}

// durationMillis is Envoy's DurationUtil::durationToMilliseconds for a valid, non-negative Duration (negative ones
// are reported by durationRange).
func durationMillis(d *durationpb.Duration) uint64 {
	if d.GetSeconds() < 0 || d.GetNanos() < 0 {
		return 0
	}
	return uint64(d.GetSeconds())*1000 + uint64(d.GetNanos())/1000000
}
