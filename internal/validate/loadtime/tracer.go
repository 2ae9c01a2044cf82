package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Tracer rules: the tracer drivers of source/extensions/tracers. Envoy builds a driver only for an HTTP connection
// manager that enables tracing (HttpConnectionManager.tracing): with its own provider, or else with the
// bootstrap's tracing.http. The bootstrap's tracer alone is only looked up by type at load
// (source/server/configuration_impl.cc, initializeTracers), so its driver's checks apply only when a static
// listener's connection manager uses it.

const hcmType = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

func init() {
	register("envoy.config.trace.v3.XRayConfig", xrayEndpoint)
	register("envoy.config.trace.v3.ZipkinConfig", zipkinCollector)
	register("envoy.config.trace.v3.OpenTelemetryConfig", openTelemetryExporters)
	register(hcmType, hcmTracing)
}

// tracerBuilt reports whether Envoy builds the driver of the tracer being checked while it loads the bootstrap: a
// connection manager's provider in a (static) listener, or the bootstrap's tracing.http when such a connection
// manager uses it. The walker visits static_resources before tracing, so hcmTracing has seen every connection
// manager by then.
func (c *Context) tracerBuilt() bool {
	if c.Ancestor(hcmType) != nil {
		return c.Ancestor("envoy.config.listener.v3.Listener") != nil
	}
	return c.Ancestor("envoy.config.trace.v3.Tracing") != nil && c.defaultTracerUsed
}

// hcmTracing notes a listener's connection manager that enables tracing without a provider of its own, so that
// Envoy builds the bootstrap's tracer.
func hcmTracing(c *Context, m protoreflect.Message) {
	if hcm, ok := m.Interface().(*hcmv3.HttpConnectionManager); ok && hcm.GetTracing() != nil &&
		hcm.GetTracing().GetProvider() == nil && c.Ancestor("envoy.config.listener.v3.Listener") != nil {
		c.defaultTracerUsed = true
	}
}

// xrayEndpoint: the X-Ray daemon takes UDP, at a numbered port.
// Envoy: source/extensions/tracers/xray/config.cc:36, :41 (createTracerDriverTyped) — "X-Ray daemon endpoint must
// be a UDP socket address", "X-Ray daemon port must be specified as number. Not a named port."
func xrayEndpoint(c *Context, m protoreflect.Message) {
	x, ok := m.Interface().(*tracev3.XRayConfig)
	if !ok || !c.tracerBuilt() {
		return
	}
	const src = "source/extensions/tracers/xray/config.cc"
	ep := x.GetDaemonEndpoint()
	if ep.GetProtocol() != corev3.SocketAddress_UDP {
		c.envoyf(c.at("daemon_endpoint.protocol"), src, "X-Ray daemon endpoint must be a UDP socket address")
	}
	if _, numbered := ep.GetPortSpecifier().(*corev3.SocketAddress_PortValue); !numbered {
		c.envoyf(c.at("daemon_endpoint"), src, "X-Ray daemon port must be specified as number. Not a named port.")
	}
}

// zipkinCollector: without a collector service, Zipkin needs a collector cluster and endpoint.
// Envoy: source/extensions/tracers/zipkin/zipkin_tracer_impl.cc:80 (Driver) — "collector_cluster and
// collector_endpoint must be specified when not using collector_service".
func zipkinCollector(c *Context, m protoreflect.Message) {
	z, ok := m.Interface().(*tracev3.ZipkinConfig)
	if !ok || z.GetCollectorService() != nil || (z.GetCollectorCluster() != "" && z.GetCollectorEndpoint() != "") || !c.tracerBuilt() {
		return
	}
	c.envoyf(c.Path(), "source/extensions/tracers/zipkin/zipkin_tracer_impl.cc",
		"collector_cluster and collector_endpoint must be specified when not using collector_service")
}

// openTelemetryExporters: spans go to one exporter, gRPC or HTTP.
// Envoy: source/extensions/tracers/opentelemetry/opentelemetry_tracer_impl.cc:85 (Driver) — "OpenTelemetry Tracer
// cannot have both gRPC and HTTP exporters configured. OpenTelemetry tracer will be disabled."
func openTelemetryExporters(c *Context, m protoreflect.Message) {
	o, ok := m.Interface().(*tracev3.OpenTelemetryConfig)
	if ok && o.GetGrpcService() != nil && o.GetHttpService() != nil && c.tracerBuilt() {
		c.envoyf(c.at("http_service"), "source/extensions/tracers/opentelemetry/opentelemetry_tracer_impl.cc",
			"OpenTelemetry Tracer cannot have both gRPC and HTTP exporters configured. OpenTelemetry tracer will be disabled.")
	}
}
