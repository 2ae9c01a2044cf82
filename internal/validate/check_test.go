package validate

import (
	"strings"
	"testing"
)

// TestCheckRejects: PGV rules (inside payloads too), cluster references and structural rules, one mutation of
// the sample per rule.
func TestCheckRejects(t *testing.T) {
	runMutations(t, []mutation{
		// Check: PGV, on the root and inside (nested) payloads
		{"HCM without stat_prefix", []edit{{"          stat_prefix: ingress_http\n", ""}},
			hcmPath + ".stat_prefix", "value length must be at least 1 runes"},
		{"port 70000", []edit{{"127.0.0.1, port_value: 8080}", "127.0.0.1, port_value: 70000}"}},
			appAddr + ".port_value", "value must be less than or equal to 65535"},
		{"negative duration", []edit{{"connect_timeout: 0.25s", "connect_timeout: -1s"}},
			appPath + ".connect_timeout", "value must be greater than 0s"},
		{"Any inside Any", []edit{{"envoy.extensions.filters.http.router.v3.Router\n", "envoy.extensions.filters.http.router.v3.Router\n              upstream_http_filters: [{name: \"\"}]\n"}},
			hcmPath + ".http_filters[2].typed_config<Router>.upstream_http_filters[0].name", "value length must be at least 1 runes"},
		{"empty AwsIamConfig service_name", []edit{{"AwsIamConfig\n              service_name: appmesh", "AwsIamConfig\n              service_name: \"\""}},
			"dynamic_resources.ads_config.grpc_services[0].google_grpc.call_credentials[0].from_plugin.typed_config<AwsIamConfig>.service_name",
			"value length must be at least 1 runes"},

		// Check: cluster references
		{"unknown statsd cluster", []edit{{"tcp_cluster_name: statsd", "tcp_cluster_name: statsdd"}},
			"stats_sinks[1].typed_config<StatsdSink>.tcp_cluster_name", `unknown cluster "statsdd": not defined in static_resources.clusters (it is needed at start-up`},
		{"unknown envoy_grpc cluster", []edit{{"envoy_grpc:\n        cluster_name: xds_cluster", "envoy_grpc:\n        cluster_name: xds"}},
			"stats_sinks[2].typed_config<MetricsServiceConfig>.grpc_service.envoy_grpc.cluster_name", `unknown cluster "xds"`},
		{"unknown local cluster", []edit{{"local_cluster_name: local_app", "local_cluster_name: local"}},
			"cluster_manager.local_cluster_name", `unknown cluster "local"`},
		{"unknown tracer cluster", []edit{noCDS, {"collector_cluster: zipkin", "collector_cluster: zipkin2"}},
			hcmPath + ".tracing.provider.typed_config<ZipkinConfig>.collector_cluster", `unknown cluster "zipkin2": not defined in static_resources.clusters and there is no dynamic_resources.cds_config`},
		{"unknown route cluster", []edit{noCDS, {"cluster: local_app\n", "cluster: nope\n"}},
			routesPath + "[1].route.cluster", `unknown cluster "nope"`},
		{"unknown weighted cluster", []edit{noCDS, {"{name: app_v2, weight: 10}", "{name: nope, weight: 10}"}},
			routesPath + "[0].route.weighted_clusters.clusters[1].name", `unknown cluster "nope"`},

		// Check: structure
		{"duplicate cluster", []edit{{"  - name: statsd\n", "  - name: zipkin\n"}},
			"static_resources.clusters[4].name", `duplicate cluster name "zipkin" (also static_resources.clusters[3])`},
		{"listener on the admin port", []edit{{"port_value: 15000}", "port_value: 9901}"}},
			"static_resources.listeners[0].address.socket_address.port_value", `listener "ingress" uses the admin address`},
		{"listener on the admin port, wildcard admin", []edit{{"address: 127.0.0.1, port_value: 15001}", "address: 127.0.0.1, port_value: 9901}"}},
			"static_resources.listeners[1].address.socket_address.port_value", `uses the admin address`},
		{"two listeners on one address", []edit{{"address: 127.0.0.1, port_value: 15001}", "address: 0.0.0.0, port_value: 15000}"}},
			"static_resources.listeners[1].address.socket_address.port_value", `binds the same address as static_resources.listeners[0]`},
		{"node id missing", []edit{{"  id: arn:aws:appmesh:us-west-2:123456789012:mesh/foo/virtualNode/bar\n", ""}},
			"node.id", "required when dynamic_resources are used"},
		{"last HTTP filter not terminal", []edit{{"          - name: envoy.filters.http.router\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n", ""}},
			hcmPath + ".http_filters[1]", "Error: non-terminal filter named envoy.filters.http.aws_request_signing of type envoy.filters.http.aws_request_signing is the last filter in a http filter chain."},
		{"router not last", []edit{{"          - name: envoy.filters.http.grpc_web\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb\n", ""},
			{"          route_config:\n", "          - name: envoy.filters.http.grpc_web\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb\n          route_config:\n"}},
			hcmPath + ".http_filters[1]", "Error: terminal filter named envoy.filters.http.router of type envoy.filters.http.router must be the last filter in a http filter chain."},
		{"STATIC cluster with a host name", []edit{{"{address: 127.0.0.1, port_value: 8080}", "{address: localhost, port_value: 8080}"}},
			appAddr + ".address", `malformed IP address: localhost. Consider setting resolver_name`},
		{"LOGICAL_DNS with two endpoints", []edit{{"{address: app-v2.local, port_value: 8080}", "{address: app-v2.local, port_value: 8080}\n        - endpoint: {address: {socket_address: {address: b.local, port_value: 1}}}"}},
			"static_resources.clusters[2].load_assignment", "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint"},
	})
}

