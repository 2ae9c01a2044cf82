package loadtime

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Duration rules: source/common/protobuf/utility.cc (MessageUtil::validateDurationFields). Envoy checks every
// google.protobuf.Duration of the bootstrap when it validates it at load, and of every extension's config when the
// extension's factory validates that (MessageUtil::downcastAndValidate), more strictly than protobuf: no negative
// part, and no more than about 292 years, so that milliseconds and nanoseconds fit 64 bits. Protobuf's own range
// (±10000 years) is the decoder's.

const durationSource = "source/common/protobuf/utility.cc"

// maxDurationSeconds is Envoy's kMaxSecondsValue: (INT64_MAX - 999999999) / 10^9.
const maxDurationSeconds = (1<<63 - 1 - 999999999) / 1000000000

func init() {
	register("google.protobuf.Duration", durationRange)
}

// durationRange: a Duration is not negative and not beyond kMaxSecondsValue.
// Envoy: source/common/protobuf/utility.cc:42 [core-ca57fadb], :51 [core-c0c2fc6e] (validateDurationNoThrow) —
// "Invalid duration: Expected positive duration: <d>", "Invalid duration: Duration out-of-range: <d>".
func durationRange(c *Context, m protoreflect.Message) {
	d, ok := m.Interface().(*durationpb.Duration)
	if !ok {
		return
	}
	switch s, n := d.GetSeconds(), d.GetNanos(); {
	case s < 0 || n < 0:
		c.envoyf(c.Path(), durationSource, "Invalid duration: Expected positive duration: %s", debugDuration(d))
	case s > maxDurationSeconds || n > 999999999:
		c.envoyf(c.Path(), durationSource, "Invalid duration: Duration out-of-range: %s (at most %d seconds)",
			debugDuration(d), int64(maxDurationSeconds))
	}
}

// debugDuration renders a Duration as protobuf's DebugString does, on one line.
func debugDuration(d *durationpb.Duration) string {
	var parts []string
	if d.GetSeconds() != 0 {
		parts = append(parts, "seconds: "+strconv.FormatInt(d.GetSeconds(), 10))
	}
	if d.GetNanos() != 0 {
		parts = append(parts, "nanos: "+strconv.Itoa(int(d.GetNanos())))
	}
	return strings.Join(parts, " ")
}
