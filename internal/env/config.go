// Package env turns the process environment into one validated, typed Config.
//
// Every supported variable is a tagged field below; the tags are the single source of truth for
// parsing, validation, `appnet-agent env` and the README's variable table:
//
//	env      variable name
//	default  value used when the variable is unset or blank (values are trimmed, D3)
//	desc     one-line description
//	when     name of a predicate (predicates.go): the variable is read only when it holds, exactly
//	         like the reference agent, which ignores e.g. TCP admin variables in UDS admin mode
//	effect   name of a predicate: the variable is always read, but has an effect only when it holds
//	min/max  allowed range for numbers and durations
//	clamp    out-of-range values are clamped to the nearest bound with a warning (R5) instead of rejected
//	oneof    allowed values (compared case-insensitively, stored lower-cased)
//	unit     for time.Duration fields: "s" or "ms" integers; absent means Go duration syntax ("1m30s")
//	input    "user": the variable hands the agent configuration it did not write, which only the full
//	         build validates (internal/dispatch.UserInputVars, kept equal to these by its test)
//
// No other package reads the environment, except internal/dispatch, which only asks, before
// this package exists, whether a variable of input:"user" is set.
//
// Why this package is shaped as it is: docs/DESIGN.md.
package env

import "time"

// Config is the typed view of every variable the agent reads. Sub-structs are ordered so that the
// variables a predicate depends on are loaded before the variables it guards.
type Config struct {
	Mode      Mode
	Identity  Identity
	Admin     Admin
	XDS       XDS
	Runtime   Runtime
	Tracing   Tracing
	XRay      XRay
	Datadog   Datadog
	Jaeger    Jaeger
	OTel      OpenTelemetry
	Stats     Stats
	Files     Files
	Overload  Overload
	Metadata  Metadata
	Platform  Platform
	Relay     Relay
	Agent     Agent
	Lifecycle Lifecycle
	API       API
	Logging   Logging
	Readiness Readiness
}

// Mode holds the variables that select what kind of bootstrap is produced.
type Mode struct {
	RelayMode  bool   `env:"APPNET_ENABLE_RELAY_MODE_FOR_XDS" default:"false" desc:"Run as the per-host xDS relay (relay bootstrap) instead of a sidecar."`
	ConfigFile string `env:"ENVOY_CONFIG_FILE" input:"user" desc:"Bootstrap path Envoy reads. A non-empty existing file is validated and used as is (also through a link); an empty one is filled (never through a link); unset means TMPDIR/appnet-agent-XXXX/envoy-config.yaml."`
	// Inline is ENVOY_CONFIG, a whole bootstrap given in the variable; Envoy reads it from the
	// agent's private directory (render.Write).
	Inline      InlineDocument `env:"ENVOY_CONFIG" input:"user" when:"notRelay" desc:"A whole bootstrap (YAML or JSON, or base64:/gzip+base64: encoded) instead of ENVOY_CONFIG_FILE: validated like an existing ENVOY_CONFIG_FILE and used as is, written to the agent's private directory (envoy-config.json when it is a JSON object, else envoy-config.yaml). Never printed: shown as size and sha256."`
	TemplateDir string         `env:"APPNET_TEMPLATE_DIR" input:"user" desc:"Directory overlaid on the embedded templates, file by file (e.g. tracing/xray.yaml.tmpl)."`
	// TemplateTimeout bounds a template execution, which text/template cannot interrupt otherwise.
	TemplateTimeout time.Duration `env:"APPNET_TEMPLATE_TIMEOUT_MS" default:"2000" unit:"ms" min:"100ms" max:"60s" when:"generate" desc:"Longest the templates may take to render (an overlay that loops); past it the start fails naming the template file and line."`
	EnvoyPath       string        `env:"APPNET_ENVOY_PATH" default:"/usr/bin/envoy" desc:"Envoy binary to run and to probe with --version (FIPS detection)."`
	TempDir         string        `env:"TMPDIR" default:"/tmp" desc:"Directory in which the agent makes its own 0700 directory for the default bootstrap file."`
	XDSEndpoint     string        `env:"APPMESH_XDS_ENDPOINT" desc:"xDS endpoint. unix://PATH selects the Service Connect relay-client mode; otherwise used verbatim with TLS and SigV4. In relay mode: management domain (scheme stripped)."`
	// Validation is what a bootstrap the validator refuses does to run and render.
	Validation   ValidationMode `env:"APPNET_VALIDATION" default:"enforce" oneof:"enforce,warn" desc:"What run and render do with a bootstrap the validator refuses: enforce stops before Envoy starts (exit 1); warn logs every problem with its field path and starts Envoy anyway (the escape hatch for a validator that is wrong about your file; /status and /metrics count the problems)."`
	ExistingFile bool           `env:"-"` // derived: ConfigFile names an existing non-empty file (sidecar modes only)
}

