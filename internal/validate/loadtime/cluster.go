package loadtime

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Cluster rules: source/common/upstream/upstream_impl.cc and the cluster factories in source/extensions/clusters.

func init() {
	register("envoy.config.cluster.v3.Cluster",
		clusterLogicalDNS, clusterStrictDNS, clusterOriginalDst, clusterStaticEndpoints, clusterStaticLEDS, clusterEDSConfig,
		clusterEDSWithoutConfig, clusterLbPolicy, clusterSubsetLocality, clusterMaxRequests, clusterPerEndpointStats,
		clusterProtocolSelection, clusterALPN, clusterHTTP3, clusterPerHostThresholds, clusterLocalPriority,
		clusterHostnameHashing, clusterHealthChecks, clusterSocketMatchNames)
	register("envoy.config.endpoint.v3.ClusterLoadAssignment", loadAssignmentDropOverloads)
	register("envoy.config.core.v3.BindConfig", bindConfigSources)
	register("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", upstreamHTTPFilters)
}

func asCluster(m protoreflect.Message) (*clusterv3.Cluster, bool) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	return cl, ok && cl.GetClusterType() == nil // a custom cluster_type has its own rules
}

// clusterLogicalDNS and clusterStrictDNS: the DNS cluster types (and the envoy.clusters.dns extension, see
// dnsClusterType) resolve the names of their endpoints with the cluster's resolver.
func clusterLogicalDNS(c *Context, m protoreflect.Message) {
	if cl, ok := asCluster(m); ok && cl.GetType() == clusterv3.Cluster_LOGICAL_DNS {
		c.dnsClusterEndpoints(c.Path, cl, true)
	}
}

func clusterStrictDNS(c *Context, m protoreflect.Message) {
	if cl, ok := asCluster(m); ok && cl.GetType() == clusterv3.Cluster_STRICT_DNS {
		c.dnsClusterEndpoints(c.Path, cl, false)
	}
}

// dnsClusterEndpoints: a logical DNS cluster resolves one name; no DNS cluster takes a custom resolver per endpoint.
// Envoy: source/extensions/clusters/logical_dns/logical_dns_cluster.cc:59, :62, :69 [clusters-c273b940]
// [clusters-7b5e0eee] [clusters-51254953] (and source/extensions/clusters/dns/dns_cluster.cc:177, :181
// [clusters-4e15c41b] [clusters-995993b2], the implementation behind the runtime key
// envoy.reloadable_features.enable_new_dns_implementation) — "LOGICAL_DNS clusters must have a single
// locality_lb_endpoint and a single lb_endpoint", "LOGICAL_DNS clusters must have a single host", "LOGICAL_DNS
// clusters must NOT have a custom resolver name set"; source/extensions/clusters/strict_dns/strict_dns_cluster.cc:58
// [clusters-40276782] — "STRICT_DNS clusters must NOT have a custom resolver name set".
func (c *Context) dnsClusterEndpoints(clusterPath func() string, cl *clusterv3.Cluster, logical bool) {
	src, kind := "source/extensions/clusters/strict_dns/strict_dns_cluster.cc", "STRICT_DNS"
	locs := cl.GetLoadAssignment().GetEndpoints()
	if logical {
		src, kind = "source/extensions/clusters/logical_dns/logical_dns_cluster.cc", "LOGICAL_DNS"
		if len(locs) != 1 || len(locs[0].GetLbEndpoints()) != 1 {
			if cl.GetLoadAssignment() != nil {
				c.envoyf(join(clusterPath(), "load_assignment"), src,
					"LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint")
			} else {
				c.envoyf(clusterPath(), src, "LOGICAL_DNS clusters must have a single host")
			}
			return
		}
	}
	for j, loc := range locs {
		for k, lb := range loc.GetLbEndpoints() {
			if lb.GetEndpoint().GetAddress().GetSocketAddress().GetResolverName() != "" {
				c.envoyf(fmt.Sprintf("%s.load_assignment.endpoints[%d].lb_endpoints[%d].endpoint.address.socket_address.resolver_name", clusterPath(), j, k),
					src, "%s clusters must NOT have a custom resolver name set", kind)
				return
			}
		}
	}
}

