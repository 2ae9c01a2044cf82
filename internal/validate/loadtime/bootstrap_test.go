package loadtime_test

import (
	"strconv"
	"testing"
)

func TestBootstrapLoadRules(t *testing.T) { runRules(t, casesBootstrapLoadRules()) }

func casesBootstrapLoadRules() []ruleCase {
	rc := func(addr string, port int) string {
		return "static_resources:\n  listeners:\n  - name: r\n    address: {socket_address: {address: '" + addr + "', port_value: " + strconv.Itoa(port) + ", resolver_name: envoy.resolvers.reverse_connection}}\n" +
			"    filter_chains: [{filters: [{name: t, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}]}]\n" +
			"  clusters:\n  - {name: app, type: STATIC, load_assignment: {cluster_name: app, endpoints: [" + ip1 + "]}}\n"
	}
	const rcAddr = "static_resources.listeners[0].address.socket_address.address"
	jsonLog := func(format string) string {
		return "application_log_config: {log_format: {json_format: " + format + "}}\n"
	}
	return []ruleCase{
		{"stats flush on a timer", "stats_flush_interval: 10s\nstats_eviction_interval: 60s\n", "", ""},
		{"stats flush on a timer and on admin", "stats_flush_interval: 10s\nstats_flush_on_admin: true\n",
			"stats_flush_on_admin", "Only one of stats_flush_interval or stats_flush_on_admin should be set!"},
		{"stats eviction not a multiple of the flush", "stats_flush_interval: 10s\nstats_eviction_interval: 25s\n",
			"stats_eviction_interval", "stats_eviction_interval must be a multiple of stats_flush_interval"},
		{"stats eviction and the default flush", "stats_eviction_interval: 7s\n",
			"stats_eviction_interval", "stats_eviction_interval must be a multiple of stats_flush_interval"},
		{"inline header", "inline_headers: [{inline_header_name: x-request-id, inline_header_type: REQUEST_HEADER}]\n", "", ""},
		{"inline set-cookie", "inline_headers: [{inline_header_name: Set-Cookie, inline_header_type: RESPONSE_HEADER}]\n",
			"inline_headers[0].inline_header_name", "Header Set-Cookie cannot be registered as an inline header."},
		{"json log format", jsonLog("{level: '%l', message: '%j', time: '%Y'}"), "", ""},
		{"json log format with the message flag", jsonLog("{level: '%l', message: '%v'}"),
			"application_log_config.log_format.json_format", "setJsonLogFormat error: Usage of %v is unavailable for JSON log formats"},
		{"json log format with the untagged flag", jsonLog("{nested: {message: ['%_']}}"),
			"application_log_config.log_format.json_format", "setJsonLogFormat error: Usage of %_ is unavailable for JSON log formats"},
		{"reverse connection address", rc("rc://node:cluster:tenant@upstream:2", 0), "", ""},
		{"reverse connection address without scheme", rc("node:cluster:tenant@upstream:2", 0), rcAddr, "Address must start with 'rc://' for reverse connection resolver."},
		{"reverse connection address with a port", rc("rc://node:cluster:tenant@upstream:2", 8080), rcAddr, "Only port 0 is supported for reverse connections. Got port: 8080"},
		{"reverse connection address without cluster", rc("rc://node:cluster:tenant", 0), rcAddr, "Invalid reverse connection address format."},
		{"reverse connection source", rc("rc://node:cluster@upstream:2", 0), rcAddr, "Invalid source info format."},
		{"reverse connection without node", rc("rc://:cluster:tenant@upstream:2", 0), rcAddr, "Source node ID cannot be empty"},
		{"reverse connection without source cluster", rc("rc://node::tenant@upstream:2", 0), rcAddr, "Source cluster ID cannot be empty"},
		{"reverse connection remote cluster", rc("rc://node:cluster:tenant@upstream", 0), rcAddr, "Invalid cluster config format: upstream."},
		{"reverse connection count", rc("rc://node:cluster:tenant@upstream:many", 0), rcAddr, "Invalid connection count: many"},
	}
}

func init() { registerCases(casesBootstrapLoadRules) }
