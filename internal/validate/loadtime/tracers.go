package loadtime

import (
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	celsamplerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/samplers/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// More tracer rules (tracer.go has the driver-building condition, tracerBuilt, and the first ones).

func init() {
	register("envoy.config.trace.v3.ZipkinConfig", zipkinEndpointVersion)
	register("envoy.extensions.tracers.opentelemetry.samplers.v3.CELSamplerConfig", celSamplerExpression)
}

// zipkinEndpointVersion: the Zipkin reporter needs a serializer, chosen by collector_endpoint_version. The default
// value (DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE) is refused twice over: the API marks it deprecated and disallowed by
// default, so translating the config fails unless a runtime key allows it (source/common/protobuf/utility.cc,
// checkForDeprecatedNonRepeatedEnumValue, which looks at unset enums too), and with the key the serializer
// factory throws. GRPC is declared but not implemented: the factory panics, so Envoy aborts. The reporter is made
// in the driver's constructor (the thread-local slot's set runs its callback on the main thread at once), i.e.
// while the listener loads.
// Envoy: source/extensions/tracers/zipkin/span_buffer.cc:53 [tracers-aa891b6d] — "hidden_envoy_deprecated_HTTP_JSON_V1
// has been deprecated. Please use a non-default ...CollectorEndpointVersion value."; :61 [tracers-8c1e5d65] — PANIC
// "not handled".
func zipkinEndpointVersion(c *Context, m protoreflect.Message) {
	z, ok := m.Interface().(*tracev3.ZipkinConfig)
	if !ok || !c.tracerBuilt() {
		return
	}
	const src = "source/extensions/tracers/zipkin/span_buffer.cc"
	switch z.GetCollectorEndpointVersion() {
	case tracev3.ZipkinConfig_DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE:
		c.envoyf(c.at("collector_endpoint_version"), src, "hidden_envoy_deprecated_HTTP_JSON_V1 has been deprecated. "+
			"Please use a non-default envoy::config::trace::v3::ZipkinConfig::CollectorEndpointVersion value. "+
			"(set HTTP_JSON or HTTP_PROTO)")
	case tracev3.ZipkinConfig_GRPC:
		c.envoyf(c.at("collector_endpoint_version"), src, "not handled: Envoy has no Zipkin gRPC reporter and "+
			"aborts (PANIC) when it builds this tracer (set HTTP_JSON or HTTP_PROTO)")
	}
}

// celSamplerExpression: the CEL sampler compiles its expression when the OpenTelemetry driver builds its sampler.
// Envoy's configuration carries CEL already parsed (cel_expr_parsed, cel_expr_checked or the legacy parsed_expr /
// checked_expr). Envoy 1.38-dev does not compile cel_expr_string, but the API says it takes precedence when set and
// a later release may compile it, so an expression given only as a string is left alone.
// Envoy: source/extensions/filters/common/expr/evaluator.cc:241 [http-filters-e870b534] — "CEL expression not set.",
// reported by source/extensions/tracers/opentelemetry/samplers/cel/cel_sampler.cc as "failed to create an
// expression: CEL expression not set.".
func celSamplerExpression(c *Context, m protoreflect.Message) {
	s, ok := m.Interface().(*celsamplerv3.CELSamplerConfig)
	if !ok || !c.tracerBuilt() {
		return
	}
	if e := s.GetExpression(); e.GetExprSpecifier() == nil && e.GetCelExprParsed() == nil && e.GetCelExprChecked() == nil &&
		e.GetCelExprString() == "" {
		c.envoyf(c.at("expression"), "source/extensions/filters/common/expr/evaluator.cc",
			"failed to create an expression: CEL expression not set. (set cel_expr_parsed or cel_expr_checked)")
	}
}
