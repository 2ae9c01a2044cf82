//go:build !appnet_lean

package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// extensionState is the part of Context that only extension rules use (files tagged !appnet_lean). Context embeds
// it, so those rules read c.http, c.dnsCaches and c.rateLimitFilters as its own fields; the lean build
// (context_lean.go) embeds an empty struct instead, and no field stands unused there.
type extensionState struct {
	dnsCaches        map[string]protoreflect.Message // the first config of each DNS cache name met in the walk (dns_ext.go)
	http             httpFilterState                 // what the HTTP filter rules remember (httpfilter.go)
	rateLimitFilters []rateLimitFilterUse            // the process rate limit access log filters met (xds_singleton.go)
}

// afterWalk defers a check until the walk is over (once per Context: a rule registers it on its first message).
// Only extension rules need the whole walk first today; Finish, which runs the deferred checks, is in both builds.
func (c *Context) afterWalk(f func()) { c.finishers = append(c.finishers, f) }

// rateLimitFilterUse is one process rate limit filter: where its resource name is, the name, and its config source.
type rateLimitFilterUse struct {
	path   string
	name   string
	source *corev3.ConfigSource
}
