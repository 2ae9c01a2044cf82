package render

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

func TestOTLPHTTPURI(t *testing.T) {
	tests := []struct{ endpoint, variable, want string }{
		{"http://c:4318", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/v1/traces"},
		{"http://c:4318/", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/v1/traces"},
		{"https://c/base", "OTEL_EXPORTER_OTLP_ENDPOINT", "https://c/base/v1/traces"},
		{"http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/"},
		{"http://[::1]:4318/custom", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://[::1]:4318/custom"},
		{"http://c/a%20b", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c/a%20b"},
	}
	for _, tc := range tests {
		var ep env.OTLPEndpoint
		if err := ep.Decode(tc.endpoint); err != nil {
			t.Fatal(err)
		}
		if got := otlpHTTPURI(ep, tc.variable); got != tc.want {
			t.Errorf("%s from %s: %q, want %q", tc.endpoint, tc.variable, got, tc.want)
		}
	}
}

func otelVars(kv ...string) map[string]string {
	m := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/foo/virtualNode/bar", "ENABLE_ENVOY_OTEL_TRACING": "true"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestOTelSamplerRoundingWarns(t *testing.T) {
	res, err := renderVars(otelVars("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.12345678"), Options{Collector: fixedCollector})
	if err != nil {
		t.Fatal(err)
	}
	want := "OTEL_TRACES_SAMPLER_ARG: 0.12345678 is rounded to 0.123457 (Envoy's sampling ratio has a resolution of one in a million)"
	if !slices.Contains(res.Warnings, want) {
		t.Errorf("warnings %q lack %q", res.Warnings, want)
	}
	res, err = renderVars(otelVars("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.125"), Options{Collector: fixedCollector})
	if err != nil || slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "OTEL_") }) {
		t.Errorf("an exact ratio warned: %q, %v", res.Warnings, err)
	}
}

func TestOTelCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing.pem"), "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: open " + filepath.Join(dir, "missing.pem") + ": no such file or directory"},
		{notPEM, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: " + notPEM + " holds no PEM certificate"},
	}
	for _, tc := range tests {
		_, err := renderVars(otelVars("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c:4317", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", tc.path), Options{Collector: fixedCollector})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to contain %q", err, tc.want)
		}
	}
}

func TestNodeAttributes(t *testing.T) {
	n := Node{ID: "mesh/m/virtualNode/n", Cluster: "c"}
	tests := []struct {
		name  string
		facts platform.Facts
		want  map[string]string
	}{
		{"nothing known", platform.Facts{}, map[string]string{"envoy.node.id": "mesh/m/virtualNode/n", "envoy.node.cluster": "c"}},
		{"EKS", platform.Facts{Region: "eu-west-1", PlatformInfo: map[string]any{
			platform.KeyK8sPlatformInfo: map[string]any{}, platform.KeyAvailabilityZone: "eu-west-1a"}},
			map[string]string{"envoy.node.id": "mesh/m/virtualNode/n", "envoy.node.cluster": "c", "cloud.provider": "aws", "cloud.region": "eu-west-1",
				"cloud.availability_zone": "eu-west-1a", "cloud.platform": "aws_eks"}},
		{"ECS, cluster by name", platform.Facts{Region: "eu-west-1", PlatformInfo: map[string]any{
			platform.KeyECSPlatformInfo: map[string]any{"ecsClusterArn": "default", "ecsTaskArn": "arn:aws:ecs:eu-west-1:1:task/default/t"}}},
			map[string]string{"envoy.node.id": "mesh/m/virtualNode/n", "envoy.node.cluster": "c", "cloud.provider": "aws", "cloud.region": "eu-west-1",
				"cloud.platform": "aws_ecs", "aws.ecs.task.arn": "arn:aws:ecs:eu-west-1:1:task/default/t"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := nodeAttributes(n, tc.facts)
			if len(got) != len(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
