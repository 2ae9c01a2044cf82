package env

import (
	"strings"
	"testing"
	"time"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
)

func load(t *testing.T, vars map[string]string) (*Config, []string, error) {
	t.Helper()
	return Load(MapSource(vars), Options{FileHasContent: func(p string) bool { return p == "/existing.yaml" }})
}

func TestLoadDefaults(t *testing.T) {
	c, warns, err := load(t, map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"})
	if err != nil || len(warns) != 0 {
		t.Fatalf("err=%v warns=%v", err, warns)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"admin mode", c.Admin.Mode, "tcp"},
		{"admin port", c.Admin.Port, uint16(9901)},
		{"access log", c.Admin.AccessLog, "/tmp/envoy_admin_access.log"},
		{"tracing decision", c.Runtime.SetTracingDecision, true},
		{"restart count", c.Agent.RestartCount, 3},
		{"drain wait", c.Agent.DrainWait, 20 * time.Second},
		{"hc poll", c.API.HCPollInterval, 10 * time.Second},
		{"admin api off", c.API.AdminMode == nil, true},
		{"bind", c.API.HTTPBindAddress, BindAddress("::")},
		{"log level", c.Agent.LogLevel, "info"},
		{"max requests unset", c.XDS.MaxRequestsPerIO == nil, true},
		{"flush unset", c.Stats.FlushInterval == nil, true},
		{"node id", c.Identity.NodeID(), "mesh/m/virtualNode/n"},
		{"node cluster", c.Identity.NodeCluster(), "mesh/m/virtualNode/n"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	cases := []struct {
		vars map[string]string
		want string // substring of the error
	}{
		{map[string]string{"ENVOY_ADMIN_ACCESS_PORT": "abc"}, `ENVOY_ADMIN_ACCESS_PORT: "abc" is not an integer; allowed: 1..65535`},
		{map[string]string{"ENVOY_ADMIN_ACCESS_PORT": "0"}, "ENVOY_ADMIN_ACCESS_PORT: 0 is outside 1..65535"},
		{map[string]string{"ENVOY_ADMIN_ACCESS_PORT": "-1"}, "ENVOY_ADMIN_ACCESS_PORT: -1 is outside"},
		{map[string]string{"ENABLE_ENVOY_DOG_STATSD": "1", "STATSD_PORT": "70000"}, "STATSD_PORT: 70000 is outside 1..65535"},
		{map[string]string{"ENVOY_INITIAL_FETCH_TIMEOUT": "-5"}, "ENVOY_INITIAL_FETCH_TIMEOUT: -5 is outside"},
		{map[string]string{"ENVOY_STATS_FLUSH_INTERVAL": "10"}, "ENVOY_STATS_FLUSH_INTERVAL: \"10\" is not a duration"},
		{map[string]string{"ENVOY_STATS_FLUSH_INTERVAL": "-5s"}, "ENVOY_STATS_FLUSH_INTERVAL: -5s is outside"},
		{map[string]string{"MAX_REQUESTS_PER_IO_CYCLE": "0"}, "MAX_REQUESTS_PER_IO_CYCLE: 0 is outside"},
		{map[string]string{"APPNET_FIPS_MODE_ENABLED": "yes"}, "APPNET_FIPS_MODE_ENABLED: \"yes\" is not a boolean"},
		{map[string]string{"APPNET_CONTAINER_IP_MAPPING": "{bad"}, "APPNET_CONTAINER_IP_MAPPING: \"{bad\" is not a valid JSON object: invalid character 'b'"},
		{map[string]string{"APPNET_LISTENER_PORT_MAPPING": "[1]"}, "APPNET_LISTENER_PORT_MAPPING"},
		{map[string]string{"APPNET_LISTENER_PORT_MAPPING": "null"}, "APPNET_LISTENER_PORT_MAPPING"},
		{map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "1", "XRAY_SAMPLING_RATE": "1.5"}, "XRAY_SAMPLING_RATE: \"1.5\" must be a decimal between 0 and 1.00"},
		{map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "1", "XRAY_SAMPLING_RATE": "NaN"}, "XRAY_SAMPLING_RATE"},
		{map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "1", "AWS_XRAY_DAEMON_ADDRESS": "xray.local:2000"}, "AWS_XRAY_DAEMON_ADDRESS: \"xray.local\" must be a static IPv4 or IPv6 address"},
		{map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "1", "AWS_XRAY_DAEMON_ADDRESS": "1.2.3.4:99999"}, "AWS_XRAY_DAEMON_ADDRESS"},
		{map[string]string{"ENABLE_ENVOY_JAEGER_TRACING": "1", "ENABLE_ENVOY_DATADOG_TRACING": "1"}, "ENABLE_ENVOY_DATADOG_TRACING, ENABLE_ENVOY_JAEGER_TRACING: only a single envoy trace driver"},
		{map[string]string{"ENVOY_LOG_LEVEL": "verbose"}, `ENVOY_LOG_LEVEL: "verbose" is not allowed; allowed: trace, debug`},
		{map[string]string{"ENVOY_ADMIN_MODE": "pipe"}, "ENVOY_ADMIN_MODE"},
		{map[string]string{"APPNET_AGENT_ADMIN_MODE": "http"}, "APPNET_AGENT_ADMIN_MODE"},
		{map[string]string{"APPNET_AGENT_HTTP_BIND_ADDRESS": "localhost"}, "APPNET_AGENT_HTTP_BIND_ADDRESS"},
		{map[string]string{"APPNET_ENVOY_RESTART_COUNT": "many"}, "APPNET_ENVOY_RESTART_COUNT: \"many\" is not an integer"},
		{map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "1", "APPNET_MANAGEMENT_PORT": "abc"}, "APPNET_MANAGEMENT_PORT"},
		{map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "1", "RELAY_STREAM_IDLE_TIMEOUT": "soon"}, "RELAY_STREAM_IDLE_TIMEOUT"},
		{map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "maybe"}, "APPNET_ENABLE_RELAY_MODE_FOR_XDS"},
		{map[string]string{"APPNET_AGENT_MAX_LOG_FILE_SIZE": "NaN"}, "APPNET_AGENT_MAX_LOG_FILE_SIZE"},
		{map[string]string{"NAMESPACE_NAME": "a\xffb"}, "NAMESPACE_NAME: the value is not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			_, _, err := load(t, tc.vars)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadReportsAllErrorsAtOnce(t *testing.T) {
	_, _, err := load(t, map[string]string{
		"ENVOY_ADMIN_ACCESS_PORT": "-1", "ENVOY_INITIAL_FETCH_TIMEOUT": "-5", "ENVOY_STATS_FLUSH_INTERVAL": "-5s", "ENVOY_LOG_LEVEL": "loud",
	})
	errs, ok := err.(Errors)
	if !ok || len(errs) != 4 {
		t.Fatalf("want 4 errors, got %v", err)
	}
}

