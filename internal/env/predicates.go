package env

import (
	"fmt"
	"reflect"
	"strings"
)

// predicate decides whether a guarded variable is read (tag `when`) or has any effect (tag
// `effect`). It sees the variables declared before the guarded one (fields are loaded in
// declaration order).
type predicate struct {
	doc string // shown in `appnet-agent env` as "read when ..."
	// whyNot returns "" when the predicate holds, else why it does not, phrased so that
	// "X is ignored: <reason>" reads well ("APPMESH_XDS_ENDPOINT is set").
	whyNot func(c *Config) string
}

// Reasons a predicate fails, shared by the predicates built from them.
func notSidecar(c *Config) string {
	switch {
	case c.Mode.RelayMode:
		return "relay mode is on (APPNET_ENABLE_RELAY_MODE_FOR_XDS)"
	}
	return notGenerated(c)
}

func notGenerated(c *Config) string {
	switch {
	case c.Mode.RelayMode:
	case c.Mode.ExistingFile:
		return "ENVOY_CONFIG_FILE names an existing bootstrap, which is used as is"
	case c.Mode.Inline.Set():
		return "ENVOY_CONFIG holds a whole bootstrap, which is used as is"
	}
	return ""
}

func notAppMesh(c *Config) string {
	if r := notSidecar(c); r != "" {
		return r
	}
	if c.RelayClient() {
		return "APPMESH_XDS_ENDPOINT is unix:// (Service Connect relay client)"
	}
	return ""
}

func notTracingGenerated(c *Config) string {
	if r := notSidecar(c); r != "" {
		return r
	}
	if g := c.TracingFragment(); g.Set() {
		return g.Variable() + " is set"
	}
	return ""
}

func notDogStatsd(c *Config) string {
	switch {
	case notSidecar(c) != "":
		return notSidecar(c)
	case !c.Runtime.EnableDogStatsdSink:
		return "ENABLE_ENVOY_DOG_STATSD is not true"
	case c.SinksFragment().Set():
		return c.SinksFragment().Variable() + " is set"
	}
	return ""
}

// tracer is the predicate of one generated tracer's variables.
func tracer(enabled func(c *Config) bool, flag string) func(c *Config) string {
	return func(c *Config) string {
		if r := notTracingGenerated(c); r != "" {
			return r
		}
		if !enabled(c) {
			return flag + " is not true"
		}
		return ""
	}
}