// clusterOriginalDst: ORIGINAL_DST clusters take their hosts from the connection and need the cluster-provided LB.
// Envoy: source/extensions/clusters/original_dst/original_dst_cluster.cc — "cluster: LB policy <p> is not valid for
// Cluster type ORIGINAL_DST. Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'",
// "ORIGINAL_DST clusters must have no load assignment configured", "ORIGINAL_DST cluster: invalid config
// http_header_name=<h> and use_http_header is false. Set use_http_header to true if http_header_name is desired."
func clusterOriginalDst(c *Context, m protoreflect.Message) {
	cl, ok := asCluster(m)
	if !ok || cl.GetType() != clusterv3.Cluster_ORIGINAL_DST {
		return
	}
	const src = "source/extensions/clusters/original_dst/original_dst_cluster.cc"
	if cl.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
		c.envoyf(c.at("lb_policy"), src, "cluster: LB policy %s is not valid for Cluster type ORIGINAL_DST. "+
			"Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'", cl.GetLbPolicy())
	}
	if cl.GetLoadAssignment() != nil {
		c.envoyf(c.at("load_assignment"), src, "ORIGINAL_DST clusters must have no load assignment configured")
	}
	if lb := cl.GetOriginalDstLbConfig(); !lb.GetUseHttpHeader() && lb.GetHttpHeaderName() != "" {
		c.envoyf(c.at("original_dst_lb_config.http_header_name"), src, "ORIGINAL_DST cluster: invalid config "+
			"http_header_name=%s and use_http_header is false. Set use_http_header to true if http_header_name is desired.",
			lb.GetHttpHeaderName())
	}
}

// clusterStaticEndpoints: a STATIC cluster's endpoints are not resolved by DNS, so their addresses (and additional
// addresses) must be IP literals unless a custom resolver is named. An EDS cluster resolves the endpoints EDS
// delivers, later; the load_assignment of its own config is not read at all.
// Envoy: source/common/upstream/upstream_impl.cc:1896 [clusters-bf2f894c] (ClusterImplBase::resolveProtoAddress)
// and source/common/network/resolver_impl.cc — "malformed IP address: <a>. Consider setting resolver_name or
// setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'"; upstream_impl.cc:493 [clusters-9ef055ff] (HostDescriptionImplBase) —
// "Invalid host configuration: non-zero port for non-IP address", :496 [clusters-b8e33e97] — "Invalid host
// configuration: hosts cannot specify network namespaces with their address"; source/extensions/clusters/static/static_cluster.cc:42
// [clusters-ab52440a] — "additional_addresses must be IP addresses." (only when the runtime key
// envoy.reloadable_features.happy_eyeballs_sort_non_ip_addresses, default true, is false).
func clusterStaticEndpoints(c *Context, m protoreflect.Message) {
	cl, ok := asCluster(m)
	if !ok || cl.GetType() != clusterv3.Cluster_STATIC {
		return
	}
	const hint = ". Consider setting resolver_name or setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'"
	for j, loc := range cl.GetLoadAssignment().GetEndpoints() {
		for k, lb := range loc.GetLbEndpoints() {
			p := func() string {
				return fmt.Sprintf("%s.load_assignment.endpoints[%d].lb_endpoints[%d].endpoint", c.Path(), j, k)
			}
			ep := lb.GetEndpoint()
			c.ipAddress(func() string { return p() + ".address" }, ep.GetAddress(), resolverSource, hint)
			for a, extra := range ep.GetAdditionalAddresses() {
				at := func() string { return fmt.Sprintf("%s.additional_addresses[%d].address", p(), a) }
				c.ipAddress(at, extra.GetAddress(), resolverSource, hint)
				if extra.GetAddress().GetSocketAddress() == nil && extra.GetAddress() != nil &&
					!c.runtimeFlag("envoy.reloadable_features.happy_eyeballs_sort_non_ip_addresses", true) {
					c.envoyf(at(), "source/extensions/clusters/static/static_cluster.cc", "additional_addresses must be IP addresses.")
				}
			}
			if hc := ep.GetHealthCheckConfig(); hc.GetPortValue() != 0 && ep.GetAddress().GetPipe() != nil {
				c.envoyf(p()+".health_check_config.port_value", "source/common/upstream/upstream_impl.cc",
					"Invalid host configuration: non-zero port for non-IP address")
			} else if ep.GetAddress().GetSocketAddress().GetNetworkNamespaceFilepath() != "" {
				c.envoyf(p()+".address.socket_address.network_namespace_filepath", "source/common/upstream/upstream_impl.cc",
					"Invalid host configuration: hosts cannot specify network namespaces with their address")
			}
		}
	}
}

