package loadtime

import (
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Bootstrap rules: source/server/configuration_impl.cc (MainImpl).

func init() {
	register("envoy.config.bootstrap.v3.Bootstrap", bootstrapWatchdogs)
}

// bootstrapWatchdogs: the deprecated single watchdog and the per-thread watchdogs are alternatives.
// Envoy: source/server/configuration_impl.cc — "Only one of watchdog or watchdogs should be set!"
func bootstrapWatchdogs(c *Context, m protoreflect.Message) {
	if b, ok := m.Interface().(*bootstrapv3.Bootstrap); ok && b.GetWatchdog() != nil && b.GetWatchdogs() != nil {
		c.envoyf(c.at("watchdogs"), "source/server/configuration_impl.cc", "Only one of watchdog or watchdogs should be set!")
	}
}