// predicates mirror when the reference agent reads each variable: a variable that does not
// apply is not parsed at all, so a stale value (e.g. a bad TCP port in UDS admin mode) is
// harmless, and a set one is reported as ignored (notices.go).
var predicates = withPredicates(map[string]predicate{
	"generate": {"a bootstrap is generated", notGenerated},
	"sidecar":  {"a sidecar bootstrap is generated", notSidecar},
	"notRelay": {"relay mode is off", func(c *Config) string {
		if c.Mode.RelayMode {
			return "relay mode is on (APPNET_ENABLE_RELAY_MODE_FOR_XDS)"
		}
		return ""
	}},
	"relay": {"APPNET_ENABLE_RELAY_MODE_FOR_XDS is true", func(c *Config) string {
		if !c.Mode.RelayMode {
			return "relay mode is off (APPNET_ENABLE_RELAY_MODE_FOR_XDS is not true)"
		}
		return ""
	}},
	"tcpAdmin": {"Envoy admin is on TCP", func(c *Config) string {
		switch {
		case c.Mode.RelayMode:
			return "relay mode puts Envoy admin on a Unix socket"
		case c.Admin.Mode != "tcp":
			return "ENVOY_ADMIN_MODE is uds"
		}
		return ""
	}},
	"tcpAdminBootstrap": {"a sidecar bootstrap with TCP admin is generated", func(c *Config) string {
		if r := notSidecar(c); r != "" {
			return r
		}
		if c.Admin.Mode != "tcp" {
			return "ENVOY_ADMIN_MODE is uds"
		}
		return ""
	}},
	"appMesh": {"App Mesh sidecar (APPMESH_XDS_ENDPOINT is not unix://)", notAppMesh},
	"regionalEndpoint": {"App Mesh sidecar without APPMESH_XDS_ENDPOINT", func(c *Config) string {
		if r := notAppMesh(c); r != "" {
			return r
		}
		if c.Mode.XDSEndpoint != "" {
			return "APPMESH_XDS_ENDPOINT is set"
		}
		return ""
	}},
	"preview": {"App Mesh sidecar without APPMESH_XDS_ENDPOINT or APPMESH_SIGNING_NAME", func(c *Config) string {
		if r := notAppMesh(c); r != "" {
			return r
		}
		if c.Mode.XDSEndpoint != "" && c.XDS.SigningName != "" {
			return "APPMESH_XDS_ENDPOINT and APPMESH_SIGNING_NAME are set"
		}
		return ""
	}},
	"tracingGenerated": {"sidecar without ENVOY_TRACING_CFG_FILE or ENVOY_TRACING_CFG", notTracingGenerated},
	"xray":             {"ENABLE_ENVOY_XRAY_TRACING is true", tracer(func(c *Config) bool { return c.Tracing.XRay }, "ENABLE_ENVOY_XRAY_TRACING")},
	"xraySamplingRate": {"X-Ray is on without XRAY_SAMPLING_RULE_MANIFEST or XRAY_SAMPLING_RULES", func(c *Config) string {
		if r := tracer(func(c *Config) bool { return c.Tracing.XRay }, "ENABLE_ENVOY_XRAY_TRACING")(c); r != "" {
			return r
		}
		if g := c.SamplingRules(); g.Set() {
			return g.Variable() + " is set"
		}
		return ""
	}},
	"datadog": {"ENABLE_ENVOY_DATADOG_TRACING is true", tracer(func(c *Config) bool { return c.Tracing.Datadog }, "ENABLE_ENVOY_DATADOG_TRACING")},
	"jaeger":  {"ENABLE_ENVOY_JAEGER_TRACING is true", tracer(func(c *Config) bool { return c.Tracing.Jaeger }, "ENABLE_ENVOY_JAEGER_TRACING")},
	"statsTags": {"sidecar without ENVOY_STATS_CONFIG_FILE or ENVOY_STATS_CONFIG whose node id is not a task set", func(c *Config) string {
		switch {
		case notSidecar(c) != "":
			return notSidecar(c)
		case c.StatsFragment().Set():
			return c.StatsFragment().Variable() + " is set"
		case IsTaskSet(c.Identity.NodeID()):
			return "the node id is an ECS task set, which carries no App Mesh stats tags"
		}
		return ""
	}},
	"dogStatsd": {"ENABLE_ENVOY_DOG_STATSD without ENVOY_STATS_SINKS_CFG_FILE or ENVOY_STATS_SINKS_CFG", notDogStatsd},
	"dogStatsdUDP": {"DogStatsD without STATSD_SOCKET_PATH", func(c *Config) string {
		if r := notDogStatsd(c); r != "" {
			return r
		}
		if c.Stats.StatsdSocketPath != "" {
			return "STATSD_SOCKET_PATH is set"
		}
		return ""
	}},
	// The predicates below guard `effect` tags: the variable is always read and validated
	// (as in the reference), but does nothing unless the predicate holds.
	"managementAPI": {"APPNET_AGENT_ADMIN_MODE is set", func(c *Config) string {
		if c.API.AdminMode == nil {
			return "APPNET_AGENT_ADMIN_MODE is not set, so no management API is served"
		}
		return ""
	}},
	"tcpAPI": {"the management API is on TCP", func(c *Config) string {
		switch {
		case c.API.AdminMode == nil:
			return "APPNET_AGENT_ADMIN_MODE is not set, so no management API is served"
		case *c.API.AdminMode != "tcp":
			return "APPNET_AGENT_ADMIN_MODE is uds"
		}
		return ""
	}},
	"udsAPI": {"the management API is on a Unix socket", func(c *Config) string {
		switch {
		case c.API.AdminMode == nil:
			return "APPNET_AGENT_ADMIN_MODE is not set, so no management API is served"
		case *c.API.AdminMode != "uds":
			return "APPNET_AGENT_ADMIN_MODE is tcp"
		}
		return ""
	}},
	"scrapeAPI": {"APPNET_AGENT_SCRAPE_PORT is set", func(c *Config) string {
		if c.API.ScrapePort == nil {
			return "APPNET_AGENT_SCRAPE_PORT is not set, so no scrape listener is opened"
		}
		return ""
	}},
	"logFile": {"APPNET_ENVOY_LOG_DESTINATION is set", func(c *Config) string {
		if c.Logging.Destination == "" {
			return "APPNET_ENVOY_LOG_DESTINATION is not set, so logs stay on stdout/stderr"
		}
		return ""
	}},
}, otelPredicates(), heapPredicates(), lifecyclePredicates())

// withPredicates adds the predicates of more to base; a name defined twice is a programming
// error caught by the tests (the later one would silently win).
func withPredicates(base map[string]predicate, more ...map[string]predicate) map[string]predicate {
	for _, m := range more {
		for name, p := range m {
			if _, dup := base[name]; dup {
				panic("internal/env: predicate " + name + " defined twice")
			}
			base[name] = p
		}
	}
	return base
}