// clusterStaticLEDS: only EDS clusters take their endpoints from LEDS.
// Envoy: source/extensions/clusters/static/static_cluster.cc:89 [clusters-ed38046a] — "LEDS is only supported when
// EDS is used. Static cluster <c> cannot use LEDS."
func clusterStaticLEDS(c *Context, m protoreflect.Message) {
	cl, ok := asCluster(m)
	if !ok || cl.GetType() != clusterv3.Cluster_STATIC {
		return
	}
	for i, loc := range cl.GetLoadAssignment().GetEndpoints() {
		if loc.GetLedsClusterLocalityConfig() != nil {
			c.envoyf(index(c.at("load_assignment.endpoints"), i)+".leds_cluster_locality_config", "source/extensions/clusters/static/static_cluster.cc",
				"LEDS is only supported when EDS is used. Static cluster %s cannot use LEDS.", cl.GetName())
			return
		}
	}
}

// clusterEDSConfig: eds_cluster_config only means something to an EDS cluster.
// Envoy: source/common/upstream/upstream_impl.cc — "eds_cluster_config set in a non-EDS cluster".
func clusterEDSConfig(c *Context, m protoreflect.Message) {
	cl, ok := asCluster(m)
	if ok && cl.GetEdsClusterConfig() != nil && cl.GetType() != clusterv3.Cluster_EDS {
		c.envoyf(c.at("eds_cluster_config"), "source/common/upstream/upstream_impl.cc", "eds_cluster_config set in a non-EDS cluster")
	}
}

// clusterEDSWithoutConfig: an EDS cluster subscribes to its endpoints with eds_cluster_config.
// Envoy: source/extensions/clusters/eds/eds.cc:483 [clusters-e6ff7e1a] (EdsClusterFactory::createClusterImpl) — "cannot
// create an EDS cluster without an EDS config".
func clusterEDSWithoutConfig(c *Context, m protoreflect.Message) {
	if cl, ok := asCluster(m); ok && cl.GetType() == clusterv3.Cluster_EDS && cl.GetEdsClusterConfig() == nil {
		c.envoyf(c.Path(), "source/extensions/clusters/eds/eds.cc", "cannot create an EDS cluster without an EDS config (set eds_cluster_config)")
	}
}

// clusterLbPolicy: load_balancing_policy replaces lb_policy, and does not combine with the legacy knobs.
// Envoy: source/common/upstream/upstream_impl.cc (configureLbPolicies) — "cluster: field load_balancing_policy need
// to be set", "cluster: load_balancing_policy cannot be combined with lb_subset_config", "cluster:
// load_balancing_policy cannot be combined with partial fields (zone_aware_lb_config, locality_weighted_lb_config,
// consistent_hashing_lb_config) of common_lb_config".
func clusterLbPolicy(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok {
		return
	}
	const src = "source/common/upstream/upstream_impl.cc"
	if cl.GetLoadBalancingPolicy() == nil {
		if cl.GetLbPolicy() == clusterv3.Cluster_LOAD_BALANCING_POLICY_CONFIG {
			c.envoyf(c.at("lb_policy"), src, "cluster: field load_balancing_policy need to be set")
		}
		return
	}
	if cl.GetLbSubsetConfig() != nil {
		c.envoyf(c.at("lb_subset_config"), src, "cluster: load_balancing_policy cannot be combined with lb_subset_config")
	}
	if lb := cl.GetCommonLbConfig(); lb.GetZoneAwareLbConfig() != nil || lb.GetLocalityWeightedLbConfig() != nil ||
		lb.GetConsistentHashingLbConfig() != nil {
		c.envoyf(c.at("common_lb_config"), src, "cluster: load_balancing_policy cannot be combined with partial fields "+
			"(zone_aware_lb_config, locality_weighted_lb_config, consistent_hashing_lb_config) of common_lb_config")
	}
}

// clusterSubsetLocality: a locality-weight-aware subset LB needs locality weights.
// Envoy: source/common/upstream/upstream_impl.cc — "Locality weight aware subset LB requires that a
// locality_weighted_lb_config be set in <cluster>".
func clusterSubsetLocality(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if ok && cl.GetLbSubsetConfig().GetLocalityWeightAware() && cl.GetCommonLbConfig().GetLocalityWeightedLbConfig() == nil {
		c.envoyf(c.at("lb_subset_config.locality_weight_aware"), "source/common/upstream/upstream_impl.cc",
			"Locality weight aware subset LB requires that a locality_weighted_lb_config be set in %s", cl.GetName())
	}
}

