package render

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

// Data is what the templates see. It is built by a pure function of the config and platform facts,
// so every decision can be tested without rendering.
type Data struct {
	Node        Node
	Admin       AdminData
	RelayClient bool // Service Connect sidecar: xDS from the local relay over a Unix socket
	XDS         XDSData
	// StaticRuntime is the static runtime layer: runtime key → value (booleans and numbers).
	StaticRuntime map[string]any
	Tracing       TracingData
	// SDSSocket is the SDS Unix socket (APPMESH_SDS_SOCKET_PATH), or "" for none.
	SDSSocket string
	Stats     StatsData
	Relay     *RelayData    // relay bootstrap only
	Overload  *OverloadData // APPNET_ENVOY_MAX_HEAP_BYTES or APPNET_ENVOY_HEAP_FROM_CGROUP
}

// Node is the Envoy node identity.
type Node struct {
	ID       string // node.id: APPMESH_RESOURCE_ARN (or its deprecated predecessors)
	Cluster  string // node.cluster: APPMESH_RESOURCE_CLUSTER, else the node id
	Locality *Locality
	// Metadata is node.metadata: platform info, Service Connect mappings, ... (nested maps).
	Metadata map[string]any
}

// Locality is the node's region and availability zone id.
type Locality struct {
	Region string // the AWS region
	Zone   string // the availability zone id (e.g. usw2-az1)
}

// AdminData is Envoy's admin listener: Pipe, or Address and Port.
type AdminData struct {
	AccessLog  string // the admin access log path (ENVOY_ADMIN_ACCESS_LOG_FILE)
	OutlierLog string // the outlier detection event log path
	Pipe       string // the admin Unix socket (ENVOY_ADMIN_MODE=uds), or ""
	Address    string // the admin IP address when Pipe is "": 0.0.0.0, or :: for IPv6
	Port       uint16 // the admin TCP port (ENVOY_ADMIN_ACCESS_PORT)
	IPv4Compat bool   // an IPv6 Address that also accepts IPv4
}

// XDSData is the ADS connection.
type XDSData struct {
	TargetURI           string        // the gRPC target: the App Mesh endpoint, or unix://PATH of the relay
	SigningName         string        // the SigV4 service name (appmesh, appmesh-preview, or APPMESH_SIGNING_NAME)
	Region              string        // the SigV4 region
	InitialFetchTimeout time.Duration // how long Envoy waits for the first CDS/LDS answer
}

// TracingData selects at most one tracer; Driver names its template under tracing/.
type TracingData struct {
	Driver        string // "", "xray", "datadog", "jaeger" or "opentelemetry"
	Cluster       *ClusterData
	ServiceName   string // Datadog
	ZipkinVersion string // Jaeger: HTTP_PROTO or HTTP_JSON
	XRay          *XRayData
	OTel          *OTelData
}

// ClusterData is a tracer's collector cluster.
type ClusterData struct {
	Name    string // the cluster's name, which the tracer refers to
	Address string // the collector's IP address or hostname
	Port    uint16 // the collector's port
	// Static is true for an IP literal Address, which needs no DNS (STATIC instead of
	// STRICT_DNS).
	Static bool
	// HTTP2 makes the cluster speak HTTP/2 (a gRPC collector).
	HTTP2 bool
	// TLS, when set, is the collector's TLS (an https:// endpoint).
	TLS *TLSData
}

// TLSData is upstream TLS to a collector: its certificate must chain to CAFile and name
// SubjectAltName (a DNS name, or an IP address when SANType is IP_ADDRESS).
type TLSData struct {
	SNI            string // "" for an IP address
	CAFile         string // the CA bundle the collector's certificate must chain to
	SANType        string // DNS or IP_ADDRESS
	SubjectAltName string // the name or IP address the certificate must carry
	ALPN           string // "h2" for gRPC, else ""
}

