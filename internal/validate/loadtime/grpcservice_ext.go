//go:build !appnet_lean

package loadtime

import (
	dnsclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dns/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

func init() {
	dnsFailureRefreshRateOf["envoy.extensions.clusters.dns.v3.DnsCluster"] = func(m protoreflect.Message) (base, max *durationpb.Duration) {
		r := m.Interface().(*dnsclusterv3.DnsCluster).GetDnsFailureRefreshRate()
		return r.GetBaseInterval(), r.GetMaxInterval()
	}
	register("envoy.extensions.clusters.dns.v3.DnsCluster", dnsFailureRefreshRate)
}