// httpOptions returns the cluster's envoy.extensions.upstreams.http.v3.HttpProtocolOptions, if it has any,
// decoded once for the rules that run on the cluster one after the other.
func (c *Context) httpOptions(cl *clusterv3.Cluster) *httpv3.HttpProtocolOptions {
	if c.optsOf == cl {
		return c.opts
	}
	c.optsOf, c.opts = cl, nil
	a := cl.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
	if a == nil {
		return nil
	}
	opts := &httpv3.HttpProtocolOptions{}
	if a.UnmarshalTo(opts) != nil {
		return nil // the walker reports payloads that do not decode
	}
	c.opts = opts
	return opts
}

// clusterMaxRequests: max_requests_per_connection has moved to the HTTP protocol options; not both.
// Envoy: source/common/upstream/upstream_impl.cc — "Only one of max_requests_per_connection from Cluster or
// HttpProtocolOptions can be specified".
func clusterMaxRequests(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || cl.GetMaxRequestsPerConnection() == nil {
		return
	}
	if opts := c.httpOptions(cl); opts.GetCommonHttpProtocolOptions().GetMaxRequestsPerConnection() != nil {
		c.envoyf(c.at("max_requests_per_connection"), "source/common/upstream/upstream_impl.cc",
			"Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified")
	}
}

// clusterPerEndpointStats: per-endpoint stats and load reporting both latch the same counters.
// Envoy: source/common/upstream/upstream_impl.cc — "Only one of cluster per_endpoint_stats and cluster manager
// load_stats_config can be specified".
func clusterPerEndpointStats(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if ok && cl.GetTrackClusterStats().GetPerEndpointStats() && c.bootstrap().GetClusterManager().GetLoadStatsConfig() != nil {
		c.envoyf(c.at("track_cluster_stats.per_endpoint_stats"), "source/common/upstream/upstream_impl.cc",
			"Only one of cluster per_endpoint_stats and cluster manager load_stats_config can be specified")
	}
}

// clusterProtocolSelection: the legacy HTTP/1 and HTTP/2 options together need a protocol selection rule (unless
// the HttpProtocolOptions extension replaces them).
// Envoy: source/common/upstream/upstream_impl.cc (createOptions) — "cluster: Both HTTP1 and HTTP2 options may only
// be configured with non-default 'protocol_selection' values".
func clusterProtocolSelection(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || cl.GetProtocolSelection() != clusterv3.Cluster_USE_CONFIGURED_PROTOCOL ||
		cl.GetHttpProtocolOptions() == nil || cl.GetHttp2ProtocolOptions() == nil || c.httpOptions(cl) != nil {
		return
	}
	c.envoyf(c.at("http2_protocol_options"), "source/common/upstream/upstream_impl.cc",
		"cluster: Both HTTP1 and HTTP2 options may only be configured with non-default 'protocol_selection' values")
}

// upstreamSocket returns the type of a cluster's transport socket ("" for the default raw_buffer).
func upstreamSocket(cl *clusterv3.Cluster) (name, typ string) {
	ts := cl.GetTransportSocket()
	if ts == nil {
		return "envoy.transport_sockets.raw_buffer", "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"
	}
	return ts.GetName(), typeName(ts.GetTypedConfig().GetTypeUrl())
}

// clusterHTTP3: HTTP/3 upstreams need the QUIC transport socket (possibly inside an HTTP/1.1 proxy socket).
// Envoy: source/common/upstream/upstream_impl.cc — "HTTP3 requires a QuicUpstreamTransport transport socket: <c>".
func clusterHTTP3(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok {
		return
	}
	opts := c.httpOptions(cl)
	if opts.GetExplicitHttpConfig().GetHttp3ProtocolOptions() == nil && opts.GetAutoConfig().GetHttp3ProtocolOptions() == nil {
		return
	}
	if name, _ := upstreamSocket(cl); name != "envoy.transport_sockets.quic" && name != "envoy.transport_sockets.http_11_proxy" {
		c.envoyf(c.at("transport_socket"), "source/common/upstream/upstream_impl.cc",
			"HTTP3 requires a QuicUpstreamTransport transport socket: %s (transport socket named %q)", cl.GetName(), name)
	}
}

