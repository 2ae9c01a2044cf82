package render

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

// OTelData configures Envoy's OpenTelemetry tracer (tracing/opentelemetry.yaml.tmpl); its
// collector cluster is TracingData.Cluster.
type OTelData struct {
	// HTTP selects Envoy's OTLP/HTTP exporter (http/protobuf), which POSTs to URI;
	// otherwise the gRPC exporter sends to the cluster with Authority as :authority.
	HTTP        bool
	URI         string        // the OTLP/HTTP traces URL (HTTP only)
	Authority   string        // host:port of the collector, the gRPC :authority
	Timeout     time.Duration // export request timeout (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT)
	ServiceName string        // service.name of Envoy's spans
	// Attributes are the node's identity, given to Envoy's static resource detector; the
	// environment detector after it adds OTEL_RESOURCE_ATTRIBUTES, which wins on conflicts.
	Attributes map[string]string
	Sampler    *OTelSamplerData // nil: Envoy's own sampling decision
}

// OTelSamplerData is an OTEL_TRACES_SAMPLER in Envoy's terms: always on, or a trace-id ratio
// of PerMillion in a million (always_off is a ratio of 0), wrapped in the parent-based
// sampler for the parentbased_* samplers.
type OTelSamplerData struct {
	ParentBased bool   // wrap the root sampler in the parent-based one (parentbased_*)
	AlwaysOn    bool   // always sample (always_on); else a trace-id ratio of PerMillion
	PerMillion  uint32 // the trace-id ratio in a million (0 for always_off)
}

// otelCluster is the name of the OpenTelemetry collector cluster.
const otelCluster = "opentelemetry_collector"

// defaultCAFile holds the CAs the bootstrap's xDS connection trusts (Amazon Linux's bundle, as
// in the App Mesh Envoy image); a TLS collector is verified against it unless a
// certificate variable names another file.
const defaultCAFile = "/etc/pki/tls/cert.pem"

// Default collector endpoints: a collector sidecar (the ADOT collector's OTLP receivers).
var (
	defaultOTLPGRPC = env.OTLPEndpoint{Scheme: "http", Host: "127.0.0.1", Port: 4317, Authority: "127.0.0.1:4317"}
	defaultOTLPHTTP = env.OTLPEndpoint{Scheme: "http", Host: "127.0.0.1", Port: 4318, Authority: "127.0.0.1:4318", Path: "/v1/traces"}
)

// setOTel fills the OpenTelemetry tracer and its collector cluster from the OTEL_* variables
// and the node's identity.
func (p *plan) setOTel(c *env.Config, f platform.Facts, mesh Mesh, meshOK bool, readFile func(string) ([]byte, error)) error {
	o := c.OTel
	useHTTP := o.Protocol() == env.OTLPHTTPProtobuf
	ep, variable, set := o.TracesEndpoint()
	switch {
	case !set && useHTTP:
		ep = defaultOTLPHTTP
	case !set:
		ep = defaultOTLPGRPC
	}
	d := &OTelData{HTTP: useHTTP, Authority: ep.Authority, Timeout: o.ExportTimeout(), ServiceName: o.ServiceName}
	if useHTTP {
		d.URI = otlpHTTPURI(ep, variable)
	}
	if d.ServiceName == "" {
		d.ServiceName = defaultServiceName(c, mesh, meshOK)
	}
	d.Attributes = nodeAttributes(p.data.Node, f)
	sampler, warning := otelSampler(o)
	d.Sampler = sampler
	if warning != "" {
		p.warnings = append(p.warnings, warning)
	}
	cl := &ClusterData{Name: otelCluster, Address: ep.Host, Port: ep.Port, Static: ep.IsIP(), HTTP2: !useHTTP}
	if ep.TLS() {
		tls, err := collectorTLS(ep, o, useHTTP, readFile)
		if err != nil {
			return err
		}
		cl.TLS = tls
	}
	p.data.Tracing.Driver, p.data.Tracing.OTel, p.data.Tracing.Cluster = "opentelemetry", d, cl
	return nil
}

