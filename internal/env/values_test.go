package env

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Issue 7, defect 10: numbers and JSON values are never changed or misreported silently.
func TestLoadNeverChangesValuesSilently(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	cases := []struct {
		name string
		vars map[string]string
		want string // substring of the error
	}{
		{"duration beyond time.Duration", map[string]string{"ENVOY_INITIAL_FETCH_TIMEOUT": "10000000000"},
			"ENVOY_INITIAL_FETCH_TIMEOUT: 10000000000 seconds is more than the agent can represent (at most 9223372036 seconds"},
		{"integer beyond int64 without bounds", map[string]string{"MAX_REQUESTS_PER_IO_CYCLE": "99999999999999999999"},
			"MAX_REQUESTS_PER_IO_CYCLE: 99999999999999999999 is outside >= 1"},
		{"uint32 beyond its type", map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "1", "RELAY_BUFFER_LIMIT_BYTES": "5000000000"},
			"RELAY_BUFFER_LIMIT_BYTES: 5000000000 is outside 1..4294967295"},
		{"port mapping huge", map[string]string{"APPNET_LISTENER_PORT_MAPPING": `{"l1":99999999999999999999999}`},
			`APPNET_LISTENER_PORT_MAPPING: "{\"l1\":99999999999999999999999}" is not a valid JSON object: "l1": number 99999999999999999999999 cannot be kept exactly`},
		{"port mapping negative", map[string]string{"APPNET_LISTENER_PORT_MAPPING": `{"l1":-1}`},
			`APPNET_LISTENER_PORT_MAPPING: the port of "l1" is -1; ports are whole numbers in 1..65535`},
		{"port mapping string", map[string]string{"APPNET_LISTENER_PORT_MAPPING": `{"l1":"x"}`},
			`APPNET_LISTENER_PORT_MAPPING: the port of "l1" is "x"; ports are whole numbers in 1..65535`},
		{"port mapping fraction", map[string]string{"APPNET_LISTENER_PORT_MAPPING": `{"l1":80.5}`},
			`the port of "l1" is 80.5`},
		{"duplicate key", map[string]string{"APPNET_CONTAINER_IP_MAPPING": `{"app":"10.0.0.1","app":"10.0.0.2"}`},
			`APPNET_CONTAINER_IP_MAPPING: "{\"app\":\"10.0.0.1\",\"app\":\"10.0.0.2\"}" is not a valid JSON object: key "app" appears twice`},
		{"duplicate nested key", map[string]string{"APPNET_CONTAINER_IP_MAPPING": `{"a":{"b":1,"b":2}}`}, `"a": key "b" appears twice`},
		{"number out of range", map[string]string{"APPNET_CONTAINER_IP_MAPPING": `{"a":1e999}`}, `"a": number 1e999 is out of range`},
		{"deep nesting names the variable", map[string]string{"APPNET_CONTAINER_IP_MAPPING": deep}, "APPNET_CONTAINER_IP_MAPPING: "},
		{"deep nesting says why", map[string]string{"APPNET_CONTAINER_IP_MAPPING": deep}, "nested deeper than 32 levels"},
		{"trailing content", map[string]string{"APPNET_CONTAINER_IP_MAPPING": `{} {}`}, "unexpected content after the object"},
		{"hostname as DogStatsD address", map[string]string{"ENABLE_ENVOY_DOG_STATSD": "1", "STATSD_ADDRESS": "datadog-agent"},
			`STATSD_ADDRESS: "datadog-agent" must be an IPv4 or IPv6 address`},
		{"concurrency beyond reason", map[string]string{"ENVOY_CONCURRENCY": "4294967297"}, "ENVOY_CONCURRENCY: 4294967297 is outside <= 1024"},
		{"management socket too long", map[string]string{"APPNET_AGENT_ADMIN_MODE": "uds", "APPNET_AGENT_ADMIN_UDS_PATH": "/" + strings.Repeat("s", 120)},
			"APPNET_AGENT_ADMIN_UDS_PATH: the socket path is 121 bytes long; a Unix socket path can be at most 107 bytes"},
		{"relay socket too long", map[string]string{"APPMESH_XDS_ENDPOINT": "unix:///" + strings.Repeat("s", 110)},
			"APPMESH_XDS_ENDPOINT: the socket path is 111 bytes long"},
		{"SDS socket too long", map[string]string{"APPMESH_SDS_SOCKET_PATH": "/" + strings.Repeat("s", 107)}, "APPMESH_SDS_SOCKET_PATH: the socket path is 108 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.vars)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadAcceptsValuesAtTheLimits(t *testing.T) {
	c, warns, err := load(t, map[string]string{
		"APPNET_LISTENER_PORT_MAPPING": `{"l1":1,"l2":65535}`, "APPNET_CONTAINER_IP_MAPPING": `{"app":"10.0.0.5","n":9007199254740992,"f":1.5}`,
		"ENABLE_ENVOY_DOG_STATSD": "1", "STATSD_ADDRESS": "[fd00::1]", "ENVOY_CONCURRENCY": "1024",
		"APPNET_AGENT_ADMIN_MODE": "uds", "APPNET_AGENT_ADMIN_UDS_PATH": "/" + strings.Repeat("s", 106),
		"ENVOY_INITIAL_FETCH_TIMEOUT": "9223372036",
	})
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v, warnings %q", err, warns)
	}
	if c.Stats.StatsdAddress != "fd00::1" || c.Metadata.ListenerPortMapping["l2"] != float64(65535) ||
		c.Metadata.ContainerIPMapping["n"] != float64(1<<53) || c.XDS.InitialFetch != 9223372036*time.Second {
		t.Fatalf("values %q %v %v %v", c.Stats.StatsdAddress, c.Metadata.ListenerPortMapping, c.Metadata.ContainerIPMapping, c.XDS.InitialFetch)
	}
}

