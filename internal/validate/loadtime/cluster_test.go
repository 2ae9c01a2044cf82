package loadtime_test

import "testing"

const (
	ep1 = "{lb_endpoints: [{endpoint: {address: {socket_address: {address: app.local, port_value: 80}}}}]}"
	ep2 = "{lb_endpoints: [{endpoint: {address: {socket_address: {address: a.local, port_value: 80}}}}, {endpoint: {address: {socket_address: {address: b.local, port_value: 80}}}}]}"
	ip1 = "{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}"
)

func TestClusterRules(t *testing.T) { runRules(t, casesClusterRules()) }

func casesClusterRules() []ruleCase {
	return []ruleCase{
		{"logical dns one endpoint", cluster("type: LOGICAL_DNS, load_assignment: {cluster_name: c, endpoints: [" + ep1 + "]}"), "", ""},
		{"logical dns two endpoints", cluster("type: LOGICAL_DNS, load_assignment: {cluster_name: c, endpoints: [" + ep2 + "]}"),
			"static_resources.clusters[0].load_assignment", "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint"},
		{"logical dns no load assignment", cluster("type: LOGICAL_DNS"), "static_resources.clusters[0]", "LOGICAL_DNS clusters must have a single host"},
		{"logical dns resolver name", cluster("type: LOGICAL_DNS, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: x, port_value: 1, resolver_name: r}}}}]}]}"),
			"static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.resolver_name", "must NOT have a custom resolver name set"},

		{"original dst", cluster("type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED"), "", ""},
		{"original dst round robin", cluster("type: ORIGINAL_DST"), "static_resources.clusters[0].lb_policy",
			"cluster: LB policy ROUND_ROBIN is not valid for Cluster type ORIGINAL_DST"},
		{"original dst load assignment", cluster("type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED, load_assignment: {cluster_name: c, endpoints: [" + ip1 + "]}"),
			"static_resources.clusters[0].load_assignment", "ORIGINAL_DST clusters must have no load assignment configured"},
		{"original dst header name", cluster("type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED, original_dst_lb_config: {http_header_name: x-dst}"),
			"static_resources.clusters[0].original_dst_lb_config.http_header_name", "use_http_header is false"},

		{"static ip", cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [" + ip1 + "]}"), "", ""},
		{"static host name", cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [" + ep1 + "]}"),
			"static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address",
			"malformed IP address: app.local. Consider setting resolver_name"},
		{"strict dns host name", cluster("type: STRICT_DNS, load_assignment: {cluster_name: c, endpoints: [" + ep1 + "]}"), "", ""},
		{"pipe with health check port", cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {pipe: {path: /s}}, health_check_config: {port_value: 9}}}]}]}"),
			"static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.health_check_config.port_value",
			"Invalid host configuration: non-zero port for non-IP address"},

		{"eds config on eds", "dynamic_resources: {cds_config: {path_config_source: {path: /c}}}\n" + cluster("type: EDS, eds_cluster_config: {eds_config: {path_config_source: {path: /e}}}"), "", ""},
		{"eds config on static", cluster("type: STATIC, eds_cluster_config: {service_name: x}"), "static_resources.clusters[0].eds_cluster_config",
			"eds_cluster_config set in a non-EDS cluster"},

		{"lb policy config without policy", cluster("type: STATIC, lb_policy: LOAD_BALANCING_POLICY_CONFIG"), "static_resources.clusters[0].lb_policy",
			"cluster: field load_balancing_policy need to be set"},
		{"load balancing policy", cluster("type: STATIC, load_balancing_policy: {policies: [{typed_extension_config: {name: rr, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}}]}"), "", ""},
		{"load balancing policy with subset", cluster("type: STATIC, lb_subset_config: {}, load_balancing_policy: {policies: [{typed_extension_config: {name: rr, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}}]}"),
			"static_resources.clusters[0].lb_subset_config", "cluster: load_balancing_policy cannot be combined with lb_subset_config"},
		{"load balancing policy with locality weights", cluster("type: STATIC, common_lb_config: {locality_weighted_lb_config: {}}, load_balancing_policy: {policies: [{typed_extension_config: {name: rr, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}}]}"),
			"static_resources.clusters[0].common_lb_config", "cannot be combined with partial fields"},

		{"subset locality aware", cluster("type: STATIC, lb_subset_config: {locality_weight_aware: true}, common_lb_config: {locality_weighted_lb_config: {}}"), "", ""},
		{"subset locality without weights", cluster("type: STATIC, lb_subset_config: {locality_weight_aware: true}"),
			"static_resources.clusters[0].lb_subset_config.locality_weight_aware", "Locality weight aware subset LB requires that a locality_weighted_lb_config be set in c"},

		{"max requests twice", cluster("type: STATIC, max_requests_per_connection: 10, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, common_http_protocol_options: {max_requests_per_connection: 5}, explicit_http_config: {http_protocol_options: {}}}}"),
			"static_resources.clusters[0].max_requests_per_connection", "Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified"},
		{"max requests once", cluster("type: STATIC, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, common_http_protocol_options: {max_requests_per_connection: 5}, explicit_http_config: {http_protocol_options: {}}}}"), "", ""},

		{"per endpoint stats with lrs", "cluster_manager: {load_stats_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: c}}]}}\n" + cluster("type: STATIC, track_cluster_stats: {per_endpoint_stats: true}"),
			"static_resources.clusters[0].track_cluster_stats.per_endpoint_stats", "Only one of cluster per_endpoint_stats and cluster manager load_stats_config can be specified"},
		{"per endpoint stats", cluster("type: STATIC, track_cluster_stats: {per_endpoint_stats: true}"), "", ""},

		{"http1 and http2 options", cluster("type: STATIC, http_protocol_options: {}, http2_protocol_options: {}"),
			"static_resources.clusters[0].http2_protocol_options", "cluster: Both HTTP1 and HTTP2 options may only be configured with non-default 'protocol_selection' values"},
		{"http1 and http2 options by downstream protocol", cluster("type: STATIC, http_protocol_options: {}, http2_protocol_options: {}, protocol_selection: USE_DOWNSTREAM_PROTOCOL"), "", ""},

		{"auto config with tls", cluster("type: STATIC, transport_socket: {name: tls, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext}}, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, auto_config: {}}}"), "", ""},
		{"auto config without tls", cluster("type: STATIC, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, auto_config: {}}}"),
			"static_resources.clusters[0].typed_extension_protocol_options", "ALPN configured for cluster c which has a non-ALPN transport socket"},
		{"http3 without quic", cluster("type: STATIC, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http3_protocol_options: {}}}}"),
			"static_resources.clusters[0].transport_socket", "HTTP3 requires a QuicUpstreamTransport transport socket"},
		{"http3 with quic", cluster("type: STATIC, transport_socket: {name: envoy.transport_sockets.quic, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.quic.v3.QuicUpstreamTransport, upstream_tls_context: {}}}, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http3_protocol_options: {}}}}"), "", ""},

		{"per host max connections", cluster("type: STATIC, circuit_breakers: {per_host_thresholds: [{max_connections: 10}]}"), "", ""},
		{"per host max requests", cluster("type: STATIC, circuit_breakers: {per_host_thresholds: [{max_requests: 10}]}"),
			"static_resources.clusters[0].circuit_breakers.per_host_thresholds[0]", "Unsupported field in per_host_thresholds"},

		{"local cluster priority", "cluster_manager: {local_cluster_name: c}\n" + cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{priority: 1, lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}"),
			"static_resources.clusters[0].load_assignment.endpoints[0].priority", "Unexpected non-zero priority for local cluster 'c'."},
		{"other cluster priority", "cluster_manager: {local_cluster_name: d}\n" + cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{priority: 1, lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}") +
			"  - {name: d, type: STATIC}\n", "", ""},

		{"one drop category", cluster("type: STATIC, load_assignment: {cluster_name: c, policy: {drop_overloads: [{category: a, drop_percentage: {numerator: 5}}]}}"), "", ""},
		{"two drop categories", cluster("type: STATIC, load_assignment: {cluster_name: c, policy: {drop_overloads: [{category: a, drop_percentage: {numerator: 5}}, {category: b, drop_percentage: {numerator: 5}}]}}"),
			"static_resources.clusters[0].load_assignment.policy.drop_overloads", "Cluster drop_overloads config has 2 categories. Envoy only support one."},
		{"drop over 100 percent", cluster("type: STATIC, load_assignment: {cluster_name: c, policy: {drop_overloads: [{category: a, drop_percentage: {numerator: 150}}]}}"),
			"static_resources.clusters[0].load_assignment.policy.drop_overloads[0].drop_percentage", "The valid range is 0~1."},

		{"upstream filters end with codec", cluster("type: STATIC, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http_protocol_options: {}}, http_filters: [{name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}]}}"), "", ""},
		{"upstream filters end with buffer", cluster("type: STATIC, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http_protocol_options: {}}, http_filters: [{name: buf, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer, max_request_bytes: 10}}]}}"),
			"static_resources.clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]<HttpProtocolOptions>.http_filters[0]", "The codec filter is the only valid terminal upstream HTTP filter"},

		{"bind config both extra and additional", cluster("type: STATIC, upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}, extra_source_addresses: [{address: {address: '::1', port_value: 0}}], additional_source_addresses: [{address: '::2', port_value: 0}]}"),
			"static_resources.clusters[0].upstream_bind_config.additional_source_addresses", "Can't specify both `extra_source_addresses` and `additional_source_addresses` in the Cluster c's upstream binding config"},
		{"bind config extra without source", cluster("type: STATIC, upstream_bind_config: {extra_source_addresses: [{address: {address: '::1', port_value: 0}}]}"),
			"static_resources.clusters[0].upstream_bind_config", "upstream binding config has extra/additional source addresses but no source_address"},
		{"bind config host name", "cluster_manager: {upstream_bind_config: {source_address: {address: myhost, port_value: 0}}}\n" + cluster("type: STATIC"),
			"cluster_manager.upstream_bind_config.source_address.address", "malformed IP address: myhost (Bootstrap's upstream binding config takes IP addresses)"},
		{"bind config host name unused", "cluster_manager: {upstream_bind_config: {source_address: {address: myhost, port_value: 0}}}\n", "", ""},
		{"bind config host name overridden", "cluster_manager: {upstream_bind_config: {source_address: {address: myhost, port_value: 0}}}\n" +
			cluster("type: STATIC, upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}}"), "", ""},
		{"cluster bind config host name", cluster("type: STATIC, upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}, additional_source_addresses: [{address: other, port_value: 0}]}"),
			clPath + ".upstream_bind_config.additional_source_addresses[0].address", "malformed IP address: other (Cluster c's upstream binding config"},
		{"bind config ip", "cluster_manager: {upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}}}\n", "", ""},
	}
}

