package loadtime_test

import "testing"

func TestHCMOptionRules(t *testing.T) { runRules(t, casesHCMOptionRules()) }

func casesHCMOptionRules() []ruleCase {
	const structType = "type.googleapis.com/google.protobuf.Struct"
	discovery := func(name, extra string) string {
		return "{name: " + name + ", config_discovery: {config_source: {path_config_source: {path: /etc/envoy/f.yaml}}, " + extra + "}}"
	}
	cors := "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"
	settings := func(params string) string {
		return hcm("http2_protocol_options: {hpack_table_size: 4096, custom_settings_parameters: [" + params + "]}\n")
	}
	const h2 = hcmPath + ".http2_protocol_options.custom_settings_parameters"
	return []ruleCase{
		{"rds without config source", hcm("rds: {route_config_name: r}\n"), hcmPath + ".rds",
			"An RDS config must have either a 'config_source' or an xDS-TP based 'route_config_name'."},
		{"rds with an xdstp name", hcm("rds: {route_config_name: 'xdstp://authority/envoy.config.route.v3.RouteConfiguration/r'}\n"), "", ""},

		{"header field larger than all headers", hcm("max_request_headers_kb: 32\nhttp2_protocol_options: {max_header_field_size_kb: 64}\n"),
			hcmPath + ".http2_protocol_options.max_header_field_size_kb", "max_header_field_size_kb must not exceed max_request_headers_kb (64 > 32"},
		{"header field as large as all headers", hcm("max_request_headers_kb: 64\nhttp2_protocol_options: {max_header_field_size_kb: 64}\n"), "", ""},
		{"header field against the runtime limit", "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.max_request_headers_size_kb: 16}}]}\n" +
			hcm("http2_protocol_options: {max_header_field_size_kb: 32}\n"),
			hcmPath + ".http2_protocol_options.max_header_field_size_kb", "(32 > 16, the runtime value)"},

		{"request id of no extension", hcm("request_id_extension: {typed_config: {'@type': " + structType + ", value: {}}}\n"),
			hcmPath + ".request_id_extension.typed_config", "Didn't find a registered implementation for type: 'google.protobuf.Struct'"},
		{"request id", hcm("request_id_extension: {typed_config: {'@type': type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig}}\n"), "", ""},
		{"ip detection of no extension", hcm("original_ip_detection_extensions: [{name: d, typed_config: {'@type': " + structType + ", value: {}}}]\n"),
			hcmPath + ".original_ip_detection_extensions[0].typed_config", "Original IP detection extension not found: 'd'"},
		{"early header mutation of no extension", hcm("early_header_mutation_extensions: [{name: m, typed_config: {'@type': " + structType + ", value: {}}}]\n"),
			hcmPath + ".early_header_mutation_extensions[0].typed_config", "Early header mutation extension not found: 'm'"},
		{"early header mutation", hcm("early_header_mutation_extensions: [{name: m, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation, mutations: [{remove: x-debug}]}}]\n"), "", ""},
		{"xff hops and addresses", hcm("original_ip_detection_extensions: [{name: xff, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig, xff_num_trusted_hops: 1, xff_trusted_cidrs: {cidrs: [{address_prefix: 10.0.0.0, prefix_len: 8}]}}}]\n"),
			hcmPath + ".original_ip_detection_extensions[0].typed_config<XffConfig>.xff_trusted_cidrs", "Cannot set both xff_num_trusted_hops and xff_trusted_cidrs"},
		{"xff addresses", hcm("original_ip_detection_extensions: [{name: xff, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig, xff_trusted_cidrs: {cidrs: [{address_prefix: 10.0.0.0, prefix_len: 8}]}}}]\n"), "", ""},

		{"last filter disabled", hcm("http_filters:\n" + corsFilter + "- {name: envoy.filters.http.router, disabled: true, typed_config: {'@type': " + routerType + "}}\n"),
			hcmPath + ".http_filters[1].disabled", "Error: the last (terminal) filter (envoy.filters.http.router) in the chain cannot be disabled by default."},
		{"cluster upstream codec disabled", cluster("typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http_protocol_options: {}}, http_filters: [{name: codec, disabled: true, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}]}}"),
			"static_resources.clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]<HttpProtocolOptions>.http_filters[0].disabled", "Error: the last (terminal) filter (codec) in the chain cannot be disabled by default."},
		{"first filter disabled", hcm("http_filters:\n- {name: cors, disabled: true, typed_config: {'@type': " + cors + "}}\n" + routerFilter), "", ""},
		{"filter discovery without default", hcm("http_filters:\n- " + discovery("cors", "apply_default_config_without_warming: true, type_urls: ["+cors+"]") + "\n" + routerFilter),
			hcmPath + ".http_filters[0].config_discovery.apply_default_config_without_warming", "Error: filter config cors applied without warming but has no default config."},
		{"filter discovery of a network filter", hcm("http_filters:\n- " + discovery("f", "type_urls: ["+tcpType+"]") + "\n" + routerFilter),
			hcmPath + ".http_filters[0].config_discovery.type_urls[0]", "Error: no factory found for a required type URL envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy."},
		{"filter discovery of a per-route type", hcm("http_filters:\n- " + discovery("rbac", "type_urls: [type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute]") + "\n" + routerFilter), "", ""},
		{"upstream filter discovery of a network filter", hcm("http_filters:\n- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + ", upstream_http_filters: [" +
			discovery("c", "type_urls: ["+tcpType+"]") + ", {name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}]}}\n"),
			hcmPath + ".http_filters[0].typed_config<Router>.upstream_http_filters[0].config_discovery.type_urls[0]", "Error: no factory found for a required type URL envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy."},
		{"upstream filter discovery of a compressor", hcm("http_filters:\n- {name: envoy.filters.http.router, typed_config: {'@type': " + routerType + ", upstream_http_filters: [" +
			discovery("c", "type_urls: [type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor]") + ", {name: codec, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}]}}\n"), "", ""},

		{"http2 push setting", settings("{identifier: 2, value: 1}"), h2 + "[0]", "server push is not supported by Envoy and can not be enabled via a SETTINGS parameter."},
		{"http2 push off", settings("{identifier: 2, value: 0}, {identifier: 9, value: 1}"), "", ""},
		{"http2 connect setting", settings("{identifier: 8, value: 1}"), h2 + "[0]", "the \"allow_connect\" SETTINGS parameter must only be configured through the named field"},
		{"http2 setting twice", settings("{identifier: 9, value: 1}, {identifier: 9, value: 2}"), h2, "inconsistent HTTP/2 custom SETTINGS parameter(s) detected; identifiers = {0x09}"},
		{"http2 setting and named field", settings("{identifier: 1, value: 100}"), h2, "the {hpack_table_size} HTTP/2 SETTINGS parameter(s) can not be configured through both named and custom parameters"},
		{"http2 cluster setting", cluster("typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {'@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http2_protocol_options: {custom_settings_parameters: [{identifier: 2, value: 1}]}}}}"),
			"static_resources.clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]<HttpProtocolOptions>.explicit_http_config.http2_protocol_options.custom_settings_parameters[0]",
			"server push is not supported"},
	}
}

func init() { registerCases(casesHCMOptionRules) }
