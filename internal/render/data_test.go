package render

import (
	"errors"
	"strings"
	"testing"
	"time"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

func mustLoad(t *testing.T, vars map[string]string) *env.Config {
	t.Helper()
	c, _, err := env.Load(env.MapSource(vars), env.Options{FileHasContent: func(string) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var plainFacts = platform.Facts{EnvoyVersion: "envoy  version: abc/1.29.0/Clean/RELEASE/BoringSSL", Region: "us-west-2"}

func noFiles(p string) ([]byte, error) { return nil, errors.New("no file " + p) }

// The template data is tested first (the logic), the templates through golden files.
func TestSidecarPlan(t *testing.T) {
	base := map[string]string{"APPMESH_RESOURCE_ARN": "arn:aws:appmesh:us-west-2:1:mesh/foo/virtualNode/bar"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name  string
		vars  map[string]string
		facts platform.Facts
		check func(t *testing.T, d *Data)
	}{
		{"regional endpoint", base, plainFacts, func(t *testing.T, d *Data) {
			eq(t, d.XDS.TargetURI, "appmesh-envoy-management.us-west-2.amazonaws.com:443")
			eq(t, d.XDS.SigningName, "appmesh")
			eq(t, d.Admin.Address, "0.0.0.0")
			eq(t, d.Stats.Enabled, true)
			eq(t, d.Node.Locality == nil, true)
		}},
		{"preview dual-stack fips", with("APPMESH_PREVIEW", "1", "APPMESH_DUALSTACK_ENDPOINT", "true"), platform.Facts{Region: "us-west-2", FIPS: true}, func(t *testing.T, d *Data) {
			eq(t, d.XDS.TargetURI, "appmesh-preview-envoy-management-fips.us-west-2.api.aws:443")
			eq(t, d.XDS.SigningName, "appmesh-preview")
		}},
		{"govcloud fips has no suffix", with(), platform.Facts{Region: "us-gov-west-1", FIPS: true}, func(t *testing.T, d *Data) {
			eq(t, d.XDS.TargetURI, "appmesh-envoy-management.us-gov-west-1.amazonaws.com:443")
		}},
		{"china", with(), platform.Facts{Region: "cn-north-1"}, func(t *testing.T, d *Data) {
			eq(t, d.XDS.TargetURI, "appmesh-envoy-management.cn-north-1.amazonaws.com.cn:443")
		}},
		{"relay client", with("APPMESH_XDS_ENDPOINT", "unix:///tmp/relay.sock"), platform.Facts{}, func(t *testing.T, d *Data) {
			eq(t, d.RelayClient, true)
			eq(t, d.XDS.TargetURI, "unix:///tmp/relay.sock")
		}},
		{"uds admin", with("ENVOY_ADMIN_MODE", "uds"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, d.Admin.Pipe, EnvoyAdminSocket)
		}},
		{"ipv6 admin", with("ENVOY_ADMIN_ACCESS_ENABLE_IPV6", "true", "ENVOY_ADMIN_ACCESS_PORT", "9999"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, d.Admin.Address, "::")
			eq(t, d.Admin.IPv4Compat, true)
			eq(t, d.Admin.Port, uint16(9999))
		}},
		{"runtime flags", with("MAX_REQUESTS_PER_IO_CYCLE", "7", "ENVOY_ENABLE_TCP_POOL_IDLE_TIMEOUT", "true", "APPMESH_SET_TRACING_DECISION", "false"), plainFacts, func(t *testing.T, d *Data) {
			eq[any](t, d.StaticRuntime["http.max_requests_per_io_cycle"], int64(7))
			eq(t, d.StaticRuntime["envoy.reloadable_features.tcp_pool_idle_timeout"], true)
			eq(t, d.StaticRuntime["envoy.reloadable_features.http_set_tracing_decision_in_request_id"], false)
			rt := d.Node.Metadata["aws.appmesh.static_runtime"].(map[string]any)
			eq[any](t, rt["http.max_requests_per_io_cycle"], int64(7))
		}},
		{"x-ray with address, port and rate", with("ENABLE_ENVOY_XRAY_TRACING", "1", "AWS_XRAY_DAEMON_ADDRESS", "10.0.0.1:3000", "XRAY_DAEMON_PORT", "2001", "XRAY_SAMPLING_RATE", "0.1451"), plainFacts, func(t *testing.T, d *Data) {
			x := d.Tracing.XRay
			eq(t, x.Address, "10.0.0.1")
			eq(t, x.Port, uint16(3000))
			eq(t, x.SegmentName, "foo/bar")
			eq(t, x.SamplingManifest, samplingRulesPath)
		}},
		{"x-ray default rate needs no manifest", with("ENABLE_ENVOY_XRAY_TRACING", "1", "XRAY_SAMPLING_RATE", "0.046"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, d.Tracing.XRay.SamplingManifest, "")
			eq(t, d.Tracing.XRay.Port, uint16(2000))
		}},
		{"datadog", with("ENABLE_ENVOY_DATADOG_TRACING", "1"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, d.Tracing.ServiceName, "envoy-foo/bar")
			eq(t, *d.Tracing.Cluster, ClusterData{Name: "datadog_agent", Address: "127.0.0.1", Port: 8126})
		}},
		{"jaeger json", with("ENABLE_ENVOY_JAEGER_TRACING", "1", "JAEGER_TRACER_VERSION", "JSON"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, d.Tracing.ZipkinVersion, "HTTP_JSON")
		}},
		{"task set without extension has no stats config", map[string]string{"APPMESH_RESOURCE_ARN": "arn:aws:ecs:us-west-2:1:task-set/c/s/e/1", "APPMESH_XDS_ENDPOINT": "unix:///x"}, platform.Facts{}, func(t *testing.T, d *Data) {
			eq(t, d.Stats.Enabled, false)
		}},
		{"dogstatsd uds", with("ENABLE_ENVOY_DOG_STATSD", "1", "STATSD_SOCKET_PATH", "/d.sock"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, *d.Stats.DogStatsd, DogStatsdData{SocketPath: "/d.sock", Address: ""})
		}},
		{"flush interval", with("ENVOY_STATS_FLUSH_INTERVAL", "1m30s"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, *d.Stats.FlushInterval, 90*time.Second)
		}},
		{"locality from platform info", with("APPNET_FIPS_MODE_ENABLED", "true"), platform.Facts{Region: "us-west-2", PlatformInfo: map[string]any{"AvailabilityZoneID": "usw2-az4"}, AvailabilityZoneID: "usw2-az4"}, func(t *testing.T, d *Data) {
			eq(t, *d.Node.Locality, Locality{Region: "us-west-2", Zone: "usw2-az4"})
			eq(t, d.Node.Metadata["aws.appmesh.platformInfo"].(map[string]any)["fipsModeEnabled"], true)
		}},
		{"service connect metadata", with("APPNET_CONTAINER_IP_MAPPING", `{"app":"10.0.0.5"}`, "NAMESPACE_NAME", "ns1", "APPMESH_METRIC_EXTENSION_VERSION", "1"), plainFacts, func(t *testing.T, d *Data) {
			eq(t, d.Node.Metadata["aws.ecs.serviceconnect.ClusterIPMapping"].(map[string]any)["app"], "10.0.0.5")
			eq(t, d.Node.Metadata["aws.ecs.serviceconnect.ServiceDiscovery"].(map[string]any)["NamespaceName"], "ns1")
			eq(t, d.Stats.Extension, true)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newSidecarPlan(mustLoad(t, tc.vars), tc.facts, noFiles)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p.data)
		})
	}
}