// Identity holds the Envoy node identity variables.
type Identity struct {
	ResourceARN        string `env:"APPMESH_RESOURCE_ARN" when:"sidecar" desc:"Envoy node id (highest precedence); a mesh resource path or ARN, or an ECS task-set ARN."`
	ResourceName       string `env:"APPMESH_RESOURCE_NAME" when:"sidecar" desc:"Deprecated: node id when APPMESH_RESOURCE_ARN is unset."`
	VirtualNodeName    string `env:"APPMESH_VIRTUAL_NODE_NAME" when:"sidecar" desc:"Deprecated: node id when the two above are unset."`
	ResourceCluster    string `env:"APPMESH_RESOURCE_CLUSTER" when:"sidecar" desc:"Envoy node cluster (default: the node id)."`
	VirtualNodeCluster string `env:"APPMESH_VIRTUAL_NODE_CLUSTER" when:"sidecar" desc:"Deprecated: node cluster when APPMESH_RESOURCE_CLUSTER is unset."`
}

// Admin holds Envoy's admin interface settings.
type Admin struct {
	Mode        string     `env:"ENVOY_ADMIN_MODE" default:"tcp" oneof:"tcp,uds" desc:"Envoy admin on TCP or on the Unix socket /tmp/envoy_admin.sock."`
	Port        uint16     `env:"ENVOY_ADMIN_ACCESS_PORT" default:"9901" min:"1" max:"65535" when:"tcpAdmin" desc:"Envoy admin TCP port (the agent talks to 127.0.0.1 on it)."`
	IPv6        bool       `env:"ENVOY_ADMIN_ACCESS_ENABLE_IPV6" default:"false" when:"tcpAdminBootstrap" desc:"Bind Envoy admin to :: (with IPv4 compatibility) instead of 0.0.0.0."`
	AccessLog   string     `env:"ENVOY_ADMIN_ACCESS_LOG_FILE" default:"/tmp/envoy_admin_access.log" when:"sidecar" desc:"Envoy admin access log path."`
	OutlierLog  string     `env:"ENVOY_OUTLIER_DETECTION_EVENT_LOG_PATH" default:"/dev/stdout" when:"sidecar" desc:"Outlier detection event log path."`
	SDSSocket   SocketPath `env:"APPMESH_SDS_SOCKET_PATH" when:"sidecar" desc:"SDS Unix socket; adds the static_cluster_sds_unix_socket cluster."`
	Concurrency int        `env:"ENVOY_CONCURRENCY" default:"-1" max:"1024" desc:"Envoy --concurrency when > 0; otherwise (0 or negative) derived from the container CPU quota, else the ECS task's Limits.CPU (relay mode: 1)."`
}

// XDS holds control-plane connection settings for the App Mesh sidecar.
type XDS struct {
	Region             string        `env:"AWS_REGION" desc:"AWS region; looked up in instance metadata when unset."`
	SigningName        string        `env:"APPMESH_SIGNING_NAME" when:"appMesh" desc:"SigV4 signing name (default appmesh, or appmesh-preview)."`
	Preview            bool          `env:"APPMESH_PREVIEW" default:"false" when:"preview" desc:"Use the App Mesh preview endpoint and signing name."`
	DualStack          bool          `env:"APPMESH_DUALSTACK_ENDPOINT" default:"false" when:"regionalEndpoint" desc:"Use the dual-stack App Mesh endpoint domain."`
	InitialFetch       time.Duration `env:"ENVOY_INITIAL_FETCH_TIMEOUT" default:"0" unit:"s" min:"0" when:"sidecar" desc:"CDS/LDS initial fetch timeout in seconds (0: wait forever)."`
	IMDSEndpoint       string        `env:"AWS_EC2_METADATA_SERVICE_ENDPOINT" default:"http://169.254.169.254" desc:"Instance metadata endpoint (region, availability zone)."`
	IMDSDisabled       bool          `env:"AWS_EC2_METADATA_DISABLED" default:"false" desc:"Never call instance metadata."`
	IMDSTestingHost    string        `env:"EC2_METADATA_HOST_ONLY_FOR_TESTING" desc:"Deprecated test hook of the reference agent: instance metadata endpoint for platform info only."`
	MaxRequestsPerIO   *int64        `env:"MAX_REQUESTS_PER_IO_CYCLE" min:"1" when:"sidecar" desc:"Runtime http.max_requests_per_io_cycle (unset: Envoy's default)."`
	TCPPoolIdleTimeout *bool         `env:"ENVOY_ENABLE_TCP_POOL_IDLE_TIMEOUT" when:"sidecar" desc:"Runtime envoy.reloadable_features.tcp_pool_idle_timeout (unset: Envoy's default)."`
}