// heapPredicates guard the overload variables: an explicit heap limit wins, the cgroup
// variables are read only without one.
func heapPredicates() map[string]predicate {
	fromCgroup := func(c *Config) string {
		if r := notGenerated(c); r != "" {
			return r
		}
		if c.Overload.MaxHeapBytes != nil {
			return "APPNET_ENVOY_MAX_HEAP_BYTES is set"
		}
		return ""
	}
	return map[string]predicate{
		"heapFromCgroup": {"a bootstrap is generated without APPNET_ENVOY_MAX_HEAP_BYTES", fromCgroup},
		"heapFraction": {"APPNET_ENVOY_HEAP_FROM_CGROUP is true", func(c *Config) string {
			if r := fromCgroup(c); r != "" {
				return r
			}
			if !c.Overload.FromCgroup {
				return "APPNET_ENVOY_HEAP_FROM_CGROUP is not true"
			}
			return ""
		}},
	}
}

// checkTags verifies the struct tags, so that a mistyped predicate name or a bound that does not
// parse is found with a clear message instead of only when that variable is read. The tags are
// fixed at compile time, so TestCheckTagsFindsMistypedPredicates checks Config's once for every
// build; the agent no longer repeats the reflection walk at each start (about 0.1 ms of its
// package initialisation).
func checkTags(t reflect.Type) []string {
	var bad []string
	eachVar(t, func(f reflect.StructField, name string) {
		for _, key := range []string{"when", "effect"} {
			if p := f.Tag.Get(key); p != "" {
				if _, ok := predicates[p]; !ok {
					bad = append(bad, fmt.Sprintf("%s: %s:%q names no predicate", name, key, p))
				}
			}
		}
		if d := f.Type; d == reflect.TypeOf(durationType) || (d.Kind() == reflect.Pointer && d.Elem() == reflect.TypeOf(durationType)) {
			if _, _, err := durationBounds(f.Tag); err != nil {
				bad = append(bad, fmt.Sprintf("%s: bad duration bound: %v", name, err))
			}
		}
	})
	return bad
}

// RelayClient reports the Service Connect sidecar mode, whose xDS endpoint is the relay's Unix socket.
func (c *Config) RelayClient() bool { return strings.HasPrefix(c.Mode.XDSEndpoint, "unix://") }

// NodeID is the first non-empty of APPMESH_RESOURCE_ARN, APPMESH_RESOURCE_NAME, APPMESH_VIRTUAL_NODE_NAME.
func (i Identity) NodeID() string {
	for _, v := range []string{i.ResourceARN, i.ResourceName, i.VirtualNodeName} {
		if v != "" {
			return v
		}
	}
	return ""
}

// NodeCluster is APPMESH_RESOURCE_CLUSTER, else APPMESH_VIRTUAL_NODE_CLUSTER, else the node id.
func (i Identity) NodeCluster() string {
	for _, v := range []string{i.ResourceCluster, i.VirtualNodeCluster} {
		if v != "" {
			return v
		}
	}
	return i.NodeID()
}

// IsTaskSet reports an ECS Service Connect task-set ARN, which carries no App Mesh stats tags.
func IsTaskSet(id string) bool { return strings.Contains(id, ":task-set/") }

// lifecyclePredicates guard the task lifecycle variables: they need ECS task metadata, and
// the relay, which serves other tasks' Envoys rather than an application of its own task,
// stops as before.
func lifecyclePredicates() map[string]predicate {
	noTask := func(c *Config) string {
		switch {
		case c.Platform.TMDSURIv4 == "":
			return "ECS_CONTAINER_METADATA_URI_V4 is not set, so the task's containers are unknown"
		case c.Mode.RelayMode:
			return "relay mode is on (APPNET_ENABLE_RELAY_MODE_FOR_XDS): the relay serves other tasks, not an application of its own task"
		}
		return ""
	}
	return map[string]predicate{
		"taskMetadata": {"ECS_CONTAINER_METADATA_URI_V4 is set, outside relay mode", noTask},
		"waitForApp": {"APPNET_WAIT_FOR_APP_EXIT is true with task metadata", func(c *Config) string {
			if r := noTask(c); r != "" {
				return r
			}
			if !c.Lifecycle.WaitForApp {
				return "APPNET_WAIT_FOR_APP_EXIT is false"
			}
			return ""
		}},
		"appContainers": {"APPNET_WAIT_FOR_APP_EXIT or APPNET_EXIT_WHEN_APP_EXITS is true with task metadata", func(c *Config) string {
			if r := noTask(c); r != "" {
				return r
			}
			if !c.Lifecycle.WaitForApp && !c.Lifecycle.ExitWithApp {
				return "APPNET_WAIT_FOR_APP_EXIT and APPNET_EXIT_WHEN_APP_EXITS are false"
			}
			return ""
		}},
	}
}
