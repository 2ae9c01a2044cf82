package loadtime

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// xDS config source rules: source/common/config/utility.cc (checkApiConfigSourceNames, validateClusterName).

const xdsSource = "source/common/config/utility.cc"

func init() {
	register("envoy.config.core.v3.ApiConfigSource", apiConfigSourceNames, apiConfigSourceClusters)
}

func isGRPCSource(t corev3.ApiConfigSource_ApiType) bool {
	switch t {
	case corev3.ApiConfigSource_GRPC, corev3.ApiConfigSource_DELTA_GRPC,
		corev3.ApiConfigSource_AGGREGATED_GRPC, corev3.ApiConfigSource_AGGREGATED_DELTA_GRPC:
		return true
	}
	return false
}

// apiConfigSourceNames: a gRPC source names gRPC services (one, or two with xDS failover), a REST source one
// cluster.
// Envoy: source/common/config/utility.cc:90 [xds-afdd566c], :97 [xds-221793f2], :102 [xds-1dd10f93], :108
// [xds-dd444579], :113 [xds-950521f8] (checkApiConfigSourceNames) — "API configs must have either a gRPC service or
// a cluster name defined: <c>", "<t>::(AGGREGATED_)(DELTA_)GRPC must not have a cluster name specified: <c>",
// "... must have no more than <n> gRPC services specified: <c>", "<t>, if not a gRPC type, must not have a gRPC
// service specified: <c>", "<t> must have a singleton cluster name specified: <c>". The limit is 2 when the
// runtime key envoy.restart_features.xds_failover_support is true (it defaults to false).
func apiConfigSourceNames(c *Context, m protoreflect.Message) {
	src, ok := m.Interface().(*corev3.ApiConfigSource)
	if !ok {
		return
	}
	const tn = "envoy.config.core.v3.ApiConfigSource"
	clusters, services := len(src.GetClusterNames()), len(src.GetGrpcServices())
	switch {
	case clusters == 0 && services == 0:
		c.envoyf(c.Path(), xdsSource, "API configs must have either a gRPC service or a cluster name defined")
	case isGRPCSource(src.GetApiType()):
		if clusters > 0 {
			c.envoyf(c.at("cluster_names"), xdsSource, "%s::(AGGREGATED_)(DELTA_)GRPC must not have a cluster name specified", tn)
		}
		limit := 1
		if c.runtimeFlag("envoy.restart_features.xds_failover_support", false) {
			limit = 2
		}
		if services > limit {
			c.envoyf(c.at("grpc_services"), xdsSource, "%s::(AGGREGATED_)(DELTA_)GRPC must have no more than %d gRPC services specified", tn, limit)
		}
	case src.GetApiType() == corev3.ApiConfigSource_REST:
		if services > 0 {
			c.envoyf(c.at("grpc_services"), xdsSource, "%s, if not a gRPC type, must not have a gRPC service specified", tn)
		}
		if clusters != 1 {
			c.envoyf(c.at("cluster_names"), xdsSource, "%s must have a singleton cluster name specified", tn)
		}
	}
}

// apiConfigSourceClusters: the cluster an xDS source talks to is a static cluster that is not itself fed by EDS
// (unknown clusters are reported by the cross-reference check).
// Envoy: source/common/config/utility.cc:127 [xds-64ceceb5] — "envoy.config.core.v3.ApiConfigSource must have a statically defined
// non-EDS cluster: '<c>' does not exist, was added via api, or is an EDS cluster".
func apiConfigSourceClusters(c *Context, m protoreflect.Message) {
	src, ok := m.Interface().(*corev3.ApiConfigSource)
	if !ok {
		return
	}
	check := func(path func() string, name string) {
		if cl := c.staticCluster(name); cl != nil && cl.GetType() == clusterv3.Cluster_EDS && cl.GetClusterType() == nil {
			c.envoyf(path(), xdsSource, "envoy.config.core.v3.ApiConfigSource must have a statically defined non-EDS "+
				"cluster: '%s' does not exist, was added via api, or is an EDS cluster", name)
		}
	}
	for i, n := range src.GetClusterNames() {
		check(func() string { return index(c.at("cluster_names"), i) }, n)
	}
	for i, g := range src.GetGrpcServices() {
		if n := g.GetEnvoyGrpc().GetClusterName(); n != "" {
			check(func() string { return index(c.at("grpc_services"), i) + ".envoy_grpc.cluster_name" }, n)
		}
	}
}