// hcmListener starts a bootstrap with one HTTP connection manager; cases add its route config and filters.
const hcmListener = `
static_resources:
  listeners:
  - address: {socket_address: {address: 0.0.0.0, port_value: 80}}
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
`

const rateLimitDynamicMetadata = hcmListener + `          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              rate_limits:
              - actions:
                - dynamic_metadata: {descriptor_key: k, metadata_key: {key: ns, path: [{key: a}]}}
`

const routeToNope = hcmListener + `          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: nope}}]}]
`

// TestSmallBootstraps covers rules that need a bootstrap shaped unlike the sample.
func TestSmallBootstraps(t *testing.T) {
	const staticXDS = `
static_resources:
  clusters:
  - name: xds
    type: STRICT_DNS
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: cp, port_value: 18000}}}}]}]
`
	cases := []struct {
		name, yaml  string
		path, error string // error "" means: accepted
	}{
		{"ADS cluster unknown", `
node: {id: node1, cluster: c1}
dynamic_resources:
  ads_config: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]}
  cds_config: {ads: {}}
` + staticXDS, "dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name", `unknown cluster "xds_cluster"`},
		{"api_config_source cluster_names unknown", `
node: {id: node1, cluster: c1}
dynamic_resources:
  cds_config: {api_config_source: {api_type: REST, cluster_names: [rest], refresh_delay: 1s}}
` + staticXDS, "dynamic_resources.cds_config.api_config_source.cluster_names[0]", `unknown cluster "rest"`},
		{"ads source without ads_config", `
node: {id: node1, cluster: c1}
dynamic_resources:
  lds_config: {ads: {}}
`, "dynamic_resources.lds_config.ads", "config source uses ADS but dynamic_resources.ads_config is not set"},
		{"bootstrap-level Datadog tracer", `
tracing:
  http:
    name: envoy.tracers.datadog
    typed_config:
      "@type": type.googleapis.com/envoy.config.trace.v3.DatadogConfig
      collector_cluster: datadog_agent
      service_name: svc
`, "tracing.http.typed_config<DatadogConfig>.collector_cluster", `unknown cluster "datadog_agent"`},
		{"TypedStruct payload is checked", `
bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config:
    "@type": type.googleapis.com/udpa.type.v1.TypedStruct
    type_url: type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener
    value: {buffer_size_kbs: 64, bogus: 1}
`, "bootstrap_extensions[0].typed_config<TypedStruct><InternalListener>.bogus", `unknown field "bogus"`},
		{"TypedStruct unknown type", `
bootstrap_extensions:
- name: x
  typed_config:
    "@type": type.googleapis.com/xds.type.v3.TypedStruct
    type_url: type.googleapis.com/envoy.extensions.nope.v3.Nope
`, "bootstrap_extensions[0].typed_config<TypedStruct>.type_url", `unknown type`},
		{"node without cluster", `
node: {id: node1}
dynamic_resources: {lds_config: {path_config_source: {path: /lds.yaml}}}
`, "node.cluster", "required when dynamic_resources are used"},
		{"no node at all: render and run require it", `
dynamic_resources: {lds_config: {path_config_source: {path: /lds.yaml}}}
`, "node.id", "required when dynamic_resources are used"},
		{"route cluster may come from CDS", `
node: {id: node1, cluster: c1}
dynamic_resources: {cds_config: {path_config_source: {path: /cds.yaml}}}
static_resources:
  listeners:
  - address: {socket_address: {address: 0.0.0.0, port_value: 80}}
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: from_cds
`, "", ""},
		{"static route table naming a CDS cluster", `
node: {id: node1, cluster: c1}
dynamic_resources: {cds_config: {path_config_source: {path: /cds.yaml}}}
` + strings.TrimPrefix(routeToNope, "\n"), hcmPath + ".route_config.virtual_hosts[0].routes[0].route.cluster",
			`static listeners are built before CDS answers`},
		{"static route table naming a CDS cluster, validation off", `
node: {id: node1, cluster: c1}
dynamic_resources: {cds_config: {path_config_source: {path: /cds.yaml}}}
` + strings.Replace(strings.TrimPrefix(routeToNope, "\n"), "route_config:", "route_config:\n            validate_clusters: false", 1), "", ""},
		{"route to an unknown cluster, no CDS", routeToNope, hcmPath + ".route_config.virtual_hosts[0].routes[0].route.cluster",
			`unknown cluster "nope"`},
		{"route table opting out of cluster validation",
			strings.Replace(routeToNope, "route_config:", "route_config:\n            validate_clusters: false", 1), "", ""},
		{"empty document", "# nothing\n", "", "empty bootstrap"},
		{"not a mapping", "- a\n- b\n", "", "a bootstrap must be a mapping"},
		{"trailing document separator is harmless", "admin: {}\n---\n", "", ""},
		{"JSON input", `{"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 9901}}}}`, "", ""},
		{"JSON input, wrong type", `{"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": "x"}}}}`,
			"admin.address.socket_address.port_value", `invalid value for uint32 field portValue: "x"`},
		{"HCM without route config", `
static_resources:
  listeners:
  - address: {socket_address: {address: 0.0.0.0, port_value: 80}}
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
`, hcmPath + ".route_specifier", "value is required (set one of: rds, route_config, scoped_routes)"},
		{"disallowed deprecated field", rateLimitDynamicMetadata,
			hcmPath + ".route_config.virtual_hosts[0].rate_limits[0].actions[0].dynamic_metadata", "disallowed by default"},
		{"disallowed field allowed by runtime", rateLimitDynamicMetadata + `
layered_runtime:
  layers:
  - name: static
    static_layer: {envoy: {features: {enable_all_deprecated_features: true}}}
`, "", ""},
		{"disallowed field allowed by its own runtime key", rateLimitDynamicMetadata + `
layered_runtime:
  layers:
  - name: static
    static_layer:
      "envoy.deprecated_features:envoy.config.route.v3.RateLimit.Action.dynamic_metadata": true
`, "", ""},
		{"alias bomb", "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
			"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
			"node: {metadata: {x: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]}}\n", "*", "too large"},
		{"cyclic alias", "node: {metadata: &m {x: *m}}\n", `node.metadata["x"]["x"]["x"]["x"]["x"]["x"]...`, "too deeply nested"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Bootstrap([]byte(tc.yaml))
			if tc.error == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			assertProblem(t, err, tc.path, tc.error)
		})
	}
}