// Runtime holds the static runtime layer flags.
type Runtime struct {
	SetTracingDecision  bool `env:"APPMESH_SET_TRACING_DECISION" default:"true" when:"sidecar" desc:"Runtime envoy.reloadable_features.http_set_tracing_decision_in_request_id."`
	NoExtensionByName   bool `env:"ENVOY_NO_EXTENSION_LOOKUP_BY_NAME" default:"true" when:"sidecar" desc:"Runtime envoy.reloadable_features.no_extension_lookup_by_name."`
	HTTPClientForCreds  bool `env:"ENVOY_USE_HTTP_CLIENT_TO_FETCH_AWS_CREDENTIALS" default:"false" when:"generate" desc:"Runtime envoy.reloadable_features.use_http_client_to_fetch_aws_credentials."`
	EnableDogStatsdSink bool `env:"ENABLE_ENVOY_DOG_STATSD" default:"false" when:"sidecar" desc:"Add a DogStatsD stats sink (unless ENVOY_STATS_SINKS_CFG_FILE is set)."`
}

// Tracing selects the generated tracer; a tracing file replaces them all.
type Tracing struct {
	File    string         `env:"ENVOY_TRACING_CFG_FILE" input:"user" when:"sidecar" desc:"YAML bootstrap fragment with tracing (and anything else); replaces generated tracing."`
	Inline  InlineDocument `env:"ENVOY_TRACING_CFG" input:"user" when:"sidecar" desc:"ENVOY_TRACING_CFG_FILE's fragment given in the variable (YAML or JSON, or base64:/gzip+base64: encoded); never printed."`
	XRay    bool           `env:"ENABLE_ENVOY_XRAY_TRACING" default:"false" when:"tracingGenerated" desc:"Enable the X-Ray tracer."`
	Datadog bool           `env:"ENABLE_ENVOY_DATADOG_TRACING" default:"false" when:"tracingGenerated" desc:"Enable the Datadog tracer."`
	Jaeger  bool           `env:"ENABLE_ENVOY_JAEGER_TRACING" default:"false" when:"tracingGenerated" desc:"Enable the Jaeger (Zipkin protocol) tracer."`
	OTel    bool           `env:"ENABLE_ENVOY_OTEL_TRACING" default:"false" when:"tracingGenerated" desc:"Enable the OpenTelemetry tracer (OTLP to a collector), configured by the standard OTEL_* variables below."`
}

// XRay configures the X-Ray tracer.
type XRay struct {
	Port         uint16         `env:"XRAY_DAEMON_PORT" default:"2000" min:"1" max:"65535" when:"xray" desc:"X-Ray daemon UDP port (unless AWS_XRAY_DAEMON_ADDRESS has one)."`
	Address      XRayAddress    `env:"AWS_XRAY_DAEMON_ADDRESS" when:"xray" desc:"X-Ray daemon IP[:port], [IPv6]:port, or 'tcp:A:P udp:A:P' (UDP part used)."`
	Manifest     string         `env:"XRAY_SAMPLING_RULE_MANIFEST" when:"xray" desc:"X-Ray sampling rules file (version 2)."`
	Rules        InlineDocument `env:"XRAY_SAMPLING_RULES" when:"xray" desc:"XRAY_SAMPLING_RULE_MANIFEST's rules given in the variable (JSON, or base64:/gzip+base64: encoded); written to /tmp/sampling-rules.json; never printed."`
	SamplingRate SamplingRate   `env:"XRAY_SAMPLING_RATE" when:"xraySamplingRate" desc:"Fixed sampling rate 0..1 (rounded to 2 decimals); written to /tmp/sampling-rules.json."`
	SegmentName  string         `env:"XRAY_SEGMENT_NAME" when:"xray" desc:"X-Ray segment name (default mesh/resource)."`
}

