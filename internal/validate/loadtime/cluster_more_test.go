package loadtime_test

import (
	"strconv"
	"testing"
)

const (
	clPath      = "static_resources.clusters[0]"
	httpOpts    = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
	httpOptsURL = "type.googleapis.com/" + httpOpts
	tlsSocket   = "transport_socket: {name: tls, typed_config: {'@type': " + upstreamTLS + "}}"
	quicSocket  = "transport_socket: {name: envoy.transport_sockets.quic, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.quic.v3.QuicUpstreamTransport, upstream_tls_context: {}}}"
	aggregate   = "cluster_type: {name: envoy.clusters.aggregate, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig, clusters: [a]}}"
	revConn     = "cluster_type: {name: envoy.clusters.reverse_connection, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.reverse_connection.v3.ReverseConnectionClusterConfig, cleanup_interval: 10s, host_id_format: '%REQ(x-node-id)%'"
	dfpConfig   = "cluster_type: {name: envoy.clusters.dynamic_forward_proxy, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig"
	roundRobin  = "{typed_extension_config: {name: rr, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}}"
	cswrr       = "{typed_extension_config: {name: cswrr, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin}}}"
	notAnLB     = "{typed_extension_config: {name: agg, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig, clusters: [a]}}}"
	hcBase      = "{timeout: 1s, interval: 5s, unhealthy_threshold: 2, healthy_threshold: 2, "
)

// withHTTPOptions returns a cluster body's typed_extension_protocol_options with the given HttpProtocolOptions fields.
func withHTTPOptions(fields string) string {
	return "typed_extension_protocol_options: {" + httpOpts + ": {'@type': " + httpOptsURL + ", " + fields + "}}"
}

// policy returns a cluster's load_balancing_policy with the given policies.
func policy(policies string) string { return "load_balancing_policy: {policies: [" + policies + "]}" }

// lbPolicy returns one load_balancing_policy policy of the given type and fields.
func lbPolicy(typ, fields string) string {
	return "{typed_extension_config: {name: p, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies." + typ + ", " + fields + "}}}"
}

func staticWeights(lbPolicy string, w1, w2 uint64) string {
	return cluster("type: STATIC, lb_policy: " + lbPolicy + ", load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [" +
		"{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}, load_balancing_weight: " + strconv.FormatUint(w1, 10) + "}, " +
		"{endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}, load_balancing_weight: " + strconv.FormatUint(w2, 10) + "}]}]}")
}

func TestClusterMoreRules(t *testing.T) { runRules(t, casesClusterMoreRules()) }

