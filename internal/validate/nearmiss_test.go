package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusNearMisses: edits of accepted public bootstraps (testdata/envoy-ci) into forms that Envoy still loads —
// lenient JSON/YAML spellings, Durations and wrappers written as objects, quoted numbers, enums by number, one value
// for a list, clusters Envoy looks up only when traffic needs them, extensions Envoy skips — go through the whole
// validator without an error. A case with warn expects that warning (a lazy cluster is reported, never refused).
func TestCorpusNearMisses(t *testing.T) {
	const (
		frontProxy  = "examples-front-proxy-service-envoy.yaml"
		passthrough = "examples-tls-envoy-https-passthrough.yaml"
		udpProxy    = "envoy-docs-udp_filters-udp-proxy.yaml"
		luaPlugin   = "examples-lua-cluster-specifier-envoy.yaml"
	)
	for _, tc := range []struct {
		name, file, cite string
		edits            []edit
		warn             string
	}{
		{"port as a quoted number", frontProxy, parserCC + "193-237", []edit{{"port_value: 8000", `port_value: "8000"`}}, ""},
		{"port as a float", passthrough, parserCC + "171-191", []edit{{"port_value: 10000", "port_value: 1e4"}}, ""},
		{"discovery type by number", frontProxy, parserCC + "357-385", []edit{{"type: STRICT_DNS", "type: 1"}}, ""},
		{"discovery type in lower case", frontProxy, "protobuf util/json_util.cc (case_insensitive_enum_parsing), as Envoy's quick-start demo",
			[]edit{{"type: STRICT_DNS", "type: strict_dns"}}, ""},
		{"socket protocol by number", udpProxy, parserCC + "357-385", []edit{{"protocol: UDP", "protocol: 1"}}, ""},
		{"field in camelCase", frontProxy, "descriptor_traits.h:169-187", []edit{{"lb_policy: ROUND_ROBIN", "lbPolicy: ROUND_ROBIN"}}, ""},
		{"one domain instead of a list", frontProxy, parserCC + "1270-1276", []edit{{"domains:\n              - \"*\"", `domains: "*"`}}, ""},
		{"Duration as an object", frontProxy, parserCC + "1298-1320",
			[]edit{{"type: STRICT_DNS\n", "type: STRICT_DNS\n    connect_timeout: {seconds: 1, nanos: 500000000}\n"}}, ""},
		{"Duration with nine decimals", udpProxy, parserCC + "946-998", []edit{{"connect_timeout: 0.25s", `connect_timeout: "0.250000000s"`}}, ""},
		{"wrapper as an object", frontProxy, parserCC + "1298-1320",
			[]edit{{"type: STRICT_DNS\n", "type: STRICT_DNS\n    per_connection_buffer_limit_bytes: {value: 32768}\n"}}, ""},
		{"bool as a quoted word", udpProxy, parserCC + "484-500", []edit{{"reuse_port: true", `reuse_port: "true"`}}, ""},
		{"validate_clusters as a wrapper object with an unknown cluster", frontProxy, "router/config_impl.cc:2177",
			[]edit{{"name: local_route\n", "name: local_route\n            validate_clusters: {value: false}\n"}, {"cluster: service1\n", "cluster: service9\n"}}, ""},
		{"tcp_proxy to a cluster not defined", passthrough, "tcp_proxy picks its cluster per connection",
			[]edit{{"cluster: service-https\n", "cluster: nowhere\n"}}, `unknown cluster "nowhere"`},
		{"udp_proxy to a cluster not defined", udpProxy, "udp_proxy picks its cluster per session",
			[]edit{{"cluster: service_udp\n", "cluster: nowhere\n"}}, `unknown cluster "nowhere"`},
		{"lua cluster specifier's default cluster not defined", luaPlugin, "the plugin names its cluster per request",
			[]edit{{"default_cluster: example_cluster", "default_cluster: nowhere"}}, `unknown cluster "nowhere"`},
		{"optional HTTP filter of another category", frontProxy, "http/filter_chain_helper.h:137",
			[]edit{{"          http_filters:\n", "          http_filters:\n          - {name: opt, is_optional: true, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: x, cluster: service1}}\n"}}, ""},
		{"load balancing policy list starting with another category", frontProxy, "upstream/upstream_impl.cc:1402",
			[]edit{{"lb_policy: ROUND_ROBIN\n", "load_balancing_policy: {policies: [" +
				"{typed_extension_config: {name: r, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}}, " +
				"{typed_extension_config: {name: rr, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin}}}]}\n"}}, ""},
		{"unused static validation context without a CA", frontProxy, "secret_manager_impl.cc:42 (static secrets are only held)",
			[]edit{{"  clusters:\n", "  secrets: [{name: peers, validation_context: {match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]}}]\n  clusters:\n"}}, ""},
		{"cluster manager bind config with a host name no static cluster uses", passthrough, "upstream_impl.cc:324-333",
			[]edit{{"  - name: service-https\n", "  - name: service-https\n    upstream_bind_config: {source_address: {address: 10.0.0.1, port_value: 0}}\n"},
				{"static_resources:\n", "cluster_manager: {upstream_bind_config: {source_address: {address: myhost, port_value: 0}}}\nstatic_resources:\n"}}, ""},
		{"compressor as an upstream HTTP filter (1.40)", frontProxy, "1.40.0 changelog",
			[]edit{{"\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n",
				"\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n" +
					"              upstream_http_filters:\n" +
					"              - {name: c, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor, compressor_library: {name: g, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip}}}}\n" +
					"              - {name: codec, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}}\n"}},
			"only since 1.40"},
		{"rate limit action given as an HTTP matching input", frontProxy, "router/router_ratelimit.cc:455",
			[]edit{{"cluster: service1\n", "cluster: service1\n                  rate_limits: [{actions: [{extension: {name: h, typed_config: {\"@type\": type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: x-user}}}]}]\n"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "envoy-ci", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			b, ps := Read([]byte(mutate(t, string(data), tc.edits...)), FormatOf(tc.file))
			if !ps.HasErrors() {
				ps = append(ps, Inspect(b, Options{})...)
			}
			if ps.HasErrors() {
				t.Fatalf("refused, though Envoy loads it (%s):\n%v", tc.cite, ps.Errors())
			}
			if tc.warn == "" {
				return
			}
			for _, p := range ps.Warnings() {
				if strings.Contains(p.Message, tc.warn) {
					return
				}
			}
			t.Errorf("no warning containing %q; got:\n%v", tc.warn, ps)
		})
	}
}
