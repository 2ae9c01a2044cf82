package validate

import (
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/proto"
)

// WarmDecoder starts, in the background, the protobuf runtime's one-time work that the first decode of a
// bootstrap in a process would otherwise do on the critical path, and returns a function that waits for it.
//
// The first use of the Bootstrap message builds its MessageInfo, and with it the runtime walks every message
// type reachable from Bootstrap through its fields (impl.needsInitCheck, looking for required fields), which
// unpacks the full descriptors of every API file on the way: about 5 ms on a 2-core machine, a third of the
// first Render. None of it depends on the document, so it can run on another core while the caller collects
// platform facts and executes the templates; the decode then finds it done, or waits for the rest (the runtime
// guards every step with its own locks, so whichever goroutine comes first does each step, once). Nothing here
// changes what a decode returns.
func WarmDecoder() (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		proto.Size(&bootstrapv3.Bootstrap{})
	}()
	return func() { <-done }
}