// otlpHTTPURI is where the HTTP exporter POSTs, per the specification: a signal-specific
// endpoint is used as is (the root path when it has none); the general one is a base URL
// to which v1/traces is appended.
func otlpHTTPURI(ep env.OTLPEndpoint, variable string) string {
	path := ep.Path
	switch {
	case variable == "OTEL_EXPORTER_OTLP_ENDPOINT":
		path = strings.TrimSuffix(path, "/") + "/v1/traces"
	case path == "":
		path = "/"
	}
	return ep.Scheme + "://" + ep.Authority + path
}

// collectorTLS verifies the collector's certificate against the CA file (the certificate
// variable's, checked to hold PEM certificates now rather than by a failing Envoy) and its
// name: the host's DNS name, or its IP address.
func collectorTLS(ep env.OTLPEndpoint, o env.OpenTelemetry, useHTTP bool, readFile func(string) ([]byte, error)) (*TLSData, error) {
	t := &TLSData{CAFile: defaultCAFile, SANType: "DNS", SubjectAltName: ep.Host, SNI: ep.Host}
	if ep.IsIP() {
		t.SANType, t.SNI = "IP_ADDRESS", ""
	}
	if !useHTTP {
		t.ALPN = "h2" // gRPC servers require HTTP/2 negotiated by ALPN
	}
	if path, variable := o.CAFile(); path != "" {
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", variable, err)
		}
		if !bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, fmt.Errorf("%s: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", variable, path)
		}
		t.CAFile = path
	}
	return t, nil
}

// otelSampler maps OTEL_TRACES_SAMPLER to Envoy's samplers; a ratio finer than Envoy's
// resolution (one in a million) is rounded, with a warning.
func otelSampler(o env.OpenTelemetry) (*OTelSamplerData, string) {
	s := o.Sampler
	if s == "" {
		return nil, ""
	}
	d := &OTelSamplerData{ParentBased: strings.HasPrefix(string(s), "parentbased_")}
	switch s {
	case env.SamplerAlwaysOn, env.SamplerParentAlwaysOn:
		d.AlwaysOn = true
	case env.SamplerAlwaysOff, env.SamplerParentAlwaysOff:
		d.PerMillion = 0
	default: // the ratio samplers
		exact := o.SamplerArg * 1e6
		d.PerMillion = uint32(math.Round(exact))
		if math.Abs(exact-float64(d.PerMillion)) > 1e-6 {
			return d, fmt.Sprintf("OTEL_TRACES_SAMPLER_ARG: %s is rounded to %s (Envoy's sampling ratio has a resolution of one in a million)",
				strconv.FormatFloat(o.SamplerArg, 'g', -1, 64), strconv.FormatFloat(float64(d.PerMillion)/1e6, 'f', -1, 64))
		}
	}
	return d, ""
}

// nodeAttributes are the resource attributes that identify this Envoy: the node, and where it
// runs when that is known (OpenTelemetry semantic conventions for cloud and ECS resources).
func nodeAttributes(n Node, f platform.Facts) map[string]string {
	a := map[string]string{"envoy.node.id": n.ID, "envoy.node.cluster": n.Cluster}
	if f.Region != "" {
		a["cloud.provider"], a["cloud.region"] = "aws", f.Region
	}
	if az, _ := f.PlatformInfo[platform.KeyAvailabilityZone].(string); az != "" {
		a["cloud.availability_zone"] = az
	}
	if ecs, ok := f.PlatformInfo[platform.KeyECSPlatformInfo].(map[string]any); ok {
		a["cloud.platform"] = "aws_ecs"
		for key, attr := range map[string]string{"ecsClusterArn": "aws.ecs.cluster.arn", "ecsTaskArn": "aws.ecs.task.arn"} {
			if v, _ := ecs[key].(string); strings.HasPrefix(v, "arn:") {
				a[attr] = v
			}
		}
	} else if _, ok := f.PlatformInfo[platform.KeyK8sPlatformInfo]; ok {
		a["cloud.platform"] = "aws_eks"
	}
	return a
}