// Datadog configures the Datadog tracer.
type Datadog struct {
	Port    uint16 `env:"DATADOG_TRACER_PORT" default:"8126" min:"1" max:"65535" when:"datadog" desc:"Datadog agent port."`
	Address string `env:"DATADOG_TRACER_ADDRESS" default:"127.0.0.1" when:"datadog" desc:"Datadog agent address (IP or hostname)."`
	Service string `env:"DD_SERVICE" when:"datadog" desc:"Datadog service name (default envoy-MESH/RESOURCE)."`
}

// Jaeger configures the Jaeger tracer (Envoy's Zipkin driver).
type Jaeger struct {
	Port    uint16 `env:"JAEGER_TRACER_PORT" default:"9411" min:"1" max:"65535" when:"jaeger" desc:"Jaeger collector port."`
	Address string `env:"JAEGER_TRACER_ADDRESS" default:"127.0.0.1" when:"jaeger" desc:"Jaeger collector address (IP or hostname)."`
	Version string `env:"JAEGER_TRACER_VERSION" when:"jaeger" desc:"Collector encoding: a value containing 'json' selects HTTP_JSON, anything else HTTP_PROTO."`
}

// OpenTelemetry configures the OpenTelemetry tracer with the standard OTEL_* variables (see
// otel.go); a signal-specific variable (..._TRACES_...) wins over its general twin.
type OpenTelemetry struct {
	TracesEndpointURL  OTLPEndpoint       `env:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" when:"otel" desc:"Collector URL, used as is: http://HOST:PORT (plaintext) or https://... (TLS); a path only for http/protobuf (root when none)."`
	EndpointURL        OTLPEndpoint       `env:"OTEL_EXPORTER_OTLP_ENDPOINT" when:"otelEndpoint" desc:"Collector base URL; http/protobuf appends v1/traces to its path. Neither set: http://127.0.0.1:4317 (grpc) or http://127.0.0.1:4318/v1/traces."`
	TracesProtocol     OTLPProtocol       `env:"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" oneof:"grpc,http/protobuf" when:"otel" desc:"OTLP transport: grpc (Envoy's gRPC exporter) or http/protobuf (its HTTP exporter)."`
	GeneralProtocol    OTLPProtocol       `env:"OTEL_EXPORTER_OTLP_PROTOCOL" oneof:"grpc,http/protobuf" when:"otelProtocol" desc:"OTLP transport when OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is unset (default grpc)."`
	TracesCertificate  string             `env:"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE" when:"otelTLS" desc:"PEM file of the CAs that sign the collector's certificate (https:// endpoints)."`
	Certificate        string             `env:"OTEL_EXPORTER_OTLP_CERTIFICATE" when:"otelCertificate" desc:"CA file when OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE is unset (default /etc/pki/tls/cert.pem, the CAs the xDS connection trusts)."`
	TracesTimeout      *time.Duration     `env:"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT" unit:"ms" min:"1ms" when:"otel" desc:"Export request timeout in milliseconds."`
	Timeout            time.Duration      `env:"OTEL_EXPORTER_OTLP_TIMEOUT" default:"10000" unit:"ms" min:"1ms" when:"otelTimeout" desc:"Export request timeout when OTEL_EXPORTER_OTLP_TRACES_TIMEOUT is unset."`
	ServiceName        string             `env:"OTEL_SERVICE_NAME" when:"otel" desc:"service.name of Envoy's spans (default: as the X-Ray segment name, mesh/resource or the node cluster)."`
	ResourceAttributes ResourceAttributes `env:"OTEL_RESOURCE_ATTRIBUTES" when:"otel" desc:"key=value,... resource attributes; Envoy reads them itself (environment resource detector); they win over the node identity attributes."`
	Sampler            OTelSampler        `env:"OTEL_TRACES_SAMPLER" oneof:"always_on,always_off,traceidratio,parentbased_always_on,parentbased_always_off,parentbased_traceidratio" when:"otel" desc:"Sampler; unset: Envoy's own sampling decision (the HTTP connection manager's)."`
	SamplerArg         float64            `env:"OTEL_TRACES_SAMPLER_ARG" default:"1" min:"0" max:"1" when:"otelRatio" desc:"Sampling ratio 0..1 of the traceidratio samplers."`
}

