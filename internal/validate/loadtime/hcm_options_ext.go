//go:build !appnet_lean

package loadtime

import (
	xffv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/xff/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.http.original_ip_detection.xff.v3.XffConfig", xffTrustedSources)
}

// xffTrustedSources: the XFF detection trusts a number of hops or a list of addresses, not both.
// Envoy: source/extensions/http/original_ip_detection/xff/xff.cc:16 [hcm-cd9016d7] — "Cannot set both
// xff_num_trusted_hops and xff_trusted_cidrs".
func xffTrustedSources(c *Context, m protoreflect.Message) {
	if x, ok := m.Interface().(*xffv3.XffConfig); ok && x.GetXffTrustedCidrs() != nil && x.GetXffNumTrustedHops() > 0 {
		c.envoyf(c.at("xff_trusted_cidrs"), "source/extensions/http/original_ip_detection/xff/xff.cc",
			"Cannot set both xff_num_trusted_hops and xff_trusted_cidrs")
	}
}