func TestLoadBalancerRules(t *testing.T) { runRules(t, casesLoadBalancerRules()) }

func casesLoadBalancerRules() []ruleCase {
	return []ruleCase{
		{"maglev prime", cluster("type: STATIC, lb_policy: MAGLEV, maglev_lb_config: {table_size: 65537}"), "", ""},
		{"maglev not prime", cluster("type: STATIC, lb_policy: MAGLEV, maglev_lb_config: {table_size: 65536}"),
			"static_resources.clusters[0].maglev_lb_config.table_size", "The table size of maglev must be prime number"},
		{"maglev config on round robin is ignored", cluster("type: STATIC, maglev_lb_config: {table_size: 100}"), "", ""},
		{"maglev policy not prime", cluster("type: STATIC, load_balancing_policy: {policies: [{typed_extension_config: {name: m, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.maglev.v3.Maglev, table_size: 100}}}]}"),
			"static_resources.clusters[0].load_balancing_policy.policies[0].typed_extension_config.typed_config<Maglev>.table_size", "The table size of maglev must be prime number"},
		{"ring sizes", cluster("type: STATIC, lb_policy: RING_HASH, ring_hash_lb_config: {minimum_ring_size: 10, maximum_ring_size: 20}"), "", ""},
		{"ring min above max", cluster("type: STATIC, lb_policy: RING_HASH, ring_hash_lb_config: {minimum_ring_size: 30, maximum_ring_size: 20}"),
			"static_resources.clusters[0].ring_hash_lb_config", "ring hash: minimum_ring_size (30) > maximum_ring_size (20)"},
		{"ring min above default max", cluster("type: STATIC, lb_policy: RING_HASH, ring_hash_lb_config: {minimum_ring_size: 9000000}"),
			"static_resources.clusters[0].ring_hash_lb_config", "ring hash: minimum_ring_size (9000000) > maximum_ring_size (8388608)"},
		{"ring hash policy", cluster("type: STATIC, load_balancing_policy: {policies: [{typed_extension_config: {name: r, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash, minimum_ring_size: 40, maximum_ring_size: 20}}}]}"),
			"static_resources.clusters[0].load_balancing_policy.policies[0].typed_extension_config.typed_config<RingHash>", "ring hash: minimum_ring_size (40) > maximum_ring_size (20)"},
	}
}

func init() { registerCases(casesClusterRules, casesLoadBalancerRules) }
