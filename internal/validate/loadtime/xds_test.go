package loadtime_test

import "testing"

func TestXdsRules(t *testing.T) { runRules(t, casesXdsRules()) }

func casesXdsRules() []ruleCase {
	const node = "node: {id: node1, cluster: c1}\n"
	const xds = "static_resources:\n  clusters:\n  - {name: xds, type: STATIC, load_assignment: {cluster_name: xds, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 18000}}}}]}]}}\n"
	const grpcSvc = "grpc_services: [{envoy_grpc: {cluster_name: xds}}]"
	lds := func(src string) string { return node + "dynamic_resources: {lds_config: " + src + "}\n" + xds }
	ads := func(api string) string {
		return node + "dynamic_resources: {ads_config: {" + api + "}, lds_config: {ads: {}}}\n" + xds
	}
	return []ruleCase{
		{"ads over grpc", ads("api_type: GRPC, transport_api_version: V3, " + grpcSvc + ", rate_limit_settings: {fill_rate: 10}"), "", ""},
		{"ads over delta grpc", ads("api_type: DELTA_GRPC, transport_api_version: V3, " + grpcSvc), "", ""},
		{"ads of aggregated type", ads("api_type: AGGREGATED_GRPC, transport_api_version: V3, " + grpcSvc),
			"dynamic_resources.ads_config.api_type", "type must be of non-aggregated gRPC"},
		{"ads fill rate infinite", ads("api_type: GRPC, transport_api_version: V3, " + grpcSvc + ", rate_limit_settings: {fill_rate: Infinity}"),
			"dynamic_resources.ads_config.rate_limit_settings.fill_rate", "must not be NaN nor Inf"},
		{"ads retry back-off", ads("api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds, retry_policy: {retry_back_off: {base_interval: 2s, max_interval: 1s}}}}]"),
			"dynamic_resources.ads_config.grpc_services[0].envoy_grpc.retry_policy.retry_back_off.max_interval", "max_interval must be greater than or equal to the base_interval"},
		{"ads retry back-off default ceiling", ads("api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds, retry_policy: {retry_back_off: {base_interval: 2s}}}}]"), "", ""},
		{"lds over aggregated grpc", lds("{api_config_source: {api_type: AGGREGATED_GRPC, transport_api_version: V3, " + grpcSvc + "}}"),
			"dynamic_resources.lds_config.api_config_source.api_type", "Unsupported config source AGGREGATED_GRPC"},
		{"lds over aggregated delta grpc", lds("{api_config_source: {api_type: AGGREGATED_DELTA_GRPC, transport_api_version: V3, " + grpcSvc + "}}"),
			"dynamic_resources.lds_config.api_config_source.api_type", "Unsupported config source AGGREGATED_DELTA_GRPC"},
		{"lds over rest legacy", lds("{api_config_source: {cluster_names: [xds], transport_api_version: V3}}"),
			"dynamic_resources.lds_config.api_config_source.api_type", "REST_LEGACY no longer a supported ApiConfigSource."},
		{"lds over self", lds("{self: {}}"), "dynamic_resources.lds_config.self", "Missing config source specifier in envoy::config::core::v3::ConfigSource"},
		{"lds over rest", lds("{api_config_source: {api_type: REST, transport_api_version: V3, cluster_names: [xds], refresh_delay: 5s}}"), "", ""},
		{"lds over rest without refresh delay", lds("{api_config_source: {api_type: REST, transport_api_version: V3, cluster_names: [xds]}}"),
			"dynamic_resources.lds_config.api_config_source.refresh_delay", "refresh_delay is required for REST API configuration sources"},
		{"lds over grpc fill rate infinite", lds("{api_config_source: {api_type: GRPC, transport_api_version: V3, " + grpcSvc + ", rate_limit_settings: {fill_rate: -Infinity}}}"),
			"dynamic_resources.lds_config.api_config_source.rate_limit_settings.fill_rate", "must not be NaN nor Inf"},
		{"xdstp authority over aggregated grpc", node + "config_sources: [{authorities: [{name: a}], api_config_source: {api_type: AGGREGATED_GRPC, transport_api_version: V3, " + grpcSvc + "}}]\n" + xds, "", ""},
		{"rds of a static listener over aggregated grpc", hcm("rds: {route_config_name: r, config_source: {api_config_source: {api_type: AGGREGATED_GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: app}}]}}}\n"),
			hcmPath + ".rds.config_source.api_config_source.api_type", "Unsupported config source AGGREGATED_GRPC"},
		{"xdstp authority from a file", node + "config_sources: [{authorities: [{name: a}], path_config_source: {path: /etc/a.yaml}}]\n" + xds,
			"config_sources[0]", "Only api_config_source type is currently supported for xdstp-based config sources."},
		{"xdstp config source without authority", node + "config_sources: [{api_config_source: {api_type: AGGREGATED_GRPC, transport_api_version: V3, " + grpcSvc + "}}]\n" + xds,
			"config_sources[0].authorities", "xdstp-based non-default config source must have at least one authority."},
		{"xdstp default config source without authority", node + "default_config_source: {api_config_source: {api_type: AGGREGATED_DELTA_GRPC, transport_api_version: V3, " + grpcSvc + "}}\n" + xds, "", ""},
		{"xdstp authority twice", node + "config_sources: [{authorities: [{name: a}, {name: a}], api_config_source: {api_type: AGGREGATED_GRPC, transport_api_version: V3, " + grpcSvc + "}}]\n" + xds,
			"config_sources[0].authorities[1].name", "xdstp-based config source authority a is configured more than once"},
		{"xdstp authority over grpc", node + "config_sources: [{authorities: [{name: a}], api_config_source: {api_type: GRPC, transport_api_version: V3, " + grpcSvc + "}}]\n" + xds,
			"config_sources[0].api_config_source.api_type", "xdstp-based config source authority only supports AGGREGATED_GRPC and AGGREGATED_DELTA_GRPC types."},
		{"google grpc metadata", ads("api_type: GRPC, transport_api_version: V3, grpc_services: [{google_grpc: {target_uri: 'xds:18000', stat_prefix: x}, initial_metadata: [{key: X-Token.id, value: abc}, {key: t-bin, value: \"\\x01\"}]}]"), "", ""},
		{"google grpc metadata key", ads("api_type: GRPC, transport_api_version: V3, grpc_services: [{google_grpc: {target_uri: 'xds:18000', stat_prefix: x}, initial_metadata: [{key: 'x token', value: abc}]}]"),
			"dynamic_resources.ads_config.grpc_services[0].initial_metadata[0].key", "Illegal characters in gRPC initial metadata header key: x token."},
		{"google grpc metadata value", ads("api_type: GRPC, transport_api_version: V3, grpc_services: [{google_grpc: {target_uri: 'xds:18000', stat_prefix: x}, initial_metadata: [{key: t, value: \"a\\tb\"}]}]"),
			"dynamic_resources.ads_config.grpc_services[0].initial_metadata[0].value", "Illegal ASCII value for gRPC initial metadata header key: t."},
		{"dns failure refresh rate", "static_resources:\n  clusters:\n  - {name: d, type: STRICT_DNS, dns_failure_refresh_rate: {base_interval: 2s}, load_assignment: {cluster_name: d, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: d.example, port_value: 80}}}}]}]}}\n", "", ""},
		{"dns failure refresh rate ceiling below base", "static_resources:\n  clusters:\n  - {name: d, type: STRICT_DNS, dns_failure_refresh_rate: {base_interval: 2s, max_interval: 1s}, load_assignment: {cluster_name: d, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: d.example, port_value: 80}}}}]}]}}\n",
			"static_resources.clusters[0].dns_failure_refresh_rate.max_interval", "dns_failure_refresh_rate must have max_interval greater than or equal to the base_interval"},
		{"lds over transport v2", lds("{api_config_source: {api_type: GRPC, transport_api_version: V2, " + grpcSvc + "}}"),
			"dynamic_resources.lds_config.api_config_source.transport_api_version", "V2 xDS transport protocol version is deprecated"},
		{"lds over transport auto", lds("{api_config_source: {api_type: GRPC, " + grpcSvc + "}}"), "", ""},
		{"lds collection", node + "dynamic_resources: {lds_resources_locator: 'xdstp://cp/envoy.config.listener.v3.Listener/sidecar/*?a=b#entry=x', lds_config: {api_config_source: {api_type: DELTA_GRPC, transport_api_version: V3, " + grpcSvc + "}}}\n" + xds, "", ""},
		{"lds collection over ads", node + "dynamic_resources: {ads_config: {api_type: DELTA_GRPC, transport_api_version: V3, " + grpcSvc + "}, lds_resources_locator: 'xdstp://cp/envoy.config.listener.v3.Listener/*', lds_config: {ads: {}}}\n" + xds, "", ""},
		{"lds collection of clusters", node + "dynamic_resources: {lds_resources_locator: 'xdstp://cp/envoy.config.cluster.v3.Cluster/*', lds_config: {ads: {}}}\n" + xds,
			"dynamic_resources.lds_resources_locator", "xdstp:// type does not match envoy.config.listener.v3.Listener"},
		{"cds collection over grpc", node + "dynamic_resources: {cds_resources_locator: 'xdstp://cp/envoy.config.cluster.v3.Cluster/*', cds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, " + grpcSvc + "}}}\n" + xds,
			"dynamic_resources.cds_config.api_config_source.api_type", "Unknown xdstp:// transport API type"},
		{"cds collection from a path", node + "dynamic_resources: {cds_resources_locator: 'xdstp://cp/envoy.config.cluster.v3.Cluster/*', cds_config: {path_config_source: {path: /c.yaml}}}\n" + xds,
			"dynamic_resources.cds_config", "Missing or not supported config source specifier in envoy::config::core::v3::ConfigSource for a collection."},
		{"collection over http", node + "dynamic_resources: {cds_resources_locator: 'http://cp/c', cds_config: {ads: {}}}\n" + xds,
			"dynamic_resources.cds_resources_locator", "Unsupported code path"},
		{"collection without scheme", node + "dynamic_resources: {cds_resources_locator: 'cp/envoy.config.cluster.v3.Cluster/*', cds_config: {ads: {}}}\n" + xds,
			"dynamic_resources.cds_resources_locator", "does not have a xdstp:, http: or file: scheme"},
		{"collection without type", node + "dynamic_resources: {cds_resources_locator: 'xdstp://cp', cds_config: {ads: {}}}\n" + xds,
			"dynamic_resources.cds_resources_locator", "Resource type missing from /"},
		{"collection fragment", node + "dynamic_resources: {cds_resources_locator: 'xdstp://cp/envoy.config.cluster.v3.Cluster/*#first=x', cds_config: {ads: {}}}\n" + xds,
			"dynamic_resources.cds_resources_locator", "Unknown fragment component first=x"},
	}
}

func init() { registerCases(casesXdsRules) }
