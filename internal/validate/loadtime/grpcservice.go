package loadtime

import (
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// gRPC services and DNS refresh back-offs: checks of source/common/grpc/async_client_manager_impl.cc and
// source/common/config/utility.h that clients and clusters built at load make.

func init() {
	register("envoy.config.core.v3.GrpcService", googleGrpcMetadata)
	register("envoy.config.cluster.v3.Cluster", dnsFailureRefreshRate)
}

// dnsFailureRefreshRateOf reads dns_failure_refresh_rate's intervals from an extension cluster's config, for
// dnsFailureRefreshRate: filled by the init of grpcservice_ext.go, which the lean build (appnet_lean) leaves out.
var dnsFailureRefreshRateOf = map[protoreflect.FullName]func(protoreflect.Message) (base, max *durationpb.Duration){}

// grpcClientBuiltAtLoad reports whether Envoy builds the client of the gRPC service being checked while it loads:
// one in a static listener (filters, access logs), ADS, load reporting.
func (c *Context) grpcClientBuiltAtLoad() bool {
	return c.Ancestor("envoy.config.listener.v3.Listener") != nil ||
		c.Ancestor("envoy.config.bootstrap.v3.Bootstrap.DynamicResources") != nil ||
		c.Ancestor("envoy.config.bootstrap.v3.ClusterManager") != nil
}

// googleGrpcMetadata: a Google gRPC client's initial metadata keys are letters, digits, '_', '.' and '-', and its
// values (unless the key ends in -bin) printable ASCII.
// Envoy: source/common/grpc/async_client_manager_impl.cc:107 [xds-fddc4bf4], :116 [xds-c6a3f7d8]
// (GoogleAsyncClientFactoryImpl) — "Illegal characters in gRPC initial metadata header key: <k>.", "Illegal ASCII
// value for gRPC initial metadata header key: <k>."
func googleGrpcMetadata(c *Context, m protoreflect.Message) {
	g, ok := m.Interface().(*corev3.GrpcService)
	if !ok || g.GetGoogleGrpc() == nil || len(g.GetInitialMetadata()) == 0 || !c.grpcClientBuiltAtLoad() {
		return
	}
	const src = "source/common/grpc/async_client_manager_impl.cc"
	for i, h := range g.GetInitialMetadata() {
		p := func() string { return index(c.at("initial_metadata"), i) }
		if !grpcKeyValid(h.GetKey()) {
			c.envoyf(p()+".key", src, "Illegal characters in gRPC initial metadata header key: %s. (letters, digits, '_', '.' and '-')", h.GetKey())
			return
		}
		if !strings.HasSuffix(h.GetKey(), "-bin") && !printableASCII(h.GetValue()) {
			c.envoyf(p()+".value", src, "Illegal ASCII value for gRPC initial metadata header key: %s. (printable ASCII only, or a -bin key)", h.GetKey())
			return
		}
	}
}

func grpcKeyValid(k string) bool {
	for i := 0; i < len(k); i++ {
		if b := k[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-') {
			return false
		}
	}
	return true
}

func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// dnsFailureRefreshRate: a DNS cluster's failure refresh back-off has a ceiling not below its base (the ceiling
// defaults to ten times the base).
// Envoy: source/common/config/utility.h:467 [xds-39c3cba8] (prepareDnsRefreshStrategy, called by the strict and
// logical DNS clusters and the DNS cluster extension) — "dns_failure_refresh_rate must have max_interval greater
// than or equal to the base_interval".
func dnsFailureRefreshRate(c *Context, m protoreflect.Message) {
	var base, max *durationpb.Duration
	switch v := m.Interface().(type) {
	case *clusterv3.Cluster:
		if v.GetClusterType() != nil || (v.GetType() != clusterv3.Cluster_STRICT_DNS && v.GetType() != clusterv3.Cluster_LOGICAL_DNS) {
			return
		}
		base, max = v.GetDnsFailureRefreshRate().GetBaseInterval(), v.GetDnsFailureRefreshRate().GetMaxInterval()
	default:
		of := dnsFailureRefreshRateOf[m.Descriptor().FullName()]
		if of == nil {
			return
		}
		base, max = of(m)
	}
	if base == nil || max == nil || c.Ancestor("envoy.config.bootstrap.v3.Bootstrap.StaticResources") == nil {
		return
	}
	b, mx := durationMillis(base), durationMillis(max)
	if mx < b {
		c.envoyf(c.at("dns_failure_refresh_rate.max_interval"), "source/common/config/utility.h",
			"dns_failure_refresh_rate must have max_interval greater than or equal to the base_interval (%d ms < %d ms)", mx, b)
	}
}