// TestLazyClusterRefs: a cluster Envoy looks up only when traffic (or a fetch) needs it is a warning when unknown,
// never an error (Envoy starts); none when CDS may provide it. One Envoy needs at load stays an error.
func TestLazyClusterRefs(t *testing.T) {
	extAuthz := func(service string) string {
		return hcmListener + `          route_config: {}
          http_filters:
          - name: envoy.filters.http.ext_authz
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
              ` + service + `
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
`
	}
	mutated := func(edits ...edit) string {
		return mutate(t, sample(t), edits...)
	}
	const authzPath = hcmPath + ".http_filters[0].typed_config<ExtAuthz>"
	for _, tc := range []struct {
		name, yaml, path string // path "" means: no warning about clusters
	}{
		{"mirror policy of a table with validate_clusters: false", mutated(noCDS, edit{"- cluster: app_v2", "- cluster: nope"},
			edit{"          route_config:\n", "          route_config:\n            validate_clusters: false\n"}),
			routesPath + "[1].route.request_mirror_policies[0].cluster"},
		{"tcp_proxy (per connection)", mutated(noCDS, edit{"          cluster: app_v2", "          cluster: nope"}),
			"static_resources.listeners[1].filter_chains[0].filters[0].typed_config<TcpProxy>.cluster"},
		{"tcp_proxy with CDS", mutated(edit{"          cluster: app_v2", "          cluster: nope"}), ""},
		{"HTTP URI (fetched when needed)", extAuthz(`http_service: {server_uri: {uri: "http://authz", cluster: authz, timeout: 1s}}`),
			authzPath + ".http_service.server_uri.cluster"},
		{"gRPC service of a filter (skip_cluster_check)", extAuthz(`grpc_service: {envoy_grpc: {cluster_name: authz}}`),
			authzPath + ".grpc_service.envoy_grpc.cluster_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ps := Read([]byte(tc.yaml), FormatYAML)
			if !ps.HasErrors() {
				ps = Inspect(b, Options{})
			}
			if ps.HasErrors() {
				t.Fatalf("refused: %v", ps.Errors())
			}
			var clusterWarns Problems
			for _, w := range ps.Warnings() {
				if strings.Contains(w.Message, "unknown cluster") {
					clusterWarns = append(clusterWarns, w)
				}
			}
			if tc.path == "" {
				if clusterWarns != nil {
					t.Errorf("warned: %v", clusterWarns)
				}
				return
			}
			assertProblem(t, clusterWarns, tc.path, "Envoy looks it up only when traffic needs it")
		})
	}
}