func TestSidecarPlanErrors(t *testing.T) {
	cases := []struct {
		name  string
		vars  map[string]string
		facts platform.Facts
		want  string
	}{
		{"no node id", map[string]string{}, plainFacts, "APPMESH_RESOURCE_ARN"},
		{"unparseable id", map[string]string{"APPMESH_RESOURCE_ARN": "foo"}, plainFacts, "Unrecognized resource name format: foo"},
		{"unparseable id names its variable", map[string]string{"APPMESH_RESOURCE_ARN": "foo"}, plainFacts, "APPMESH_RESOURCE_ARN: Unrecognized resource name format: foo"},
		{"unparseable APPMESH_RESOURCE_NAME", map[string]string{"APPMESH_RESOURCE_NAME": "foo"}, plainFacts, "APPMESH_RESOURCE_NAME: Unrecognized resource name format: foo"},
		{"unparseable APPMESH_VIRTUAL_NODE_NAME", map[string]string{"APPMESH_VIRTUAL_NODE_NAME": "foo"}, plainFacts, "APPMESH_VIRTUAL_NODE_NAME: Unrecognized resource name format: foo"},
		{"govcloud plain envoy", map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}, platform.Facts{Region: "us-gov-west-1", EnvoyVersion: "unknown"}, "envoy version: unknown is not FIPS compatible for region us-gov-west-1"},
		{"no region", map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}, platform.Facts{RegionErr: errors.New("unable to retrieve the region from the EC2 Metadata Service: refused")}, "unable to retrieve the region"},
		{"manifest unreadable", map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n", "ENABLE_ENVOY_XRAY_TRACING": "1", "XRAY_SAMPLING_RULE_MANIFEST": "/x.json"}, plainFacts, "XRAY_SAMPLING_RULE_MANIFEST: could not read file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSidecarPlan(mustLoad(t, tc.vars), tc.facts, noFiles)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRelayPlan(t *testing.T) {
	cases := []struct {
		name       string
		vars       map[string]string
		facts      platform.Facts
		domain     string
		curve, err string
	}{
		{"default", map[string]string{}, plainFacts, "ecs-sc.us-west-2.api.aws", "P-256", ""},
		{"iso-f fips", map[string]string{}, platform.Facts{Region: "us-isof-south-1", FIPS: true}, "ecs-sc-fips.us-isof-south-1.api.aws", "P-384", ""},
		{"china", map[string]string{}, platform.Facts{Region: "cn-north-1"}, "ecs-sc.cn-north-1.api.amazonwebservices.com.cn", "P-256", ""},
		{"explicit endpoint skips fips", map[string]string{"APPMESH_XDS_ENDPOINT": "https://mgmt.example"}, platform.Facts{Region: "us-gov-west-1"}, "mgmt.example", "P-256", ""},
		{"domain honoured", map[string]string{"APPNET_MANAGEMENT_DOMAIN_NAME": "x.example"}, plainFacts, "x.example", "P-256", ""},
		{"govcloud plain", map[string]string{}, platform.Facts{Region: "us-gov-west-1", EnvoyVersion: "v"}, "", "", "not FIPS compatible"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}
			for k, v := range tc.vars {
				vars[k] = v
			}
			p, err := newRelayPlan(mustLoad(t, vars), tc.facts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			eq(t, p.data.Relay.Domain, tc.domain)
			eq(t, p.data.Relay.Curve, tc.curve)
		})
	}
}

func TestParseMesh(t *testing.T) {
	m, err := parseMesh("arn:aws:appmesh:us-west-2:1:mesh/m1/virtualGateway/gw1")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m, Mesh{Mesh: "m1", Type: "virtualGateway", Name: "gw1", SnakeType: "virtual_gateway", UpperType: "VirtualGateway"})
	if _, err := parseMesh("a/b/c"); err == nil {
		t.Fatal("three parts must not parse")
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 90 * time.Second: "90s", 1500 * time.Millisecond: "1.500s", time.Millisecond: "0.001s", 1500 * time.Microsecond: "0.001500s", time.Nanosecond: "0.000000001s"} {
		eq(t, formatDuration(d), want)
	}
}

func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}