// XRayData configures the X-Ray tracer.
type XRayData struct {
	Address          string // the X-Ray daemon's IP address
	Port             uint16 // the X-Ray daemon's UDP port
	SegmentName      string // the segment name (XRAY_SEGMENT_NAME, else derived from the node id)
	AppMesh          *Mesh  // set when the node id is a mesh resource
	SamplingManifest string // path, or ""
}

// StatsData configures stats tags, flushing and the DogStatsD sink.
type StatsData struct {
	Enabled       bool // emit stats_config
	ResourceTags  bool // appmesh.mesh / appmesh.<type>
	Extension     bool // metrics extension tags
	TaskSet       bool // Service Connect task set: extension tags only
	Mesh          Mesh
	FlushInterval *time.Duration // stats_flush_interval (ENVOY_STATS_FLUSH_INTERVAL), or nil for Envoy's default
	DogStatsd     *DogStatsdData
}

// DogStatsdData is the DogStatsD sink address: SocketPath, or Address and Port.
type DogStatsdData struct {
	SocketPath string // the DogStatsD Unix socket (STATSD_SOCKET_PATH), or ""
	Address    string // the DogStatsD IP address when SocketPath is ""
	Port       uint16 // the DogStatsD UDP port when SocketPath is ""
}

// RelayData configures the relay bootstrap.
type RelayData struct {
	ListenerPath       string        // the relay listener's Unix socket (APPNET_RELAY_LISTENER_UDS_PATH)
	Region             string        // the SigV4 region
	Domain             string        // the Service Connect management endpoint's domain
	Curve              string        // the TLS curve that endpoint requires (P-256, or P-384 in some partitions)
	Port               uint16        // the management endpoint's port (APPNET_MANAGEMENT_PORT)
	BufferLimit        uint32        // per-connection buffer limit in bytes (RELAY_BUFFER_LIMIT_BYTES)
	IdleTimeout        time.Duration // the relay's stream idle timeout (RELAY_STREAM_IDLE_TIMEOUT)
	HTTPClientForCreds bool          // fetch AWS credentials with Envoy's HTTP client (runtime key)
}

// samplingRulesPath is where a fixed X-Ray sampling rate is written, as in the reference agent.
const samplingRulesPath = "/tmp/sampling-rules.json"

// plan is Data plus what rendering needs besides the template: side files and warnings.
type plan struct {
	data      *Data
	sideFiles map[string][]byte
	warnings  []string
}

// newSidecarPlan builds the template data for the sidecar bootstrap (modes A and B).
func newSidecarPlan(c *env.Config, f platform.Facts, readFile func(string) ([]byte, error)) (*plan, error) {
	p := &plan{data: &Data{RelayClient: c.RelayClient()}, sideFiles: map[string][]byte{}}
	d := p.data
	id := c.Identity.NodeID()
	if id == "" {
		return nil, fmt.Errorf("APPMESH_RESOURCE_ARN: must be set (or the deprecated APPMESH_RESOURCE_NAME or APPMESH_VIRTUAL_NODE_NAME): it is the Envoy node id")
	}
	mesh, meshErr := parseMesh(id)
	d.Node = Node{ID: id, Cluster: c.Identity.NodeCluster()}
	d.Admin = AdminData{AccessLog: c.Admin.AccessLog, OutlierLog: c.Admin.OutlierLog}
	if c.Admin.Mode == "uds" {
		d.Admin.Pipe = EnvoyAdminSocket
	} else {
		d.Admin.Address, d.Admin.Port = "0.0.0.0", c.Admin.Port
		if c.Admin.IPv6 {
			d.Admin.Address, d.Admin.IPv4Compat = "::", true
		}
	}
	if err := p.setXDS(c, f); err != nil {
		return nil, err
	}
	d.StaticRuntime = staticRuntime(c)
	d.Node.Metadata = nodeMetadata(c, f, d.StaticRuntime)
	if f.AvailabilityZoneID != "" && f.Region != "" {
		d.Node.Locality = &Locality{Region: f.Region, Zone: f.AvailabilityZoneID}
	}
	if err := p.setTracing(c, f, mesh, meshErr == nil, readFile); err != nil {
		return nil, err
	}
	d.SDSSocket = string(c.Admin.SDSSocket)
	if !c.StatsFragment().Set() {
		s := &d.Stats
		s.Extension = c.Stats.MetricExtension == "1"
		s.TaskSet = env.IsTaskSet(id)
		if s.TaskSet {
			s.Enabled = s.Extension
		} else if meshErr != nil {
			return nil, fmt.Errorf("%s: %w (the node id must be a mesh resource such as mesh/MESH/virtualNode/NAME, or an ARN ending in one, to generate stats tags; set ENVOY_STATS_CONFIG_FILE otherwise)", nodeIDVariable(c.Identity), meshErr)
		} else {
			s.Enabled, s.ResourceTags, s.Mesh = true, c.Stats.Tags, mesh
		}
	}
	d.Stats.FlushInterval = c.Stats.FlushInterval
	if c.Runtime.EnableDogStatsdSink && !c.SinksFragment().Set() {
		d.Stats.DogStatsd = &DogStatsdData{SocketPath: string(c.Stats.StatsdSocketPath), Address: string(c.Stats.StatsdAddress), Port: c.Stats.StatsdPort}
	}
	return p, nil
}

