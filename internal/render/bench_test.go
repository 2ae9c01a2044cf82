package render

import (
	"context"
	"errors"
	"testing"

	"github.com/appnet/appnet-agent/internal/env"
)

// benchResources is an ENVOY_RESOURCES_CONFIG_FILE of realistic size: a
// listener with an HTTP connection manager (typed_config to unpack and
// validate) and its cluster, served from memory so the disk does not blur
// the measurement.
const benchResources = `
static_resources:
  listeners:
  - name: static_ingress
    address: {socket_address: {address: 0.0.0.0, port_value: 15000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: static_ingress
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          route_config:
            name: local
            virtual_hosts:
            - name: app
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route: {cluster: static_app}
  clusters:
  - name: static_app
    type: STATIC
    connect_timeout: 0.5s
    load_assignment:
      cluster_name: static_app
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
`

var benchEnvs = []struct {
	name string
	vars map[string]string
}{
	{"appmesh-minimal", map[string]string{
		"AWS_REGION":           "us-west-2",
		"APPMESH_RESOURCE_ARN": "arn:aws:appmesh:us-west-2:123456789012:mesh/foo/virtualNode/bar",
	}},
	{"busy", map[string]string{
		"AWS_REGION":                       "us-west-2",
		"APPMESH_RESOURCE_ARN":             "arn:aws:appmesh:us-west-2:123456789012:mesh/foo/virtualNode/bar",
		"ENABLE_ENVOY_XRAY_TRACING":        "true",
		"ENABLE_ENVOY_STATS_TAGS":          "true",
		"APPMESH_METRIC_EXTENSION_VERSION": "1",
		"ENABLE_ENVOY_DOG_STATSD":          "true",
		"ENVOY_STATS_FLUSH_INTERVAL":       "10s",
		"ENVOY_RESOURCES_CONFIG_FILE":      "/bench/resources.yaml",
		"APPNET_CONTAINER_IP_MAPPING":      `{"app":"10.0.0.5"}`,
		"NAMESPACE_NAME":                   "ns1",
	}},
	{"otel-overload", map[string]string{
		"AWS_REGION":                         "us-west-2",
		"APPMESH_RESOURCE_ARN":               "arn:aws:appmesh:us-west-2:123456789012:mesh/foo/virtualNode/bar",
		"ENABLE_ENVOY_OTEL_TRACING":          "true",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://otlp.example.com:4317",
		"OTEL_TRACES_SAMPLER":                "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":            "0.1",
		"APPNET_ENVOY_MAX_HEAP_BYTES":        "536870912",
	}},
	{"relay", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "AWS_REGION": "us-west-2"}},
}

func benchReadFile(p string) ([]byte, error) {
	if p == "/bench/resources.yaml" {
		return []byte(benchResources), nil
	}
	return nil, errors.New("no such file: " + p)
}

// BenchmarkRender measures config → validated canonical bytes, warm: the
// config is loaded and the templates parsed once, outside the loop, as in a
// long-lived process; the collector is free. What remains is template
// execution, lint, user-file merge, strict decode, deep validation and
// canonical serialisation. Target: ≤ 2 ms.
func BenchmarkRender(b *testing.B) {
	tmpl, err := LoadTemplates("")
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range benchEnvs {
		b.Run(be.name, func(b *testing.B) {
			cfg, _, err := env.Load(env.MapSource(be.vars), env.Options{FileHasContent: func(string) bool { return false }})
			if err != nil {
				b.Fatal(err)
			}
			opts := Options{Collector: fixedCollector, Templates: tmpl, ReadFile: benchReadFile}
			ctx := context.Background()
			res, err := Render(ctx, cfg, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(res.Bytes)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(ctx, cfg, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadTemplates is the part BenchmarkRender leaves out: the template stage as a start
// runs it, the templates loaded first (once per process, concurrent with fact collection).
// Without an overlay only the files the mode uses are parsed, on first use ("on-use"); "all"
// parses every file at load, as with APPNET_TEMPLATE_DIR (here an empty one).
func BenchmarkLoadTemplates(b *testing.B) {
	ctx := context.Background()
	for _, be := range benchEnvs {
		cfg, _, err := env.Load(env.MapSource(be.vars), env.Options{FileHasContent: func(string) bool { return false }})
		if err != nil {
			b.Fatal(err)
		}
		opts := Options{Collector: fixedCollector, ReadFile: benchReadFile}.withDefaults()
		b.Run("on-use/"+be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := renderTemplates(ctx, cfg, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
		dir := b.TempDir()
		b.Run("all/"+be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				all := opts
				if all.Templates, err = LoadTemplates(dir); err != nil {
					b.Fatal(err)
				}
				if _, _, err := renderTemplates(ctx, cfg, all); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
