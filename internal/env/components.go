package env

import (
	"fmt"
	"slices"
	"strings"
)

// EnvoyComponents are the names Envoy's --component-log-level accepts: its logger registry,
// ALL_LOGGER_IDS in source/common/common/logger.h. Envoy refuses an unknown name at start
// ("invalid component specified"), which the agent would only see as an Envoy that exits 1
// and is restarted until the budget is spent, so the variable is checked against this list
// first. Where the list came from: docs/DESIGN.md, "Envoy's component names".
var EnvoyComponents = []string{
	"admin", "alternate_protocols_cache", "aws", "assert", "backtrace", "basic_auth",
	"cache_filter", "client", "config", "connection", "conn_handler", "compression",
	"credential_injector", "decompression", "dns", "dubbo", "dynamic_modules", "envoy_bug",
	"ext_authz", "ext_proc", "rocketmq", "file", "filter", "forward_proxy", "geolocation", "grpc",
	"happy_eyeballs", "hc", "health_checker", "http", "http2", "hystrix", "init", "io", "jwt",
	"kafka", "key_value_store", "local_rate_limit", "lua", "main", "matcher", "mcp", "misc",
	"mongo", "multi_connection", "notification", "oauth2", "quic", "quic_stream", "pool",
	"rate_limit_quota", "rbac", "rds", "redis", "router", "runtime", "stats", "secret", "tap",
	"testing", "thrift", "tracing", "upstream", "udp", "wasm", "websocket", "golang",
	"stats_sinks",
}

// componentLevelNames are the levels Envoy's command line takes for a component, as for -l.
var componentLevelNames = []string{"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}

// ComponentLogLevels is ENVOY_COMPONENT_LOG_LEVEL: per-component Envoy log levels,
// "upstream:debug,connection:trace", in the order given; empty when unset.
type ComponentLogLevels []ComponentLevel

// ComponentLevel is one component and its level, both lower case.
type ComponentLevel struct{ Component, Level string }

// Decode accepts comma-separated component:level pairs (spaces around names and levels and
// letter case do not matter). An unknown component, an unknown level, a pair without a
// colon, an empty item or a component given twice is an error naming it.
func (c *ComponentLogLevels) Decode(v string) error {
	var out ComponentLogLevels
	seen := map[string]bool{}
	for i, item := range strings.Split(v, ",") {
		name, level, ok := strings.Cut(item, ":")
		name, level = strings.ToLower(strings.TrimSpace(name)), strings.ToLower(strings.TrimSpace(level))
		switch {
		case strings.TrimSpace(item) == "":
			return fmt.Errorf("item %d is empty; want COMPONENT:LEVEL pairs separated by commas, e.g. upstream:debug,connection:trace", i+1)
		case !ok || name == "" || level == "":
			return fmt.Errorf("%q is not COMPONENT:LEVEL (e.g. upstream:debug)", strings.TrimSpace(item))
		case !slices.Contains(EnvoyComponents, name):
			return fmt.Errorf("%q is not a component of Envoy's logger%s", name, componentHint(name))
		case !slices.Contains(componentLevelNames, level):
			return fmt.Errorf("%s: %q is not a log level; allowed: %s", name, level, strings.Join(componentLevelNames, ", "))
		case seen[name]:
			return fmt.Errorf("%s is given twice", name)
		}
		seen[name] = true
		out = append(out, ComponentLevel{name, level})
	}
	*c = out
	return nil
}

// componentHint suggests the closest component name, or lists them all.
func componentHint(name string) string {
	best, bestDist := "", -1
	for _, n := range EnvoyComponents {
		if d := editDistance(name, n); d <= max(2, len(name)/4) && (bestDist < 0 || d < bestDist) {
			best, bestDist = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	sorted := slices.Sorted(slices.Values(EnvoyComponents))
	return "; allowed: " + strings.Join(sorted, ", ")
}

// String is the value for Envoy's --component-log-level: "upstream:debug,connection:trace".
func (c ComponentLogLevels) String() string {
	parts := make([]string, len(c))
	for i, cl := range c {
		parts[i] = cl.Component + ":" + cl.Level
	}
	return strings.Join(parts, ",")
}