// nodeIDVariable names the variable the node id came from (env.Identity.NodeID's precedence).
func nodeIDVariable(i env.Identity) string {
	switch {
	case i.ResourceARN != "":
		return "APPMESH_RESOURCE_ARN"
	case i.ResourceName != "":
		return "APPMESH_RESOURCE_NAME"
	}
	return "APPMESH_VIRTUAL_NODE_NAME"
}

func (p *plan) setXDS(c *env.Config, f platform.Facts) error {
	x := &p.data.XDS
	x.InitialFetchTimeout = c.XDS.InitialFetch
	if c.RelayClient() {
		x.TargetURI = c.Mode.XDSEndpoint
		return nil
	}
	if f.Region == "" {
		if f.RegionErr != nil {
			return fmt.Errorf("AWS_REGION is unset and %w", f.RegionErr)
		}
		return fmt.Errorf("AWS_REGION is unset and unable to retrieve the region from the EC2 Metadata Service")
	}
	x.Region = f.Region
	x.TargetURI = c.Mode.XDSEndpoint
	if x.TargetURI == "" {
		uri, err := appMeshEndpoint(f.Region, c.XDS.Preview, c.XDS.DualStack, f.FIPS, f.EnvoyVersion)
		if err != nil {
			return err
		}
		x.TargetURI = uri
	}
	x.SigningName = c.XDS.SigningName
	if x.SigningName == "" {
		x.SigningName = "appmesh"
		if c.XDS.Preview {
			x.SigningName = "appmesh-preview"
		}
	}
	return nil
}

func staticRuntime(c *env.Config) map[string]any {
	rt := map[string]any{
		"envoy.features.enable_all_deprecated_features":                      true,
		"re2.max_program_size.error_level":                                   1000,
		"envoy.reloadable_features.http_set_tracing_decision_in_request_id":  c.Runtime.SetTracingDecision,
		"envoy.reloadable_features.no_extension_lookup_by_name":              c.Runtime.NoExtensionByName,
		"envoy.reloadable_features.use_http_client_to_fetch_aws_credentials": c.Runtime.HTTPClientForCreds,
	}
	if n := c.XDS.MaxRequestsPerIO; n != nil {
		rt["http.max_requests_per_io_cycle"] = *n
	}
	if b := c.XDS.TCPPoolIdleTimeout; b != nil {
		rt["envoy.reloadable_features.tcp_pool_idle_timeout"] = *b
	}
	return rt
}