// ExportTimeout is OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT.
func (o OpenTelemetry) ExportTimeout() time.Duration {
	if o.TracesTimeout != nil {
		return *o.TracesTimeout
	}
	return o.Timeout
}

// CAFile is OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, else OTEL_EXPORTER_OTLP_CERTIFICATE, and
// the variable it came from; both empty when neither is set.
func (o OpenTelemetry) CAFile() (path, variable string) {
	switch {
	case o.TracesCertificate != "":
		return o.TracesCertificate, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"
	case o.Certificate != "":
		return o.Certificate, "OTEL_EXPORTER_OTLP_CERTIFICATE"
	}
	return "", ""
}

// Stats configures stats tags, flushing and the DogStatsD sink.
type Stats struct {
	ConfigFile       string         `env:"ENVOY_STATS_CONFIG_FILE" input:"user" when:"sidecar" desc:"YAML fragment with stats_config; replaces the generated stats tags."`
	ConfigInline     InlineDocument `env:"ENVOY_STATS_CONFIG" input:"user" when:"sidecar" desc:"ENVOY_STATS_CONFIG_FILE's fragment given in the variable (YAML or JSON, or base64:/gzip+base64: encoded); never printed."`
	SinksFile        string         `env:"ENVOY_STATS_SINKS_CFG_FILE" input:"user" when:"sidecar" desc:"YAML fragment with stats_sinks; replaces the generated DogStatsD sink."`
	SinksInline      InlineDocument `env:"ENVOY_STATS_SINKS_CFG" input:"user" when:"sidecar" desc:"ENVOY_STATS_SINKS_CFG_FILE's fragment given in the variable (YAML or JSON, or base64:/gzip+base64: encoded); never printed."`
	Tags             bool           `env:"ENABLE_ENVOY_STATS_TAGS" default:"false" when:"statsTags" desc:"Add appmesh.mesh and appmesh.<resource type> fixed stats tags."`
	MetricExtension  string         `env:"APPMESH_METRIC_EXTENSION_VERSION" default:"0" when:"sidecar" desc:"'1' enables the metrics extension tags and metric_filter metadata; other values disable it."`
	FlushInterval    *time.Duration `env:"ENVOY_STATS_FLUSH_INTERVAL" min:"0" when:"sidecar" desc:"stats_flush_interval, Go duration syntax (e.g. 10s, 1m30s)."`
	StatsdSocketPath SocketPath     `env:"STATSD_SOCKET_PATH" when:"dogStatsd" desc:"DogStatsD Unix socket; replaces address and port."`
	StatsdAddress    IPAddress      `env:"STATSD_ADDRESS" default:"127.0.0.1" when:"dogStatsdUDP" desc:"DogStatsD UDP address: an IP literal (Envoy does not resolve a hostname there)."`
	StatsdPort       uint16         `env:"STATSD_PORT" default:"8125" min:"1" max:"65535" when:"dogStatsdUDP" desc:"DogStatsD UDP port."`
}

// Files holds the remaining user bootstrap fragments.
type Files struct {
	Resources       string         `env:"ENVOY_RESOURCES_CONFIG_FILE" input:"user" when:"sidecar" desc:"YAML fragment merged last: listeners/clusters/secrets appended, other top-level keys replaced."`
	ResourcesInline InlineDocument `env:"ENVOY_RESOURCES_CONFIG" input:"user" when:"sidecar" desc:"ENVOY_RESOURCES_CONFIG_FILE's fragment given in the variable (YAML or JSON, or base64:/gzip+base64: encoded; 4 MiB decoded); never printed."`
}

// Overload renders Envoy's overload manager from a heap limit: explicit, or a share of the
// container's memory limit. Off by default (the reference agent has none).
type Overload struct {
	MaxHeapBytes *int64  `env:"APPNET_ENVOY_MAX_HEAP_BYTES" min:"16777216" when:"generate" desc:"Envoy heap limit in bytes (at least 16 MiB): renders an overload manager with the fixed-heap monitor (shrink heap at 95%, stop accepting requests at 98%)."`
	FromCgroup   bool    `env:"APPNET_ENVOY_HEAP_FROM_CGROUP" default:"false" when:"heapFromCgroup" desc:"Derive the overload manager's memory limit from the container's memory limit (cgroup v2 memory.max, else v1 memory.limit_in_bytes), else the ECS task's Limits.Memory; no limit: no overload manager. Envoy 1.35+ gets the cgroup_memory monitor, older ones fixed_heap."`
	Fraction     float64 `env:"APPNET_ENVOY_HEAP_FRACTION" default:"0.8" min:"0.01" max:"1" when:"heapFraction" desc:"Share of the container's (or the task's) memory limit that becomes Envoy's memory limit."`
}