// Variables that do not apply are not parsed, as in the reference agent.
func TestLoadIgnoresVariablesThatDoNotApply(t *testing.T) {
	cases := map[string]map[string]string{
		"UDS admin ignores TCP variables":     {"ENVOY_ADMIN_MODE": "UDS", "ENVOY_ADMIN_ACCESS_PORT": "abc", "ENVOY_ADMIN_ACCESS_ENABLE_IPV6": "bad"},
		"tracing file disables ENABLE_*":      {"ENVOY_TRACING_CFG_FILE": "/t.yaml", "ENABLE_ENVOY_XRAY_TRACING": "garbage"},
		"existing bootstrap disables all":     {"ENVOY_CONFIG_FILE": "/existing.yaml", "ENABLE_ENVOY_XRAY_TRACING": "garbage", "ENVOY_STATS_FLUSH_INTERVAL": "x"},
		"task set ignores stats tags":         {"APPMESH_RESOURCE_ARN": "arn:aws:ecs:r:1:task-set/c/s/e/1", "ENABLE_ENVOY_STATS_TAGS": "garbage"},
		"statsd socket ignores port":          {"ENABLE_ENVOY_DOG_STATSD": "1", "STATSD_SOCKET_PATH": "/s.sock", "STATSD_PORT": "notused"},
		"explicit endpoint and signing name":  {"APPMESH_XDS_ENDPOINT": "x:1", "APPMESH_SIGNING_NAME": "s", "APPMESH_PREVIEW": "bad", "APPMESH_DUALSTACK_ENDPOINT": "bad"},
		"relay client ignores preview":        {"APPMESH_XDS_ENDPOINT": " unix:///x.sock", "APPMESH_PREVIEW": "bad"},
		"sidecar ignores relay variables":     {"APPNET_MANAGEMENT_PORT": "abc"},
		"relay ignores sidecar variables":     {"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "ENVOY_ADMIN_ACCESS_PORT": "abc", "ENABLE_ENVOY_DOG_STATSD": "x"},
		"manifest ignores sampling rate":      {"ENABLE_ENVOY_XRAY_TRACING": "1", "XRAY_SAMPLING_RULE_MANIFEST": "/m.json", "XRAY_SAMPLING_RATE": "7"},
		"x-ray off ignores its address":       {"AWS_XRAY_DAEMON_ADDRESS": "nonsense"},
		"metric extension garbage only warns": {"APPMESH_METRIC_EXTENSION_VERSION": "true"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := load(t, vars); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLoadTrimsEveryValue(t *testing.T) {
	c, _, err := load(t, map[string]string{"ENVOY_ADMIN_MODE": " uds", "APPMESH_XDS_ENDPOINT": " unix:///tmp/x.sock ", "APPNET_AGENT_HTTP_PORT": " 1234 "})
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.Mode != "uds" || !c.RelayClient() || c.API.HTTPPort != 1234 {
		t.Fatalf("got mode %q relayClient %v port %d", c.Admin.Mode, c.RelayClient(), c.API.HTTPPort)
	}
}

func TestLoadClampsTimersWithWarning(t *testing.T) {
	c, warns, err := load(t, map[string]string{"APPNET_ENVOY_RESTART_COUNT": "50", "LISTENER_DRAIN_WAIT_TIME_S": "1", "HC_POLL_INTERVAL_MS": "100000", "PID_POLL_INTERVAL_MS": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent.RestartCount != 10 || c.Agent.DrainWait != 5*time.Second || c.API.HCPollInterval != 30*time.Second || c.Agent.PIDPollInterval != 100*time.Millisecond {
		t.Fatalf("clamping: %+v %+v", c.Agent, c.API)
	}
	if len(warns) != 4 || !strings.Contains(warns[0], "APPNET_ENVOY_RESTART_COUNT: 50 is outside the allowed range 0..10; using 10") {
		t.Fatalf("warnings %q", warns)
	}
}

// Values beyond int64 are out of range like any other: clamped for timers, rejected for ports.
func TestLoadHugeNumbers(t *testing.T) {
	c, warns, err := load(t, map[string]string{"LISTENER_DRAIN_WAIT_TIME_S": "99999999999", "APPNET_ENVOY_RESTART_COUNT": "99999999999999999999999"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent.DrainWait != 110*time.Second || c.Agent.RestartCount != 10 || len(warns) != 2 {
		t.Fatalf("drain %v restarts %d warnings %q", c.Agent.DrainWait, c.Agent.RestartCount, warns)
	}
	if _, _, err := load(t, map[string]string{"ENVOY_ADMIN_ACCESS_PORT": "99999999999999999999999"}); err == nil || !strings.Contains(err.Error(), "ENVOY_ADMIN_ACCESS_PORT") {
		t.Fatalf("port: %v", err)
	}
}

func TestLoadTypedValues(t *testing.T) {
	c, _, err := load(t, map[string]string{
		"ENABLE_ENVOY_XRAY_TRACING": "true", "AWS_XRAY_DAEMON_ADDRESS": "tcp:127.0.0.1:2000 udp:10.0.0.9:3000",
		"ENVOY_STATS_FLUSH_INTERVAL": "1m30s", "MAX_REQUESTS_PER_IO_CYCLE": "1", "ENVOY_ENABLE_TCP_POOL_IDLE_TIMEOUT": "false",
		"APPNET_AGENT_ADMIN_MODE": "", "HC_DISCONNECTED_TIMEOUT_S": "3600", "APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S": "3",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.XRay.Address != (XRayAddress{IP: "10.0.0.9", Port: 3000}) {
		t.Errorf("xray address %+v", c.XRay.Address)
	}
	if *c.Stats.FlushInterval != 90*time.Second || *c.XDS.MaxRequestsPerIO != 1 || *c.XDS.TCPPoolIdleTimeout {
		t.Errorf("optional values wrong")
	}
	if c.API.AdminMode == nil || *c.API.AdminMode != "tcp" {
		t.Errorf("set-but-empty APPNET_AGENT_ADMIN_MODE must start the TCP API")
	}
	if c.API.HCDisconnected != time.Hour || c.API.HCPollInterval != 3*time.Second {
		t.Errorf("hc %v %v", c.API.HCDisconnected, c.API.HCPollInterval)
	}
}

func TestXRayAddressForms(t *testing.T) {
	cases := []struct {
		in   string
		want XRayAddress
		bad  bool
	}{
		{in: "1.2.3.4", want: XRayAddress{IP: "1.2.3.4"}},
		{in: "1.2.3.4:1234", want: XRayAddress{IP: "1.2.3.4", Port: 1234}},
		{in: "[::1]:2000", want: XRayAddress{IP: "::1", Port: 2000}},
		{in: "::1", want: XRayAddress{IP: "::1"}},
		{in: "fd00::abcd", want: XRayAddress{IP: "fd00::abcd"}},
		{in: "udp:1.2.3.4:5 tcp:1.2.3.4:6", want: XRayAddress{IP: "1.2.3.4", Port: 5}},
		{in: "tcp:1.2.3.4:6", bad: true},
		{in: "xray.local", bad: true},
		{in: "1.2.3.4:0", bad: true},
	}
	for _, tc := range cases {
		var a XRayAddress
		err := a.Decode(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && a != tc.want) {
			t.Errorf("%q: got %+v, %v", tc.in, a, err)
		}
	}
}

func TestEveryVariableIsDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars() {
		if v.Desc == "" || v.Type == "" {
			t.Errorf("%s lacks a description or type", v.Name)
		}
		if seen[v.Name] {
			t.Errorf("%s declared twice", v.Name)
		}
		seen[v.Name] = true
	}
	if len(seen) < 80 {
		t.Errorf("only %d variables documented", len(seen))
	}
	for _, w := range []string{"APPNET_ENVOY_PATH", "APPNET_TEMPLATE_DIR", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "APPNET_AGENT_ALLOW_REMOTE_ADMIN"} {
		if !seen[w] {
			t.Errorf("%s missing", w)
		}
	}
}

// Every variable set to a syntactically valid sample must load: catches unsupported field types.
func TestEveryFieldTypeLoads(t *testing.T) {
	samples := map[string]string{"port": "80", "integer": "5", "boolean": "true", "seconds": "60", "milliseconds": "5000",
		"duration": "5s", "number": "1", "JSON object": "{}", "address": "127.0.0.1", "fraction": "0.5", "IP address": "::", "string": "x",
		"URL": "http://collector:4318", "key=value list": "a=b"}
	vars := map[string]string{}
	for _, v := range Vars() {
		if v.Type == "enum" {
			continue
		}
		vars[v.Name] = samples[v.Type]
	}
	vars["APPNET_ENABLE_RELAY_MODE_FOR_XDS"] = "false"
	vars["APPNET_ENVOY_MAX_HEAP_BYTES"] = "16777216" // at least 16 MiB
	vars["ENVOY_CONFIG_FILE"] = "/new.yaml"
	if _, _, err := load(t, vars); err != nil {
		t.Fatal(err)
	}
}