func nodeMetadata(c *env.Config, f platform.Facts, runtime map[string]any) map[string]any {
	md := map[string]any{"aws.appmesh.static_runtime": maps.Clone(runtime)}
	if len(f.Interfaces) > 0 {
		md["aws.appmesh.task.interfaces"] = f.Interfaces
	}
	if c.Stats.MetricExtension == "1" {
		md["aws.appmesh.metric_filter"] = map[string]any{"level": "1"}
	}
	info := maps.Clone(f.PlatformInfo)
	if c.Metadata.FIPSMode {
		if info == nil {
			info = map[string]any{}
		}
		info["fipsModeEnabled"] = true
	}
	if len(info) > 0 {
		md["aws.appmesh.platformInfo"] = info
	}
	if c.Metadata.ContainerIPMapping != nil {
		md["aws.ecs.serviceconnect.ClusterIPMapping"] = map[string]any(c.Metadata.ContainerIPMapping)
	}
	if c.Metadata.ListenerPortMapping != nil {
		md["aws.ecs.serviceconnect.ListenerPortMapping"] = map[string]any(c.Metadata.ListenerPortMapping)
	}
	sd := map[string]any{}
	if c.Metadata.NamespaceName != "" {
		sd["NamespaceName"] = c.Metadata.NamespaceName
	}
	if c.Metadata.NamespaceARN != "" {
		sd["NamespaceArn"] = c.Metadata.NamespaceARN
	}
	if len(sd) > 0 {
		md["aws.ecs.serviceconnect.ServiceDiscovery"] = sd
	}
	return md
}

// defaultServiceName is the X-Ray segment name the reference derives from the node: mesh/NAME
// for a mesh resource, else the node cluster (a Service Connect task set). The OpenTelemetry
// service name defaults to it too.
func defaultServiceName(c *env.Config, mesh Mesh, meshOK bool) string {
	if meshOK {
		return mesh.Mesh + "/" + mesh.Name
	}
	return c.Identity.NodeCluster()
}

func (p *plan) setTracing(c *env.Config, f platform.Facts, mesh Mesh, meshOK bool, readFile func(string) ([]byte, error)) error {
	t := &p.data.Tracing
	switch {
	case c.TracingFragment().Set():
		return nil
	case c.Tracing.XRay:
		x := &XRayData{Address: "127.0.0.1", Port: c.XRay.Port}
		if a := c.XRay.Address; a.IP != "" {
			x.Address = a.IP
			if a.Port != 0 {
				x.Port = a.Port
			}
		}
		x.SegmentName = defaultServiceName(c, mesh, meshOK)
		if meshOK {
			m := mesh
			x.AppMesh = &m
			if c.XRay.SegmentName != "" {
				x.SegmentName = c.XRay.SegmentName
			}
		} else if c.XRay.SegmentName != "" {
			// The reference ignores it here (conformance M06); say so rather than silently.
			p.warnings = append(p.warnings, fmt.Sprintf("XRAY_SEGMENT_NAME is ignored: the node id %q is not a mesh resource, so the segment is named after the node cluster %q",
				c.Identity.NodeID(), x.SegmentName))
		}
		manifest, err := p.samplingManifest(c, readFile)
		if err != nil {
			return err
		}
		x.SamplingManifest = manifest
		t.Driver, t.XRay = "xray", x
	case c.Tracing.Datadog:
		t.Driver = "datadog"
		t.Cluster = &ClusterData{Name: "datadog_agent", Address: c.Datadog.Address, Port: c.Datadog.Port}
		t.ServiceName = c.Datadog.Service
		if t.ServiceName == "" {
			t.ServiceName = "envoy"
			if meshOK {
				t.ServiceName = "envoy-" + mesh.Mesh + "/" + mesh.Name
			}
		}
	case c.Tracing.OTel:
		return p.setOTel(c, f, mesh, meshOK, readFile)
	case c.Tracing.Jaeger:
		t.Driver = "jaeger"
		t.Cluster = &ClusterData{Name: "jaeger", Address: c.Jaeger.Address, Port: c.Jaeger.Port}
		t.ZipkinVersion = "HTTP_PROTO"
		if strings.Contains(strings.ToLower(c.Jaeger.Version), "json") {
			t.ZipkinVersion = "HTTP_JSON"
		}
	}
	return nil
}
