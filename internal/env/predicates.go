package env

import "strings"

// predicate decides whether a guarded variable is read. It sees the variables declared before
// the guarded one (fields are loaded in declaration order).
type predicate struct {
	doc  string // shown in `appnet-agent env` as "read when ..."
	test func(c *Config) bool
}

// predicates mirror when the reference agent reads each variable: a variable that does not apply is
// not parsed at all, so a stale value (e.g. a bad TCP port in UDS admin mode) is harmless.
var predicates = map[string]predicate{
	"generate":          {"a bootstrap is generated", generates},
	"sidecar":           {"a sidecar bootstrap is generated", sidecar},
	"relay":             {"APPNET_ENABLE_RELAY_MODE_FOR_XDS is true", func(c *Config) bool { return c.Mode.RelayMode }},
	"tcpAdmin":          {"Envoy admin is on TCP", func(c *Config) bool { return !c.Mode.RelayMode && c.Admin.Mode == "tcp" }},
	"tcpAdminBootstrap": {"a sidecar bootstrap with TCP admin is generated", func(c *Config) bool { return sidecar(c) && c.Admin.Mode == "tcp" }},
	"appMesh":           {"App Mesh sidecar (APPMESH_XDS_ENDPOINT is not unix://)", appMesh},
	"regionalEndpoint":  {"App Mesh sidecar without APPMESH_XDS_ENDPOINT", func(c *Config) bool { return appMesh(c) && c.Mode.XDSEndpoint == "" }},
	"preview":           {"App Mesh sidecar without APPMESH_XDS_ENDPOINT or APPMESH_SIGNING_NAME", func(c *Config) bool { return appMesh(c) && (c.Mode.XDSEndpoint == "" || c.XDS.SigningName == "") }},
	"tracingGenerated":  {"sidecar without ENVOY_TRACING_CFG_FILE", tracingGenerated},
	"xray":              {"ENABLE_ENVOY_XRAY_TRACING is true", func(c *Config) bool { return tracingGenerated(c) && c.Tracing.XRay }},
	"xraySamplingRate":  {"X-Ray is on without XRAY_SAMPLING_RULE_MANIFEST", func(c *Config) bool { return tracingGenerated(c) && c.Tracing.XRay && c.XRay.Manifest == "" }},
	"datadog":           {"ENABLE_ENVOY_DATADOG_TRACING is true", func(c *Config) bool { return tracingGenerated(c) && c.Tracing.Datadog }},
	"jaeger":            {"ENABLE_ENVOY_JAEGER_TRACING is true", func(c *Config) bool { return tracingGenerated(c) && c.Tracing.Jaeger }},
	"statsTags":         {"sidecar without ENVOY_STATS_CONFIG_FILE whose node id is not a task set", statsTags},
	"dogStatsd":         {"ENABLE_ENVOY_DOG_STATSD without ENVOY_STATS_SINKS_CFG_FILE", dogStatsd},
	"dogStatsdUDP":      {"DogStatsD without STATSD_SOCKET_PATH", func(c *Config) bool { return dogStatsd(c) && c.Stats.StatsdSocketPath == "" }},
}

func generates(c *Config) bool { return c.Mode.RelayMode || !c.Mode.ExistingFile }

func sidecar(c *Config) bool { return !c.Mode.RelayMode && !c.Mode.ExistingFile }

// RelayClient reports the Service Connect sidecar mode, whose xDS endpoint is the relay's Unix socket.
func (c *Config) RelayClient() bool { return strings.HasPrefix(c.Mode.XDSEndpoint, "unix://") }

func appMesh(c *Config) bool { return sidecar(c) && !c.RelayClient() }

func tracingGenerated(c *Config) bool { return sidecar(c) && c.Tracing.File == "" }

func statsTags(c *Config) bool {
	return sidecar(c) && c.Stats.ConfigFile == "" && !IsTaskSet(c.Identity.NodeID())
}

func dogStatsd(c *Config) bool {
	return sidecar(c) && c.Runtime.EnableDogStatsdSink && c.Stats.SinksFile == ""
}

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
	for _, v := range []string{i.ResourceCluster, i.VirtualNodeCl} {
		if v != "" {
			return v
		}
	}
	return i.NodeID()
}

// IsTaskSet reports an ECS Service Connect task-set ARN, which carries no App Mesh stats tags.
func IsTaskSet(id string) bool { return strings.Contains(id, ":task-set/") }