// A clamp warning quotes the value as given, not the int64 it saturated to.
func TestClampWarningQuotesTheValueAsGiven(t *testing.T) {
	c, warns, err := load(t, map[string]string{"APPNET_ENVOY_RESTART_COUNT": "9223372036854775808", "LISTENER_DRAIN_WAIT_TIME_S": "-99999999999999999999"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"LISTENER_DRAIN_WAIT_TIME_S: -99999999999999999999 is outside the allowed range 5..110; using 5",
		"APPNET_ENVOY_RESTART_COUNT: 9223372036854775808 is outside the allowed range 0..10; using 10",
	}
	if c.Agent.RestartCount != 10 || c.Agent.DrainWait != 5*time.Second || !reflect.DeepEqual(sortedCopy(warns), sortedCopy(want)) {
		t.Fatalf("restarts %d drain %v warnings %q", c.Agent.RestartCount, c.Agent.DrainWait, warns)
	}
}

func TestErrorsAreTypedPerVariable(t *testing.T) {
	_, _, err := load(t, map[string]string{"ENVOY_LOG_LEVEL": "loud", "ENVOY_ADMIN_ACCESS_PORT": "x"})
	var ve *VarError
	if !errors.As(err, &ve) {
		t.Fatalf("%v has no *VarError", err)
	}
	var names []string
	for _, e := range err.(Errors) {
		var v *VarError
		if !errors.As(e, &v) {
			t.Fatalf("element %v is not a *VarError", e)
		}
		names = append(names, v.Name)
	}
	if strings.Join(sortedCopy(names), ",") != "ENVOY_ADMIN_ACCESS_PORT,ENVOY_LOG_LEVEL" {
		t.Fatalf("names %q", names)
	}
}

func TestMinimumDrainIsClampedToTheDeadline(t *testing.T) {
	c, warns, err := load(t, map[string]string{"LISTENER_DRAIN_WAIT_TIME_S": "8", "APPNET_MIN_DRAIN_TIME_S": "30"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent.MinDrain != 8*time.Second || len(warns) != 1 || !strings.Contains(warns[0], "APPNET_MIN_DRAIN_TIME_S: 30 is longer than LISTENER_DRAIN_WAIT_TIME_S (8)") {
		t.Fatalf("min drain %v, warnings %q", c.Agent.MinDrain, warns)
	}
	if c, _, _ := load(t, nil); c.Agent.MinDrain != 5*time.Second {
		t.Fatalf("default min drain %v", c.Agent.MinDrain)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