// TestNodeFromFlags: without RequireNode (the validate command), a missing or a partial node is not an error but
// a warning, the same for both; with it (render, run), both are errors.
func TestNodeFromFlags(t *testing.T) {
	cases := []struct{ name, yaml, warn string }{
		{"no node", "dynamic_resources: {lds_config: {path_config_source: {path: /lds.yaml}}}\n", "node.id"},
		{"node without cluster", "node: {id: node1}\ndynamic_resources: {lds_config: {path_config_source: {path: /lds.yaml}}}\n", "node.cluster"},
		{"node without id", "node: {cluster: c1}\ndynamic_resources: {ads_config: {api_type: GRPC, grpc_services: [{google_grpc: {target_uri: cp, stat_prefix: x}}]}}\n", "node.id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Decode([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if probs := CheckWith(b, Options{}); probs != nil {
				t.Fatalf("rejected without RequireNode: %v", probs)
			}
			warns := Warnings(b)
			if len(warns) == 0 || warns[0].Path != tc.warn || !strings.Contains(warns[0].Message, "--service-node") {
				t.Errorf("warnings = %v, want one at %s naming --service-node", warns, tc.warn)
			}
			assertProblem(t, CheckWith(b, Options{RequireNode: true}), tc.warn, "required when dynamic_resources are used")
		})
	}
	b, err := Decode([]byte("node: {id: node1, cluster: c1}\ndynamic_resources: {lds_config: {path_config_source: {path: /l}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := Warnings(b); w != nil {
		t.Errorf("complete node warned: %v", w)
	}
}

// TestDuplicateListenerName: Envoy keeps the first of two static listeners with one name and ignores the second
// (it does not fail), so the validator accepts the bootstrap and warns.
func TestDuplicateListenerName(t *testing.T) {
	b, err := Bootstrap([]byte(mutate(t, sample(t), edit{"name: egress_tcp\n", "name: ingress\n"})))
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	w := Warnings(b)
	if len(w) != 1 || w[0].Path != "static_resources.listeners[1].name" || !strings.Contains(w[0].Message, "Envoy keeps that one and ignores this one") {
		t.Errorf("warnings = %v", w)
	}
}

// TestDuplicateListenerNotBuilt: Envoy drops the second static listener of a name before building it, so what only
// building it would refuse (a terminal filter that is not last, an unknown cluster in its route table, an address
// the first listener holds) is not an error there.
func TestDuplicateListenerNotBuilt(t *testing.T) {
	const doc = `
static_resources:
  clusters: [{name: app, type: STATIC}]
  listeners:
  - name: in
    address: {socket_address: {address: 0.0.0.0, port_value: 80}}
    filter_chains: [{filters: [{name: tcp, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: app}}]}]
  - name: in
    address: {socket_address: {address: 0.0.0.0, port_value: 80}}
    filter_chains:
    - filters:
      - {name: tcp, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: app}}
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: h
          route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: nope}}]}]}
          http_filters: [{name: r, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
`
	b, ps := Read([]byte(doc), FormatYAML)
	if !ps.HasErrors() {
		ps = append(ps, Inspect(b, Options{})...)
	}
	if ps.HasErrors() {
		t.Fatalf("refused, though Envoy drops the second listener unread:\n%v", ps.Errors())
	}
	if w := ps.Warnings(); len(w) != 1 || !strings.Contains(w[0].Message, "Envoy keeps that one and ignores this one") {
		t.Errorf("warnings = %v", w)
	}
}

// TestLoadReportingClusterSurvives: Envoy sets load reporting up after the load and only logs its errors
// (server.cc onRuntimeReady: "Skipping initialization of secondary cluster"), so an unknown cluster there is a
// warning; the same reference from ADS stops Envoy.
func TestLoadReportingClusterSurvives(t *testing.T) {
	const lrs = "cluster_manager: {load_stats_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: nope}}]}}\n"
	b, ps := Read([]byte(lrs), FormatYAML)
	if !ps.HasErrors() {
		ps = append(ps, Inspect(b, Options{})...)
	}
	if ps.HasErrors() {
		t.Fatalf("refused, though Envoy starts without load reporting:\n%v", ps.Errors())
	}
	assertProblem(t, ps.Warnings(), "cluster_manager.load_stats_config.grpc_services[0].envoy_grpc.cluster_name",
		`unknown cluster "nope"`)
}