// Metadata holds node metadata sources.
type Metadata struct {
	ContainerIPMapping  JSONObject  `env:"APPNET_CONTAINER_IP_MAPPING" when:"sidecar" desc:"JSON object: Service Connect container IP mapping (node metadata)."`
	ListenerPortMapping PortMapping `env:"APPNET_LISTENER_PORT_MAPPING" when:"sidecar" desc:"JSON object of listener name to port (1..65535): Service Connect listener port mapping (node metadata)."`
	NamespaceName       string      `env:"NAMESPACE_NAME" when:"sidecar" desc:"Service Connect namespace name (node metadata)."`
	NamespaceARN        string      `env:"NAMESPACE_ARN" when:"sidecar" desc:"Service Connect namespace ARN (node metadata)."`
	FIPSMode            bool        `env:"APPNET_FIPS_MODE_ENABLED" default:"false" when:"sidecar" desc:"Report fipsModeEnabled in platform info."`
}

// Platform holds the variables that describe where the task runs.
type Platform struct {
	K8sVersion           string `env:"APPMESH_PLATFORM_K8S_VERSION" when:"sidecar" desc:"Kubernetes version (with the two below: k8sPlatformInfo)."`
	K8sPodUID            string `env:"APPMESH_PLATFORM_K8S_POD_UID" when:"sidecar" desc:"Kubernetes pod UID."`
	K8sControllerVersion string `env:"APPMESH_PLATFORM_APP_MESH_CONTROLLER_VERSION" when:"sidecar" desc:"App Mesh controller version."`
	ExecutionEnv         string `env:"AWS_EXECUTION_ENV" when:"sidecar" desc:"ECS launch type; non-empty enables ECS platform info."`
	ContainerInstanceARN string `env:"ECS_CONTAINER_INSTANCE_ARN" when:"sidecar" desc:"ECS container instance ARN (platform info)."`
	TMDSURIv4            string `env:"ECS_CONTAINER_METADATA_URI_V4" desc:"ECS task metadata endpoint v4: platform info (sidecar), the task's CPU and memory limits, its containers (shutdown order, APPNET_EXIT_WHEN_APP_EXITS)."`
	TMDSURI              string `env:"ECS_CONTAINER_METADATA_URI" when:"sidecar" desc:"ECS task metadata endpoint (when v4 is unset)."`
}

// Relay configures the relay bootstrap (APPNET_ENABLE_RELAY_MODE_FOR_XDS).
type Relay struct {
	ListenerPath SocketPath    `env:"APPNET_RELAY_LISTENER_UDS_PATH" default:"/tmp/relay_xds.sock" when:"relay" desc:"Relay listener Unix socket."`
	Domain       string        `env:"APPNET_MANAGEMENT_DOMAIN_NAME" when:"relay" desc:"Management endpoint domain (default ecs-sc[-fips].REGION.api.aws)."`
	Port         uint16        `env:"APPNET_MANAGEMENT_PORT" default:"443" min:"1" max:"65535" when:"relay" desc:"Management endpoint port."`
	IdleTimeout  time.Duration `env:"RELAY_STREAM_IDLE_TIMEOUT" default:"2400s" min:"0" when:"relay" desc:"Relay stream idle timeout (Go duration syntax)."`
	BufferLimit  uint32        `env:"RELAY_BUFFER_LIMIT_BYTES" default:"10485760" min:"1" when:"relay" desc:"Per-connection buffer limit of the relay listener and cluster."`
}

