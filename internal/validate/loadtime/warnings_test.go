package loadtime_test

import "testing"

// casesBuildDependent are checks that depend on how Envoy was built: official release images refuse these files,
// a build with the option loads them, so the validator warns and accepts.
func casesBuildDependent() []warnCase {
	return []warnCase{
		{"api listener", "static_resources:\n  listeners:\n  - name: api\n    api_listener: {api_listener: {'@type': " + hcmType + ", stat_prefix: a, route_config: {}, http_filters: [{name: r, typed_config: {'@type': " + routerType + "}}]}}\n",
			"static_resources.listeners[0].api_listener", "error adding listener named 'api': missing the API listener extension"},
		{"header validator config", hcm("typed_header_validation_config: {name: uhv, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.header_validators.envoy_default.v3.HeaderValidatorConfig}}\n"),
			hcmPath + ".typed_header_validation_config", "This Envoy binary does not support header validator extensions.: 'uhv'"},
		{"header validator by runtime", "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.enable_universal_header_validator: true}}]}\n" + hcm(""),
			hcmPath, "Header validator can not be enabled since this Envoy binary does not support it."},
	}
}

func TestBuildDependentWarnings(t *testing.T) { runWarnings(t, casesBuildDependent()) }

// casesNewerReleases are uses that some release of 1.35-1.40 loads and older ones refuse: accepted, with a
// warning.
func casesNewerReleases() []warnCase {
	compressor := "{name: compress, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor, " +
		"compressor_library: {name: gzip, typed_config: {'@type': type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip}}}}"
	codec := "{name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}"
	wrrRR := "load_balancing_policy: {policies: [{typed_extension_config: {name: wrr, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality, " +
		"endpoint_picking_policy: {policies: [{typed_extension_config: {name: rr, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}}]}}}}, " +
		"{typed_extension_config: {name: fallback, typed_config: {'@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}}]}"
	return []warnCase{
		{"wrr locality of round robin before another policy", cluster("type: STATIC, " + wrrRR),
			"static_resources.clusters[0].load_balancing_policy.policies[0].typed_extension_config.typed_config<WrrLocality>.endpoint_picking_policy.policies[0]",
			"1.35, which has no wrr_locality policy, skips it and uses 'fallback'"},
		{"compressor as a router upstream filter", hcm("http_filters:\n- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType +
			", upstream_http_filters: [" + compressor + ", " + codec + "]}}\n"),
			hcmPath + ".http_filters[0].typed_config<Router>.upstream_http_filters[0].typed_config", "registered in envoy.filters.http.upstream only since 1.40"},
		{"compressor as a cluster upstream filter", cluster("type: STATIC, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: " +
			"{'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http_protocol_options: {}}, http_filters: [" + compressor + ", " + codec + "]}}"),
			"static_resources.clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]<HttpProtocolOptions>.http_filters[0].typed_config", "only since 1.40"},
	}
}

func TestNewerReleaseWarnings(t *testing.T) { runWarnings(t, casesNewerReleases()) }

// casesSurvivedAtStart are errors in the load reporting and HDS configs, which Envoy sets up after the load in
// try/catch blocks that log them and go on (source/server/server.cc, onRuntimeReady): warnings.
func casesSurvivedAtStart() []warnCase {
	const xds = "static_resources:\n  clusters:\n  - {name: xds, type: STATIC, load_assignment: {cluster_name: xds, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 18000}}}}]}]}}\n"
	return []warnCase{
		{"load reporting of aggregated type", "cluster_manager: {load_stats_config: {api_type: AGGREGATED_DELTA_GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}}\n" + xds,
			"cluster_manager.load_stats_config.api_type", "type must be of non-aggregated gRPC"},
		{"load reporting without a service", "cluster_manager: {load_stats_config: {api_type: GRPC, transport_api_version: V3}}\n" + xds,
			"cluster_manager.load_stats_config", "starts without load reporting"},
		{"hds without a service", "hds_config: {api_type: GRPC, transport_api_version: V3}\n" + xds,
			"hds_config", "starts without health discovery (HDS)"},
	}
}

func TestSurvivedAtStartWarnings(t *testing.T) { runWarnings(t, casesSurvivedAtStart()) }
