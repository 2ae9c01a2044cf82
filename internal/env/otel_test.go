package env

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOTLPEndpointForms(t *testing.T) {
	tests := []struct {
		in   string
		want OTLPEndpoint
	}{
		{"http://collector:4317", OTLPEndpoint{Scheme: "http", Host: "collector", Port: 4317, Authority: "collector:4317"}},
		{"https://otlp.example.com", OTLPEndpoint{Scheme: "https", Host: "otlp.example.com", Port: 443, Authority: "otlp.example.com"}},
		{"http://otlp.example.com", OTLPEndpoint{Scheme: "http", Host: "otlp.example.com", Port: 80, Authority: "otlp.example.com"}},
		{"HTTP://Collector.Local:4318/base/", OTLPEndpoint{Scheme: "http", Host: "Collector.Local", Port: 4318, Authority: "Collector.Local:4318", Path: "/base/"}},
		{"http://10.0.0.7:4317", OTLPEndpoint{Scheme: "http", Host: "10.0.0.7", Port: 4317, Authority: "10.0.0.7:4317"}},
		{"https://[2001:db8::7]:4317", OTLPEndpoint{Scheme: "https", Host: "2001:db8::7", Port: 4317, Authority: "[2001:db8::7]:4317"}},
		{"http://[::1]", OTLPEndpoint{Scheme: "http", Host: "::1", Port: 80, Authority: "[::1]"}},
		{"http://host:/v1/traces", OTLPEndpoint{Scheme: "http", Host: "host", Port: 80, Authority: "host", Path: "/v1/traces"}},
		{"http://adot_collector:4317", OTLPEndpoint{Scheme: "http", Host: "adot_collector", Port: 4317, Authority: "adot_collector:4317"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var got OTLPEndpoint
			if err := got.Decode(tc.in); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOTLPEndpointRejects(t *testing.T) {
	tests := []struct{ in, want string }{
		{"collector:4317", `"collector:4317" has no scheme; write http://collector:4317 for a plaintext collector or https://collector:4317 for TLS`},
		{"127.0.0.1:4317", "has no scheme"},
		{"grpc://collector:4317", `the scheme must be http (plaintext) or https (TLS), not "grpc"`},
		{"http://::1:4317", "an IPv6 address must be in brackets, e.g. http://[::1]:4317"},
		{"http://[fe80::1%25eth0]:4317", "IPv6 zones"},
		{"http://[10.0.0.1]:4317", "not a valid URL"},
		{"http://user:secret@collector:4317", "credentials in the URL are not supported"},
		{"http://collector:4317?x=1", "a query or fragment is not supported"},
		{"http://collector:4317#frag", "a query or fragment is not supported"},
		{"http://", "has no host"},
		{"http:///v1/traces", "has no host"},
		{"http://collector:0", "port 0 is outside 1..65535"},
		{"http://collector:70000", "port 70000 is outside 1..65535"},
		{"http://999.1.1.1:4317", `"999.1.1.1" is neither a hostname nor an IP address`},
		{"http://bad..name:4317", "is neither a hostname nor an IP address"},
		{"http://ho st:4317", "not a valid URL"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var got OTLPEndpoint
			err := got.Decode(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// otelOn is the minimal environment with the OpenTelemetry tracer on, plus vars.
func otelOn(vars map[string]string) map[string]string {
	m := map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n", "ENABLE_ENVOY_OTEL_TRACING": "true"}
	for k, v := range vars {
		m[k] = v
	}
	return m
}

func TestOTelDefaults(t *testing.T) {
	c, warns, err := load(t, otelOn(nil))
	if err != nil || len(warns) > 0 {
		t.Fatalf("err=%v warns=%v", err, warns)
	}
	o := c.OTel
	if _, _, ok := o.TracesEndpoint(); ok || o.Protocol() != OTLPGRPC || o.ExportTimeout() != 10*time.Second || o.Sampler != "" {
		t.Errorf("defaults: %+v protocol %s timeout %v", o, o.Protocol(), o.ExportTimeout())
	}
	if ca, v := o.CAFile(); ca != "" || v != "" {
		t.Errorf("CA file %q from %q without TLS", ca, v)
	}
}

// A signal-specific variable wins over its general twin, which is then reported as ignored.
func TestOTelPrecedence(t *testing.T) {
	c, warns, err := load(t, otelOn(map[string]string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":    "https://traces.example.com/v1/traces",
		"OTEL_EXPORTER_OTLP_ENDPOINT":           "http://base.example.com",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL":    "HTTP/Protobuf",
		"OTEL_EXPORTER_OTLP_PROTOCOL":           "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT":     "2500",
		"OTEL_EXPORTER_OTLP_TIMEOUT":            "100",
		"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/ca/traces.pem",
		"OTEL_EXPORTER_OTLP_CERTIFICATE":        "/ca/all.pem",
	}))
	if err != nil {
		t.Fatal(err)
	}
	o := c.OTel
	ep, variable, _ := o.TracesEndpoint()
	ca, caVar := o.CAFile()
	if ep.Host != "traces.example.com" || variable != "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" || o.Protocol() != OTLPHTTPProtobuf ||
		o.ExportTimeout() != 2500*time.Millisecond || ca != "/ca/traces.pem" || caVar != "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE" {
		t.Errorf("got endpoint %+v from %s, protocol %s, timeout %v, CA %s from %s", ep, variable, o.Protocol(), o.ExportTimeout(), ca, caVar)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_CERTIFICATE"} {
		twin := strings.Replace(name, "OTEL_EXPORTER_OTLP_", "OTEL_EXPORTER_OTLP_TRACES_", 1)
		want := name + " is ignored: " + twin + " is set"
		if !slices.Contains(warns, want) {
			t.Errorf("no warning %q in %q", want, warns)
		}
	}

	// The general variables apply when the specific ones are unset.
	c, _, err = load(t, otelOn(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://base.example.com", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_EXPORTER_OTLP_TIMEOUT": "100", "OTEL_EXPORTER_OTLP_CERTIFICATE": "/ca/all.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	ep, variable, _ = c.OTel.TracesEndpoint()
	ca, caVar = c.OTel.CAFile()
	if variable != "OTEL_EXPORTER_OTLP_ENDPOINT" || ep.Port != 443 || c.OTel.Protocol() != OTLPHTTPProtobuf || c.OTel.ExportTimeout() != 100*time.Millisecond || caVar != "OTEL_EXPORTER_OTLP_CERTIFICATE" || ca != "/ca/all.pem" {
		t.Errorf("general variables: endpoint %+v from %s, protocol %s, timeout %v, CA %s from %s", ep, variable, c.OTel.Protocol(), c.OTel.ExportTimeout(), ca, caVar)
	}
}

func TestOTelRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, `OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4317" has no scheme`},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:99999"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: \"http://c:99999\": port 99999"},
		{"gRPC with a path", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317/v1/traces"},
			`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the path "/v1/traces" means nothing to OTLP over gRPC`},
		{"gRPC with a base path", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317/otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			`OTEL_EXPORTER_OTLP_ENDPOINT: the path "/otlp" means nothing`},
		{"http/json", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			`OTEL_EXPORTER_OTLP_PROTOCOL: "http/json": Envoy's OpenTelemetry tracer sends OTLP as protobuf only; allowed: grpc, http/protobuf`},
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "thrift"},
			`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "thrift" is not allowed; allowed: grpc, http/protobuf`},
		{"jaeger_remote", map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, `OTEL_TRACES_SAMPLER: "jaeger_remote" is not supported: jaeger_remote, parentbased_jaeger_remote and xray need a sampling server`},
		{"xray sampler", map[string]string{"OTEL_TRACES_SAMPLER": "xray"}, `OTEL_TRACES_SAMPLER: "xray" is not supported`},
		{"unknown sampler", map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, `OTEL_TRACES_SAMPLER: "sometimes" is not allowed; allowed: always_on, always_off, traceidratio`},
		{"ratio above 1", map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG: 1.5 is outside 0..1"},
		{"ratio not a number", map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, `OTEL_TRACES_SAMPLER_ARG: "half" is not a number; allowed: 0..1`},
		{"timeout zero", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0"}, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: 0 is outside >= 1"},
		{"timeout with unit", map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, `OTEL_EXPORTER_OTLP_TIMEOUT: "10s" is not an integer number of milliseconds`},
		{"attribute without value", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=payments,tier"}, `OTEL_RESOURCE_ATTRIBUTES: "tier" is not key=value`},
		{"attribute with two =", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "a=b=c"}, `OTEL_RESOURCE_ATTRIBUTES: "a=b=c" is not key=value`},
		{"attribute without key", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "=b"}, `OTEL_RESOURCE_ATTRIBUTES: "=b" is not key=value`},
		{"attribute empty value", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "a="}, `OTEL_RESOURCE_ATTRIBUTES: "a=" is not key=value`},
		{"bad enable", map[string]string{"ENABLE_ENVOY_OTEL_TRACING": "sure"}, `ENABLE_ENVOY_OTEL_TRACING: "sure" is not a boolean`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, otelOn(tc.vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestOTelSamplers(t *testing.T) {
	tests := []struct {
		sampler, arg string
		want         OTelSampler
		ratio        float64
		warn         string
	}{
		{"always_on", "", SamplerAlwaysOn, 0, ""},
		{"ALWAYS_OFF", "", SamplerAlwaysOff, 0, ""},
		{"traceidratio", "", SamplerTraceIDRatio, 1, ""}, // the specification's default argument
		{"traceidratio", "0.25", SamplerTraceIDRatio, 0.25, ""},
		{"parentbased_traceidratio", "0", SamplerParentTraceIDRatio, 0, ""},
		{"parentbased_always_on", "0.5", SamplerParentAlwaysOn, 0,
			"OTEL_TRACES_SAMPLER_ARG is ignored: OTEL_TRACES_SAMPLER is not traceidratio or parentbased_traceidratio"},
		{"parentbased_always_off", "", SamplerParentAlwaysOff, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.sampler+"/"+tc.arg, func(t *testing.T) {
			c, warns, err := load(t, otelOn(map[string]string{"OTEL_TRACES_SAMPLER": tc.sampler, "OTEL_TRACES_SAMPLER_ARG": tc.arg}))
			if err != nil {
				t.Fatal(err)
			}
			if c.OTel.Sampler != tc.want || c.OTel.SamplerArg != tc.ratio {
				t.Errorf("sampler %q arg %v, want %q %v", c.OTel.Sampler, c.OTel.SamplerArg, tc.want, tc.ratio)
			}
			if (tc.warn == "" && len(warns) > 0) || (tc.warn != "" && !slices.Contains(warns, tc.warn)) {
				t.Errorf("warnings %q, want %q", warns, tc.warn)
			}
		})
	}
}

// The sampler names in the struct tag (docs) and in OTelSampler.Decode are the same list.
func TestSamplerTagMatchesDecoder(t *testing.T) {
	f, _ := reflect.TypeOf(OpenTelemetry{}).FieldByName("Sampler")
	if got := f.Tag.Get("oneof"); got != supportedSamplers {
		t.Errorf("oneof tag %q, decoder accepts %q", got, supportedSamplers)
	}
	f, _ = reflect.TypeOf(OpenTelemetry{}).FieldByName("TracesProtocol")
	g, _ := reflect.TypeOf(OpenTelemetry{}).FieldByName("GeneralProtocol")
	if want := OTLPGRPC + "," + OTLPHTTPProtobuf; f.Tag.Get("oneof") != want || g.Tag.Get("oneof") != want {
		t.Errorf("protocol tags %q, %q; decoder accepts %q", f.Tag.Get("oneof"), g.Tag.Get("oneof"), want)
	}
}

func TestOTelVariablesAreIgnoredWhenTheyDoNotApply(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		warn string
	}{
		{"tracer off", map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n", "OTEL_EXPORTER_OTLP_ENDPOINT": "garbage"},
			"OTEL_EXPORTER_OTLP_ENDPOINT is ignored: ENABLE_ENVOY_OTEL_TRACING is not true"},
		{"tracing file", map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n", "ENVOY_TRACING_CFG_FILE": "/t.yaml", "ENABLE_ENVOY_OTEL_TRACING": "garbage"},
			"ENABLE_ENVOY_OTEL_TRACING is ignored: ENVOY_TRACING_CFG_FILE is set"},
		{"certificate without TLS", otelOn(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_CERTIFICATE": "/ca.pem"}),
			"OTEL_EXPORTER_OTLP_CERTIFICATE is ignored: the collector endpoint is not https://"},
		{"certificate with the default endpoint", otelOn(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/ca.pem"}),
			"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE is ignored: the collector endpoint is not https://"},
		{"ratio without a ratio sampler", otelOn(map[string]string{"OTEL_TRACES_SAMPLER_ARG": "x"}),
			"OTEL_TRACES_SAMPLER_ARG is ignored: OTEL_TRACES_SAMPLER is not traceidratio or parentbased_traceidratio"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, warns, err := load(t, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(warns, tc.warn) {
				t.Errorf("warnings %q lack %q", warns, tc.warn)
			}
		})
	}
}

// The reference's one-tracer rule covers the fourth tracer, with the same wording.
func TestOneTracerOfFour(t *testing.T) {
	_, _, err := load(t, otelOn(map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "true"}))
	want := "ENABLE_ENVOY_OTEL_TRACING, ENABLE_ENVOY_XRAY_TRACING: only a single envoy trace driver can be configured; enable only one of " +
		"ENABLE_ENVOY_XRAY_TRACING, ENABLE_ENVOY_DATADOG_TRACING, ENABLE_ENVOY_JAEGER_TRACING or ENABLE_ENVOY_OTEL_TRACING"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestHeapVariables(t *testing.T) {
	base := map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}
	with := func(vars map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range vars {
			m[k] = v
		}
		return m
	}
	c, warns, err := load(t, with(map[string]string{"APPNET_ENVOY_MAX_HEAP_BYTES": "536870912", "APPNET_ENVOY_HEAP_FROM_CGROUP": "true", "APPNET_ENVOY_HEAP_FRACTION": "0.5"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Overload.MaxHeapBytes == nil || *c.Overload.MaxHeapBytes != 536870912 || c.Overload.FromCgroup {
		t.Errorf("explicit limit: %+v", c.Overload)
	}
	for _, w := range []string{"APPNET_ENVOY_HEAP_FROM_CGROUP is ignored: APPNET_ENVOY_MAX_HEAP_BYTES is set", "APPNET_ENVOY_HEAP_FRACTION is ignored: APPNET_ENVOY_MAX_HEAP_BYTES is set"} {
		if !slices.Contains(warns, w) {
			t.Errorf("warnings %q lack %q", warns, w)
		}
	}
	c, _, err = load(t, with(map[string]string{"APPNET_ENVOY_HEAP_FROM_CGROUP": "true"}))
	if err != nil || !c.Overload.FromCgroup || c.Overload.Fraction != 0.8 {
		t.Errorf("from cgroup: %+v, %v", c.Overload, err)
	}
	_, warns, _ = load(t, with(map[string]string{"APPNET_ENVOY_HEAP_FRACTION": "0.5"}))
	if !slices.Contains(warns, "APPNET_ENVOY_HEAP_FRACTION is ignored: APPNET_ENVOY_HEAP_FROM_CGROUP is not true") {
		t.Errorf("fraction alone: warnings %q", warns)
	}

	bad := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"APPNET_ENVOY_MAX_HEAP_BYTES": "512"}, "APPNET_ENVOY_MAX_HEAP_BYTES: 512 is outside >= 16777216"},
		{map[string]string{"APPNET_ENVOY_MAX_HEAP_BYTES": "1GiB"}, `APPNET_ENVOY_MAX_HEAP_BYTES: "1GiB" is not an integer`},
		{map[string]string{"APPNET_ENVOY_HEAP_FROM_CGROUP": "yes"}, `APPNET_ENVOY_HEAP_FROM_CGROUP: "yes" is not a boolean`},
		{map[string]string{"APPNET_ENVOY_HEAP_FROM_CGROUP": "true", "APPNET_ENVOY_HEAP_FRACTION": "0"}, "APPNET_ENVOY_HEAP_FRACTION: 0 is outside 0.01..1"},
		{map[string]string{"APPNET_ENVOY_HEAP_FROM_CGROUP": "true", "APPNET_ENVOY_HEAP_FRACTION": "80%"}, `APPNET_ENVOY_HEAP_FRACTION: "80%" is not a number`},
		{map[string]string{"APPNET_ENVOY_HEAP_FROM_CGROUP": "true", "APPNET_ENVOY_HEAP_FRACTION": "1.2"}, "APPNET_ENVOY_HEAP_FRACTION: 1.2 is outside 0.01..1"},
	}
	for _, tc := range bad {
		t.Run(tc.want, func(t *testing.T) {
			_, _, err := load(t, with(tc.vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// OTEL_* variables the tracer has no setting for are named, not silently dropped.
func TestUnreadOTelVariablesWarn(t *testing.T) {
	vars := otelOn(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=secret", "OTEL_SERVICE_NAME": "s"})
	names := []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_HEADERS", "ENABLE_ENVOY_OTEL_TRACING"}
	_, warns, err := Load(MapSource(vars), Options{Names: names})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"OTEL_EXPORTER_OTLP_HEADERS is not read by appnet-agent (its OpenTelemetry tracer has no such setting), so it is ignored"}
	if !slices.Equal(warns, want) {
		t.Errorf("warnings %q, want %q", warns, want)
	}
	// With the tracer off they are someone else's business.
	delete(vars, "ENABLE_ENVOY_OTEL_TRACING")
	if _, warns, _ := Load(MapSource(vars), Options{Names: names[:1]}); slices.ContainsFunc(warns, func(w string) bool { return strings.Contains(w, "HEADERS") }) {
		t.Errorf("tracer off: warnings %q", warns)
	}
}