// clusterPerHostThresholds: per-host circuit breakers limit connections only.
// Envoy: source/common/upstream/upstream_impl.cc — "Unsupported field in per_host_thresholds".
func clusterPerHostThresholds(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok {
		return
	}
	for i, t := range cl.GetCircuitBreakers().GetPerHostThresholds() {
		if t.GetMaxPendingRequests() != nil || t.GetMaxRequests() != nil || t.GetMaxRetries() != nil ||
			t.GetMaxConnectionPools() != nil || t.GetRetryBudget() != nil {
			c.envoyf(index(c.at("circuit_breakers.per_host_thresholds"), i), "source/common/upstream/upstream_impl.cc",
				"Unsupported field in per_host_thresholds (only max_connections is)")
		}
	}
}

// clusterLocalPriority: zone-aware routing compares the local cluster's priority 0 only. STATIC and STRICT_DNS
// clusters check their load_assignment when they are created (LOGICAL_DNS rewrites the priority to 0, EDS checks
// what EDS delivers later).
// Envoy: source/common/upstream/upstream_impl.cc:1909 (ClusterImplBase::validateEndpoints) — "Unexpected non-zero
// priority for local cluster '<c>'."
func clusterLocalPriority(c *Context, m protoreflect.Message) {
	cl, ok := asCluster(m)
	if !ok || cl.GetName() == "" || cl.GetName() != c.bootstrap().GetClusterManager().GetLocalClusterName() ||
		(cl.GetType() != clusterv3.Cluster_STATIC && cl.GetType() != clusterv3.Cluster_STRICT_DNS) {
		return
	}
	for i, loc := range cl.GetLoadAssignment().GetEndpoints() {
		if loc.GetPriority() > 0 {
			c.envoyf(index(c.at("load_assignment.endpoints"), i)+".priority", "source/common/upstream/upstream_impl.cc",
				"Unexpected non-zero priority for local cluster '%s'.", cl.GetName())
		}
	}
}

// loadAssignmentDropOverloads: Envoy supports one drop category, as a fraction of at most 1.
// Envoy: source/common/upstream/upstream_impl.cc (parseDropOverloadConfig) — "Cluster drop_overloads config has <n>
// categories. Envoy only support one.", "Cluster drop_overloads config is invalid. drop_ratio=<r>(Numerator <n> /
// Denominator <d>). The valid range is 0~1."
func loadAssignmentDropOverloads(c *Context, m protoreflect.Message) {
	la, ok := m.Interface().(*endpointv3.ClusterLoadAssignment)
	if !ok {
		return
	}
	drops := la.GetPolicy().GetDropOverloads()
	const src = "source/common/upstream/upstream_impl.cc"
	if len(drops) > 1 {
		c.envoyf(c.at("policy.drop_overloads"), src, "Cluster drop_overloads config has %d categories. Envoy only support one.", len(drops))
		return
	}
	if len(drops) == 1 {
		p := drops[0].GetDropPercentage()
		den := map[int32]float64{0: 100, 1: 10000, 2: 1000000}[int32(p.GetDenominator())]
		if den > 0 && float64(p.GetNumerator())/den > 1 {
			c.envoyf(c.at("policy.drop_overloads[0].drop_percentage"), src, "Cluster drop_overloads config is invalid. "+
				"drop_ratio=%g(Numerator %d / Denominator %g). The valid range is 0~1.", float64(p.GetNumerator())/den, p.GetNumerator(), den)
		}
	}
}

// upstreamHTTPFilters: upstream HTTP filters end with the codec filter.
// Envoy: source/common/upstream/upstream_impl.cc — "The codec filter is the only valid terminal upstream HTTP
// filter, use 'envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec'".
func upstreamHTTPFilters(c *Context, m protoreflect.Message) {
	opts, ok := m.Interface().(*httpv3.HttpProtocolOptions)
	if !ok || len(opts.GetHttpFilters()) == 0 {
		return
	}
	last := opts.GetHttpFilters()[len(opts.GetHttpFilters())-1]
	const codec = "envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec"
	if last.GetTypedConfig() != nil && extensionType(last.GetTypedConfig().ProtoReflect()) != codec {
		c.envoyf(index(c.at("http_filters"), len(opts.GetHttpFilters())-1), "source/common/upstream/upstream_impl.cc",
			"The codec filter is the only valid terminal upstream HTTP filter, use '%s'", codec)
	}
}
