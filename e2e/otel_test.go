package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenTelemetryAndOverloadRun: with the OpenTelemetry tracer and a heap limit, the
// agent writes a bootstrap with both, logs the heap limit and its source, and starts Envoy
// with OTEL_RESOURCE_ATTRIBUTES in its environment (Envoy's resource detector reads it).
func TestOpenTelemetryAndOverloadRun(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "ENABLE_ENVOY_OTEL_TRACING=true", "OTEL_EXPORTER_OTLP_ENDPOINT=http://[::1]:4317",
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.2",
		"OTEL_RESOURCE_ATTRIBUTES=team=payments", "STANDIN_RECORD_ENV=OTEL_RESOURCE_ATTRIBUTES",
		"APPNET_ENVOY_MAX_HEAP_BYTES=268435456", "LISTENER_DRAIN_WAIT_TIME_S=5")
	a.start()
	a.waitEnvoyUp(1)
	boot, err := os.ReadFile(a.boot)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: envoy.tracers.opentelemetry", `authority: "[::1]:4317"`, `address: "::1"`, "numerator: 200000",
		"max_heap_size_bytes: 268435456", "name: envoy.overload_actions.stop_accepting_requests"} {
		if !strings.Contains(string(boot), want) {
			a.fatalf("the bootstrap lacks %q:\n%s", want, boot)
		}
	}
	if want := "Envoy overload protection: heap limit 268435456 bytes (APPNET_ENVOY_MAX_HEAP_BYTES)"; !strings.Contains(a.stderr(), want) {
		a.fatalf("stderr lacks %q", want)
	}
	if got := envoyStarts(a.events())[0].Env["OTEL_RESOURCE_ATTRIBUTES"]; got != "team=payments" {
		a.fatalf("Envoy's OTEL_RESOURCE_ATTRIBUTES = %q, want team=payments", got)
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 0 {
		a.fatalf("agent exit code %d after SIGTERM, want 0", code)
	}
}

// TestBadOpenTelemetryValuesStartNothing: each bad OpenTelemetry or heap value stops the
// agent with exit 1 before anything runs (not even the Envoy version probe), naming the
// variable.
func TestBadOpenTelemetryValuesStartNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no scheme", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=collector:4317"}, `OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4317" has no scheme`},
		{"unbracketed IPv6", []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://fd00::1:4317"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "},
		{"http/json", []string{"OTEL_EXPORTER_OTLP_PROTOCOL=http/json"}, `OTEL_EXPORTER_OTLP_PROTOCOL: "http/json"`},
		{"unsupported sampler", []string{"OTEL_TRACES_SAMPLER=xray"}, `OTEL_TRACES_SAMPLER: "xray" is not supported`},
		{"ratio out of range", []string{"OTEL_TRACES_SAMPLER=traceidratio", "OTEL_TRACES_SAMPLER_ARG=2"}, "OTEL_TRACES_SAMPLER_ARG: 2 is outside 0..1"},
		{"resource attributes", []string{"OTEL_RESOURCE_ATTRIBUTES=team"}, `OTEL_RESOURCE_ATTRIBUTES: "team" is not key=value`},
		{"two tracers", []string{"ENABLE_ENVOY_XRAY_TRACING=true"}, "ENABLE_ENVOY_OTEL_TRACING, ENABLE_ENVOY_XRAY_TRACING: only a single envoy trace driver"},
		{"missing CA file", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://collector:4317", "OTEL_EXPORTER_OTLP_CERTIFICATE=/nonexistent/ca.pem"},
			"OTEL_EXPORTER_OTLP_CERTIFICATE: open /nonexistent/ca.pem"},
		{"heap too small", []string{"APPNET_ENVOY_MAX_HEAP_BYTES=1024"}, "APPNET_ENVOY_MAX_HEAP_BYTES: 1024 is outside >= 16777216"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, append([]string{"ENABLE_ENVOY_OTEL_TRACING=true"}, tc.env...)...)
			if code := a.run(20 * time.Second); code != 1 {
				a.fatalf("agent exit code %d, want 1", code)
			}
			if !strings.Contains(a.stderr(), tc.want) {
				a.fatalf("stderr lacks %q", tc.want)
			}
			if n := len(envoyStarts(a.events())); n != 0 {
				a.fatalf("%d Envoy starts, want none", n)
			}
			if b, _ := os.ReadFile(a.boot); len(b) != 0 {
				a.fatalf("a bootstrap was written")
			}
		})
	}
}
