package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"

	"github.com/appnet/appnet-agent/internal/golden"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// The ECS task definition with an ADOT collector sidecar in docs/TRACING.md is valid JSON, and its Envoy
// container's environment renders a bootstrap with the OpenTelemetry tracer it describes.
func TestTracingDocTaskDefinition(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "TRACING.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "## OpenTelemetry\n")
	j := strings.Index(s[max(i, 0):], "```json\n")
	if i < 0 || j < 0 {
		t.Fatal("docs/TRACING.md has no task definition in its OpenTelemetry section")
	}
	block := s[i+j+len("```json\n"):]
	block = block[:strings.Index(block, "```")]
	var td struct {
		ContainerDefinitions []struct {
			Name        string `json:"name"`
			Environment []struct{ Name, Value string }
		} `json:"containerDefinitions"`
	}
	dec := json.NewDecoder(strings.NewReader(block))
	if err := dec.Decode(&td); err != nil {
		t.Fatalf("the task definition is not valid JSON: %v", err)
	}
	vars := map[string]string{}
	for _, c := range td.ContainerDefinitions {
		if c.Name == "envoy" {
			for _, e := range c.Environment {
				vars[e.Name] = e.Value
			}
		}
	}
	if vars["ENABLE_ENVOY_OTEL_TRACING"] != "true" {
		t.Fatalf("no envoy container with the OpenTelemetry tracer: %v", vars)
	}
	// On ECS the region comes from instance metadata.
	facts := platform.Replay(platform.HostFacts{InstanceMetadata: &platform.InstanceMetadata{Region: "us-west-2"}})
	res, _, err := golden.Render(context.Background(), vars, facts)
	if err != nil {
		t.Fatal(err)
	}
	var otel tracev3.OpenTelemetryConfig
	//lint:ignore SA1019 bootstrap tracing is deprecated in favour of per-listener tracing, but it is what the agent renders (as the reference)
	if err := res.Bootstrap.GetTracing().GetHttp().GetTypedConfig().UnmarshalTo(&otel); err != nil {
		t.Fatalf("no OpenTelemetry tracer: %v", err)
	}
	if otel.GetServiceName() != "checkout-envoy" || otel.GetGrpcService().GetEnvoyGrpc().GetAuthority() != "127.0.0.1:4317" ||
		otel.GetSampler().GetName() != "envoy.tracers.opentelemetry.samplers.parent_based" {
		t.Errorf("tracer %v", &otel)
	}
}