func casesClusterMoreRules() []ruleCase {
	const policyPath = clPath + ".load_balancing_policy.policies[0].typed_extension_config.typed_config"
	return []ruleCase{
		{"hostname hashing on static", cluster("type: STATIC, common_lb_config: {consistent_hashing_lb_config: {use_hostname_for_hashing: true}}"),
			clPath + ".common_lb_config.consistent_hashing_lb_config.use_hostname_for_hashing",
			"Cannot use hostname for consistent hashing loadbalancing for cluster of type: 'envoy.cluster.static'"},
		{"hostname hashing on strict dns", cluster("type: STRICT_DNS, load_assignment: {cluster_name: c, endpoints: [" + ep1 + "]}, common_lb_config: {consistent_hashing_lb_config: {use_hostname_for_hashing: true}}"), "", ""},

		{"two health checks", cluster("type: STRICT_DNS, load_assignment: {cluster_name: c, endpoints: [" + ep1 + "]}, health_checks: [" + hcBase + "tcp_health_check: {}}, " + hcBase + "tcp_health_check: {}}]"),
			clPath + ".health_checks[1]", "Multiple health checks not supported"},

		{"socket match names repeat with matcher", cluster("type: STATIC, transport_socket_matches: [{name: a, match: {}, " + tlsSocket + "}, {name: a, match: {}, " + tlsSocket + "}], " +
			"transport_socket_matcher: {on_no_match: {action: {name: a, typed_config: {'@type': type.googleapis.com/envoy.extensions.matching.common_inputs.transport_socket.v3.TransportSocketNameAction, name: a}}}}"),
			clPath + ".transport_socket_matches[1].name", "Duplicate transport socket name 'a' found in transport_socket_matches"},
		{"socket match names repeat without matcher", cluster("type: STATIC, transport_socket_matches: [{name: a, match: {}, " + tlsSocket + "}, {name: a, match: {}, " + tlsSocket + "}]"), "", ""},

		{"alpn with a raw socket match", cluster("type: STATIC, " + tlsSocket + ", transport_socket_matches: [{name: plain, match: {}, transport_socket: {name: raw, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}}], " + withHTTPOptions("auto_config: {}")),
			clPath + ".transport_socket_matches[0].transport_socket", "ALPN configured for cluster c which has a non-ALPN transport socket matcher"},
		{"alpn with a raw socket match, not validated", "layered_runtime: {layers: [{name: s, static_layer: {config.do_not_validate_alpn_support: 100}}]}\n" +
			cluster("type: STATIC, "+tlsSocket+", transport_socket_matches: [{name: plain, match: {}, transport_socket: {name: raw, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}}], "+withHTTPOptions("auto_config: {}")), "", ""},
		{"alpn with a tls socket match", cluster("type: STATIC, " + tlsSocket + ", transport_socket_matches: [{name: t, match: {}, " + tlsSocket + "}], " + withHTTPOptions("auto_config: {}")), "", ""},
		{"alpn through a proxy protocol socket", cluster("type: STATIC, transport_socket: {name: pp, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport, transport_socket: {name: raw, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}}}, " + withHTTPOptions("auto_config: {}")),
			clPath + ".typed_extension_protocol_options", "ALPN configured for cluster c which has a non-ALPN transport socket"},

		{"aggregate without cluster provided", cluster(aggregate),
			clPath + ".lb_policy", "cluster manager: cluster provided LB not specified but cluster 'c' provided one. Check cluster documentation."},
		{"aggregate cluster provided", cluster(aggregate + ", lb_policy: CLUSTER_PROVIDED"), "", ""},
		{"static cluster provided", cluster("type: STATIC, lb_policy: CLUSTER_PROVIDED"),
			clPath + ".lb_policy", "cluster manager: cluster provided LB specified but cluster 'c' did not provide one."},
		{"static cluster provided policy", cluster("type: STATIC, " + policy("{typed_extension_config: {name: cp, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.cluster_provided.v3.ClusterProvided}}}")),
			clPath + ".load_balancing_policy", "cluster manager: cluster provided LB specified but cluster 'c' did not provide one."},
		{"dynamic modules round robin", cluster("cluster_type: {name: envoy.clusters.dynamic_modules, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.dynamic_modules.v3.ClusterConfig, dynamic_module_config: {name: m}, cluster_name: x}}"),
			clPath + ".lb_policy", "cluster: LB policy ROUND_ROBIN is not valid for cluster type 'envoy.clusters.dynamic_modules'. Only 'CLUSTER_PROVIDED' is allowed."},
		{"reverse connection round robin", cluster(revConn + "}}"),
			clPath + ".lb_policy", "cluster: LB policy ROUND_ROBIN is not valid for cluster type 'envoy.clusters.reverse_connection'"},
		{"reverse connection", cluster(revConn + "}}, lb_policy: CLUSTER_PROVIDED"), "", ""},
		{"reverse connection load assignment", cluster(revConn + "}}, lb_policy: CLUSTER_PROVIDED, load_assignment: {cluster_name: c}"),
			clPath + ".load_assignment", "Reverse Conn clusters must have no load assignment configured"},
		{"reverse connection without tenant", "bootstrap_extensions: [{name: rt, typed_config: {'@type': type.googleapis.com/envoy.extensions.bootstrap.reverse_tunnel.upstream_socket_interface.v3.UpstreamReverseConnectionSocketInterface, enable_tenant_isolation: true}}]\n" +
			cluster(revConn+"}}, lb_policy: CLUSTER_PROVIDED"),
			clPath + ".cluster_type.typed_config<ReverseConnectionClusterConfig>.tenant_id_format", "tenant_id_format must be configured for reverse connection cluster 'c'"},
		{"reverse connection with tenant", "bootstrap_extensions: [{name: rt, typed_config: {'@type': type.googleapis.com/envoy.extensions.bootstrap.reverse_tunnel.upstream_socket_interface.v3.UpstreamReverseConnectionSocketInterface, enable_tenant_isolation: true}}]\n" +
			cluster(revConn+", tenant_id_format: '%REQ(x-tenant)%'}}, lb_policy: CLUSTER_PROVIDED"), "", ""},

		{"dfp", cluster(dfpConfig + ", dns_cache_config: {name: d}}}, lb_policy: CLUSTER_PROVIDED"), "", ""},
		{"dfp without auto san", cluster(dfpConfig + ", dns_cache_config: {name: d}}}, lb_policy: CLUSTER_PROVIDED, upstream_http_protocol_options: {auto_sni: true}"),
			clPath + ".upstream_http_protocol_options", "dynamic_forward_proxy cluster must have auto_sni and auto_san_validation true unless allow_insecure_cluster_options is set."},
		{"dfp http options without auto sni", cluster(dfpConfig + ", dns_cache_config: {name: d}}}, lb_policy: CLUSTER_PROVIDED, " + withHTTPOptions("explicit_http_config: {http_protocol_options: {}}")),
			clPath + ".typed_extension_protocol_options", "dynamic_forward_proxy cluster must have auto_sni and auto_san_validation true"},
		{"dfp insecure", cluster(dfpConfig + ", dns_cache_config: {name: d}, allow_insecure_cluster_options: true}}, lb_policy: CLUSTER_PROVIDED, upstream_http_protocol_options: {auto_sni: true}"), "", ""},
		{"dfp sub clusters cluster provided", cluster(dfpConfig + ", sub_clusters_config: {lb_policy: CLUSTER_PROVIDED}}}, lb_policy: CLUSTER_PROVIDED"),
			clPath + ".cluster_type.typed_config<ClusterConfig>.sub_clusters_config.lb_policy", "unsupported lb_policy 'CLUSTER_PROVIDED' in sub_cluster_config"},
		{"dfp sub clusters", cluster(dfpConfig + ", sub_clusters_config: {lb_policy: RING_HASH}}}, lb_policy: CLUSTER_PROVIDED"), "", ""},

		{"cluster type of another category", cluster("cluster_type: {name: x, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}"),
			clPath + ".cluster_type.typed_config", "Didn't find a registered cluster factory implementation for type: 'envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin'"},
		{"cluster type unknown name", cluster("cluster_type: {name: envoy.clusters.nope}"),
			clPath + ".cluster_type.name", "Didn't find a registered cluster factory implementation for name: 'envoy.clusters.nope'"},
		{"cluster type by name", cluster("cluster_type: {name: envoy.cluster.static}"), "", ""},

		{"dns cluster extension with two endpoints", cluster("cluster_type: {name: envoy.clusters.dns, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster, all_addresses_in_single_endpoint: true}}, load_assignment: {cluster_name: c, endpoints: [" + ep2 + "]}"),
			clPath + ".load_assignment", "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint"},
		{"dns cluster extension strict", cluster("cluster_type: {name: envoy.clusters.dns, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster}}, load_assignment: {cluster_name: c, endpoints: [" + ep2 + "]}"), "", ""},
		{"strict dns resolver name", cluster("type: STRICT_DNS, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: x, port_value: 1, resolver_name: r}}}}]}]}"),
			clPath + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.resolver_name", "STRICT_DNS clusters must NOT have a custom resolver name set"},

		{"static leds", cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{leds_cluster_locality_config: {leds_config: {path_config_source: {path: /l}}, leds_collection_name: x}}]}"),
			clPath + ".load_assignment.endpoints[0].leds_cluster_locality_config", "LEDS is only supported when EDS is used. Static cluster c cannot use LEDS."},
		{"eds leds", cluster("type: EDS, eds_cluster_config: {eds_config: {path_config_source: {path: /e}}}, load_assignment: {cluster_name: c, endpoints: [{leds_cluster_locality_config: {leds_config: {path_config_source: {path: /l}}, leds_collection_name: x}}]}"), "", ""},
		{"eds without config", cluster("type: EDS"), clPath, "cannot create an EDS cluster without an EDS config"},
		{"eds endpoints are not resolved at load", "dynamic_resources: {cds_config: {path_config_source: {path: /c}}}\n" +
			cluster("type: EDS, eds_cluster_config: {eds_config: {path_config_source: {path: /e}}}, load_assignment: {cluster_name: c, endpoints: ["+ep1+"]}"), "", ""},
		{"logical dns local cluster priority", "cluster_manager: {local_cluster_name: c}\n" +
			cluster("type: LOGICAL_DNS, load_assignment: {cluster_name: c, endpoints: [{priority: 1, lb_endpoints: [{endpoint: {address: {socket_address: {address: a.local, port_value: 80}}}}]}]}"), "", ""},
		{"static additional address host name", cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}, additional_addresses: [{address: {socket_address: {address: b.local, port_value: 80}}}]}}]}]}"),
			clPath + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint.additional_addresses[0].address.socket_address.address", "malformed IP address: b.local"},
		{"static additional address pipe", cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}, additional_addresses: [{address: {pipe: {path: /s}}}]}}]}]}"), "", ""},
		{"static additional address pipe without sorting", "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.happy_eyeballs_sort_non_ip_addresses: false}}]}\n" +
			cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}, additional_addresses: [{address: {pipe: {path: /s}}}]}}]}]}"),
			clPath + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint.additional_addresses[0].address", "additional_addresses must be IP addresses."},

		{"static endpoint in a network namespace", cluster("type: STATIC, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80, network_namespace_filepath: /var/run/netns/a}}}}]}]}"),
			clPath + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.network_namespace_filepath", "Invalid host configuration: hosts cannot specify network namespaces with their address"},

		{"outlier max below base", cluster("type: STATIC, outlier_detection: {base_ejection_time: 60s, max_ejection_time: 30s}"),
			clPath + ".outlier_detection.max_ejection_time", "outlier detector's max_ejection_time cannot be smaller than base_ejection_time"},
		{"outlier max below default base", cluster("type: STATIC, outlier_detection: {max_ejection_time: 10s}"),
			clPath + ".outlier_detection.max_ejection_time", "(10000ms < 30000ms)"},
		{"outlier base above default max", cluster("type: STATIC, outlier_detection: {base_ejection_time: 400s}"), "", ""},
		{"outlier max equals base", cluster("type: STATIC, outlier_detection: {base_ejection_time: 60s, max_ejection_time: 60.0001s}"), "", ""},

		{"bind two extra addresses", cluster("type: STATIC, upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}, extra_source_addresses: [{address: {address: '::1', port_value: 0}}, {address: {address: '::2', port_value: 0}}]}"),
			clPath + ".upstream_bind_config", "Cluster c's upstream binding config has more than one extra/additional source addresses."},
		{"bind same version", cluster("type: STATIC, upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}, additional_source_addresses: [{address: 10.0.0.3, port_value: 0}]}"),
			clPath + ".upstream_bind_config", "Cluster c's upstream binding config has two same IP version source addresses."},
		{"bind mapped address is ipv6", cluster("type: STATIC, upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}, extra_source_addresses: [{address: {address: '::ffff:10.0.0.3', port_value: 0}}]}"), "", ""},
		{"bootstrap bind same version", "cluster_manager: {upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}, extra_source_addresses: [{address: {address: 10.0.0.3, port_value: 0}}]}}\n" + cluster("type: STATIC"),
			"cluster_manager.upstream_bind_config", "Bootstrap's upstream binding config has two same IP version source addresses."},
		{"bootstrap bind not used", "cluster_manager: {upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}, extra_source_addresses: [{address: {address: 10.0.0.3, port_value: 0}}]}}\n" +
			cluster("type: STATIC, upstream_bind_config: {source_address: {address: 10.0.0.2, port_value: 0}}"), "", ""},

		{"drop overload runtime limit", "layered_runtime: {layers: [{name: s, static_layer: {load_balancing_policy: {drop_overload_limit: 150}}}]}\n" +
			cluster("type: STATIC, load_assignment: {cluster_name: c, policy: {drop_overloads: [{category: a, drop_percentage: {numerator: 5}}]}}"),
			clPath + ".load_assignment.policy.drop_overloads", "load_balancing_policy.drop_overload_limit runtime key config 150 is invalid. The valid range is 0~100"},
		{"drop overload runtime limit in range", "layered_runtime: {layers: [{name: s, static_layer: {load_balancing_policy.drop_overload_limit: 50}}]}\n" +
			cluster("type: STATIC, load_assignment: {cluster_name: c, policy: {drop_overloads: [{category: a, drop_percentage: {numerator: 5}}]}}"), "", ""},

		{"auto http3 without cache", cluster("type: STATIC, " + quicSocket + ", " + withHTTPOptions("auto_config: {http3_protocol_options: {}}")),
			clPath + ".typed_extension_protocol_options[\"" + httpOpts + "\"]<HttpProtocolOptions>.auto_config", "alternate protocols cache must be configured when HTTP/3 is enabled with auto_config"},
		{"auto http3 with cache", cluster("type: STATIC, " + quicSocket + ", " + withHTTPOptions("auto_config: {http3_protocol_options: {}, alternate_protocols_cache_options: {name: c}}")), "", ""},
		{"header field above headers", cluster("type: STATIC, " + withHTTPOptions("common_http_protocol_options: {max_response_headers_kb: 60}, explicit_http_config: {http2_protocol_options: {max_header_field_size_kb: 100}}")),
			clPath + ".typed_extension_protocol_options[\"" + httpOpts + "\"]<HttpProtocolOptions>.explicit_http_config.http2_protocol_options.max_header_field_size_kb", "max_header_field_size_kb must not exceed max_response_headers_kb"},
		{"legacy header field above headers", cluster("type: STATIC, common_http_protocol_options: {max_response_headers_kb: 60}, http2_protocol_options: {max_header_field_size_kb: 100}"),
			clPath + ".http2_protocol_options.max_header_field_size_kb", "max_header_field_size_kb must not exceed max_response_headers_kb"},
		{"header field equal to headers", cluster("type: STATIC, " + withHTTPOptions("common_http_protocol_options: {max_response_headers_kb: 80}, explicit_http_config: {http2_protocol_options: {max_header_field_size_kb: 64}}")), "", ""},
		{"protocol options unknown name", cluster("type: STATIC, typed_extension_protocol_options: {envoy.upstreams.nope: {'@type': " + httpOptsURL + ", explicit_http_config: {http_protocol_options: {}}}}"),
			clPath + ".typed_extension_protocol_options[\"envoy.upstreams.nope\"]", "Didn't find a registered network or http filter or protocol options implementation for name: 'envoy.upstreams.nope'"},
		{"protocol options of an http filter", cluster("type: STATIC, typed_extension_protocol_options: {envoy.filters.http.router: {'@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}"),
			clPath + ".typed_extension_protocol_options[\"envoy.filters.http.router\"]", "filter envoy.filters.http.router does not support protocol options"},
		{"protocol options of a network filter", cluster("type: STATIC, typed_extension_protocol_options: {envoy.filters.network.thrift_proxy: {'@type': type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProtocolOptions}}"), "", ""},
		{"upstream filter inline and discovered", cluster("type: STATIC, filters: [{name: f, typed_config: {'@type': type.googleapis.com/google.protobuf.Empty}, config_discovery: {config_source: {path_config_source: {path: /f}}, type_urls: [type.googleapis.com/google.protobuf.Empty]}}]"),
			clPath + ".filters[0]", "Only one of typed_config or config_discovery can be used"},
		{"redis cluster named otherwise", cluster("lb_policy: CLUSTER_PROVIDED, cluster_type: {name: redis, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.redis.v3.RedisClusterConfig}}"),
			clPath + ".cluster_type.name", "Redis cluster can only created with redis cluster type."},
		{"redis cluster", cluster("lb_policy: CLUSTER_PROVIDED, cluster_type: {name: envoy.clusters.redis, typed_config: {'@type': type.googleapis.com/envoy.extensions.clusters.redis.v3.RedisClusterConfig}}"), "", ""},
		{"protocol options legacy name", cluster("type: STATIC, typed_extension_protocol_options: {envoy.upstreams.http.http_protocol_options: {'@type': " + httpOptsURL + ", explicit_http_config: {http_protocol_options: {}}}}"), "", ""},

		{"no load balancer policy", cluster("type: STATIC, " + policy(notAnLB)),
			clPath + ".load_balancing_policy", "cluster: didn't find a registered load balancer factory implementation for cluster: 'c' with names from [agg]"},
		{"policy of another category skipped", cluster("type: STATIC, " + policy(notAnLB+", "+roundRobin)), "", ""},
		{"policy of another category only", cluster("type: STATIC, " + policy("{typed_extension_config: {name: r, typed_config: {'@type': "+routerType+"}}}")),
			clPath + ".load_balancing_policy", "cluster: didn't find a registered load balancer factory implementation for cluster: 'c' with names from [r]"},
		{"unselected maglev policy", cluster("type: STATIC, " + policy(roundRobin+", "+lbPolicy("maglev.v3.Maglev", "table_size: 100"))), "", ""},
		{"legacy subset cluster provided", cluster("type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED, lb_subset_config: {subset_selectors: [{keys: [a]}]}"),
			clPath + ".lb_policy", "cluster: LB policy CLUSTER_PROVIDED cannot be combined with lb_subset_config"},
		{"legacy subset without selectors", cluster("type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED, lb_subset_config: {}"), "", ""},
		{"subset fallback keys without keys subset", cluster("type: STATIC, lb_subset_config: {subset_selectors: [{keys: [a, b], fallback_keys_subset: [a]}]}"),
			clPath + ".lb_subset_config.subset_selectors[0].fallback_keys_subset", "fallback_keys_subset can be set only for KEYS_SUBSET fallback_policy"},
		{"subset keys subset without fallback keys", cluster("type: STATIC, lb_subset_config: {subset_selectors: [{keys: [a, b], fallback_policy: KEYS_SUBSET}]}"),
			clPath + ".lb_subset_config.subset_selectors[0].fallback_keys_subset", "fallback_keys_subset cannot be empty"},
		{"subset fallback key not a key", cluster("type: STATIC, lb_subset_config: {subset_selectors: [{keys: [a, b], fallback_policy: KEYS_SUBSET, fallback_keys_subset: [c]}]}"),
			clPath + ".lb_subset_config.subset_selectors[0].fallback_keys_subset", "fallback_keys_subset must be a subset of selector keys"},
		{"subset fallback keys equal keys", cluster("type: STATIC, lb_subset_config: {subset_selectors: [{keys: [a, b], fallback_policy: KEYS_SUBSET, fallback_keys_subset: [b, a, a]}]}"),
			clPath + ".lb_subset_config.subset_selectors[0].fallback_keys_subset", "fallback_keys_subset cannot be equal to keys"},
		{"subset fallback keys", cluster("type: STATIC, lb_subset_config: {subset_selectors: [{keys: [a, b], fallback_policy: KEYS_SUBSET, fallback_keys_subset: [a]}]}"), "", ""},
		{"subset policy fallback keys", cluster("type: STATIC, " + policy(lbPolicy("subset.v3.Subset", "subset_selectors: [{keys: [a], fallback_policy: KEYS_SUBSET, fallback_keys_subset: [a]}], subset_lb_policy: {policies: ["+roundRobin+"]}"))),
			policyPath + "<Subset>.subset_selectors[0].fallback_keys_subset", "fallback_keys_subset cannot be equal to keys"},
		{"subset policy without child", cluster("type: STATIC, " + policy(lbPolicy("subset.v3.Subset", "subset_lb_policy: {policies: ["+notAnLB+"]}"))),
			policyPath + "<Subset>.subset_lb_policy", "cluster: didn't find a registered load balancer factory implementation for subset lb with names from [agg]"},
		{"wrr locality round robin", cluster("type: STATIC, " + policy(lbPolicy("wrr_locality.v3.WrrLocality", "endpoint_picking_policy: {policies: ["+roundRobin+"]}"))),
			policyPath + "<WrrLocality>.endpoint_picking_policy.policies[0]", "Currently WrrLocalityLoadBalancer only supports ClientSideWeightedRoundRobinLoadBalancer as its endpoint picking policy."},
		{"wrr locality nothing", cluster("type: STATIC, " + policy(lbPolicy("wrr_locality.v3.WrrLocality", "endpoint_picking_policy: {policies: ["+notAnLB+"]}"))),
			policyPath + "<WrrLocality>.endpoint_picking_policy", "No supported endpoint picking policy."},
		{"wrr locality", cluster("type: STATIC, " + policy(lbPolicy("wrr_locality.v3.WrrLocality", "endpoint_picking_policy: {policies: ["+cswrr+"]}"))), "", ""},
		{"override host empty source", cluster("type: STATIC, " + policy(lbPolicy("override_host.v3.OverrideHost", "override_host_sources: [{}], fallback_policy: {policies: ["+roundRobin+"]}"))),
			policyPath + "<OverrideHost>.override_host_sources[0]", "Empty override source"},
		{"override host two sources", cluster("type: STATIC, " + policy(lbPolicy("override_host.v3.OverrideHost", "override_host_sources: [{header: x-host, metadata: {key: k, path: [{key: p}]}}], fallback_policy: {policies: ["+roundRobin+"]}"))),
			policyPath + "<OverrideHost>.override_host_sources[0]", "Only one override source must be set"},
		{"override host no fallback", cluster("type: STATIC, " + policy(lbPolicy("override_host.v3.OverrideHost", "override_host_sources: [{header: x-host}], fallback_policy: {policies: ["+notAnLB+"]}"))),
			policyPath + "<OverrideHost>.fallback_policy", "dynamic forwarding LB: didn't find a registered fallback load balancer factory with names from agg"},
		{"override host", cluster("type: STATIC, " + policy(lbPolicy("override_host.v3.OverrideHost", "override_host_sources: [{header: x-host}], fallback_policy: {policies: ["+roundRobin+"]}"))), "", ""},

		{"ring hash host weights overflow", staticWeights("RING_HASH", 4294967295, 1),
			clPath + ".load_assignment.endpoints[0]", "The sum of weights of all upstream hosts in a locality exceeds 4294967295"},
		{"round robin host weights", staticWeights("ROUND_ROBIN", 4294967295, 1), "", ""},
		{"maglev host weights", staticWeights("MAGLEV", 4294967294, 1), "", ""},
		{"maglev locality weights overflow", cluster("type: STATIC, lb_policy: MAGLEV, load_assignment: {cluster_name: c, endpoints: [" +
			"{locality: {zone: a}, load_balancing_weight: 4294967295, lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}, " +
			"{locality: {zone: b}, load_balancing_weight: 1, lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}}]}]}"),
			clPath + ".load_assignment.endpoints[1].load_balancing_weight", "The sum of weights of all localities at the same priority exceeds 4294967295"},
	}
}

func TestClusterLayerCases(t *testing.T) { runLayerCases(t, casesClusterLayers()) }

// casesClusterLayers: the cluster checks the validator's own layers make (cross references).
func casesClusterLayers() []ruleCase {
	return []ruleCase{
		{"grpc client cluster unknown", "node: {id: node1, cluster: c1}\nstats_sinks: [{name: envoy.stat_sinks.metrics_service, typed_config: {'@type': type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig, transport_api_version: V3, grpc_service: {envoy_grpc: {cluster_name: nope}}}}]\n",
			"stats_sinks[0].typed_config<MetricsServiceConfig>.grpc_service.envoy_grpc.cluster_name", "unknown cluster \"nope\""},
	}
}

func init() {
	registerCases(casesClusterMoreRules)
	registerLayerCases(casesClusterLayers)
}