// Agent holds Envoy supervision settings.
type Agent struct {
	RestartCount       int                `env:"APPNET_ENVOY_RESTART_COUNT" default:"3" min:"0" max:"10" clamp:"true" desc:"Restarts allowed after Envoy exits (backoff from the second restart)."`
	PIDPollInterval    time.Duration      `env:"PID_POLL_INTERVAL_MS" default:"100" unit:"ms" min:"100ms" max:"1s" clamp:"true" desc:"Accepted for compatibility; has no effect (exits are detected immediately)."`
	DrainWait          time.Duration      `env:"LISTENER_DRAIN_WAIT_TIME_S" default:"20" unit:"s" min:"5s" max:"110s" clamp:"true" desc:"Envoy --drain-time-s and the longest shutdown drain wait."`
	MinDrain           time.Duration      `env:"APPNET_MIN_DRAIN_TIME_S" default:"5" unit:"s" min:"0s" max:"110s" clamp:"true" desc:"Shortest shutdown drain: connections reaching 0 ends the drain only after this (at most LISTENER_DRAIN_WAIT_TIME_S)."`
	DisableHotRestart  bool               `env:"DISABLE_HOT_RESTART" default:"true" desc:"Pass --disable-hot-restart to Envoy."`
	SkipDeprecatedLogs bool               `env:"ENVOY_SKIP_DEPRECATED_LOGS" default:"true" desc:"Pass --skip-deprecated-logs to Envoy."`
	LogLevel           string             `env:"ENVOY_LOG_LEVEL" default:"info" oneof:"trace,debug,info,warn,warning,error,critical,off" desc:"Envoy -l level, also the agent's own log level."`
	ComponentLevels    ComponentLogLevels `env:"ENVOY_COMPONENT_LOG_LEVEL" desc:"Envoy --component-log-level: COMPONENT:LEVEL pairs (upstream:debug,connection:trace), checked against Envoy's logger names; kept on top of ENVOY_LOG_LEVEL across restarts and /enableLogging resets."`
}

// Lifecycle ties the agent's shutdown and exit to the task's application containers, as ECS
// task metadata v4 reports them (ECS_CONTAINER_METADATA_URI_V4; without it, nothing here
// applies). The default wait ends below ECS's default stopTimeout of 30 s, SIGTERM to SIGKILL:
// LISTENER_DRAIN_WAIT_TIME_S 20 + APPNET_APP_EXIT_WAIT_S 5 = 25 s, which leaves Envoy's 5 s
// stop grace (SIGTERM, then SIGKILL) inside the 30 s, so the agent exits by itself with 0
// instead of being SIGKILLed by ECS with Envoy. A task with a longer stopTimeout raises both.
type Lifecycle struct {
	WaitForApp    bool           `env:"APPNET_WAIT_FOR_APP_EXIT" default:"true" effect:"taskMetadata" desc:"On shutdown drain only inbound listeners, then keep Envoy serving the application's outbound calls until its containers have stopped (at most APPNET_APP_EXIT_WAIT_S past LISTENER_DRAIN_WAIT_TIME_S)."`
	AppExitWait   time.Duration  `env:"APPNET_APP_EXIT_WAIT_S" default:"5" unit:"s" min:"0s" max:"120s" effect:"waitForApp" desc:"How much longer than LISTENER_DRAIN_WAIT_TIME_S, counted from the shutdown's start, Envoy waits for the application to stop: 20 + 5 s leaves Envoy's 5 s stop grace within ECS's default 30 s stopTimeout (raise both with the task's stopTimeout, at most 120 s)."`
	ExitWithApp   bool           `env:"APPNET_EXIT_WHEN_APP_EXITS" default:"false" effect:"taskMetadata" desc:"Shut down gracefully and exit 0 once every application container has stopped (jobs)."`
	AppContainers ContainerNames `env:"APPNET_APP_CONTAINERS" effect:"appContainers" desc:"Comma-separated names of the application's containers (default: every other container of type NORMAL in the task metadata)."`
}

// TaskMetadata is the ECS task metadata endpoint the agent follows the task's application
// containers at (ECS_CONTAINER_METADATA_URI_V4), and whether it does: not without one, nor
// in relay mode (see lifecyclePredicates).
func (c *Config) TaskMetadata() (base string, ok bool) {
	return c.Platform.TMDSURIv4, c.Platform.TMDSURIv4 != "" && !c.Mode.RelayMode
}

// API configures the health poller and the management HTTP API.
type API struct {
	HCPollInterval   time.Duration `env:"HC_POLL_INTERVAL_MS" unit:"ms" min:"2s" max:"30s" clamp:"true" desc:"Health poll period once Envoy is LIVE (default 10000, or the readiness interval)."`
	HCDisconnected   time.Duration `env:"HC_DISCONNECTED_TIMEOUT_S" default:"604800" unit:"s" min:"1h" max:"168h" clamp:"true" desc:"Control-plane disconnection tolerated before UNHEALTHY."`
	AdminMode        *string       `env:"APPNET_AGENT_ADMIN_MODE" oneof:"tcp,uds" desc:"Start the management API on tcp or uds (set but empty: tcp; unset: no API)."`
	HTTPPort         uint16        `env:"APPNET_AGENT_HTTP_PORT" default:"9902" min:"1" max:"65535" effect:"tcpAPI" desc:"Management API TCP port."`
	HTTPBindAddress  BindAddress   `env:"APPNET_AGENT_HTTP_BIND_ADDRESS" default:"[::]" effect:"tcpAPI" desc:"Management API bind address (IP literal, brackets optional)."`
	AdminUDSPath     SocketPath    `env:"APPNET_AGENT_ADMIN_UDS_PATH" default:"/var/run/ecs/appnet_admin.sock" effect:"udsAPI" desc:"Management API Unix socket (mode 0600)."`
	AllowRemoteAdmin bool          `env:"APPNET_AGENT_ALLOW_REMOTE_ADMIN" default:"false" effect:"tcpAPI" desc:"Allow /drain_listeners, /enableLogging and /shutdown from non-loopback clients."`
	LoggingReset     time.Duration `env:"APPNET_AGENT_LOGGING_RESET_TIMEOUT" default:"300" unit:"s" min:"1s" max:"24h" clamp:"true" effect:"managementAPI" desc:"Seconds before a temporary /enableLogging level is reset."`
	StatsSnapshot    bool          `env:"ENABLE_STATS_SNAPSHOT" default:"false" effect:"managementAPI" desc:"Take stats snapshots every 60 s for /stats/prometheus?delta."`
	MetricsInStats   bool          `env:"APPNET_AGENT_METRICS_IN_STATS" default:"false" effect:"managementAPI" desc:"Append the agent's own metrics (as on /metrics) to /stats/prometheus without filter or delta."`
	// ScrapePort, when set, opens the read-only scrape listener (nil: none).
	ScrapePort        *uint16     `env:"APPNET_AGENT_SCRAPE_PORT" min:"1" max:"65535" desc:"Optional read-only TCP listener (unset: none): /status, /ready, /live, /metrics, /stats/prometheus and the /envoy/* read-only proxies; every mutating endpoint is refused there (403). Must differ from the management API's port and from Envoy's."`
	ScrapeBindAddress BindAddress `env:"APPNET_AGENT_SCRAPE_BIND_ADDRESS" default:"[::]" effect:"scrapeAPI" desc:"Bind address of the read-only scrape listener (IP literal, brackets optional)."`
}

// Logging configures where Envoy's output and the agent's logs go.
type Logging struct {
	Destination string  `env:"APPNET_ENVOY_LOG_DESTINATION" desc:"Existing directory: Envoy and agent logs go to a rotated file there instead of stdout/stderr."`
	Name        string  `env:"APPNET_ENVOY_LOG_NAME" default:"appnet_envoy.log" effect:"logFile" desc:"Log file name inside APPNET_ENVOY_LOG_DESTINATION."`
	MaxSizeMB   float64 `env:"APPNET_AGENT_MAX_LOG_FILE_SIZE" default:"1" min:"0.001" max:"10240" clamp:"true" effect:"logFile" desc:"Rotate the log file at this size, in MiB."`
	MaxFiles    int     `env:"APPNET_AGENT_MAX_RETENTION_COUNT" default:"5" min:"1" max:"1000" clamp:"true" effect:"logFile" desc:"Rotated log files kept."`
	Format      string  `env:"APPNET_LOG_FORMAT" default:"text" oneof:"text,json" desc:"text: the reference agent's lines; json: one JSON object per line from the agent (time, level, logger, pid, message, fields) and Envoy started with a matching JSON --log-format."`
}

// Readiness configures `appnet-agent -envoyReadiness`.
type Readiness struct {
	Interval time.Duration `env:"APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S" default:"5" unit:"s" min:"0s" max:"1h" clamp:"true" desc:"Readiness probe poll interval (0: a single check)."`
	Timeout  time.Duration `env:"APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S" default:"180" unit:"s" min:"0s" max:"24h" clamp:"true" desc:"Readiness probe overall timeout (0: a single check)."`
}
