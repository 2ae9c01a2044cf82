package loadtime

import (
	"encoding/hex"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Health check rules: source/extensions/health_checkers.

func init() {
	register("envoy.config.core.v3.HealthCheck.HttpHealthCheck", httpHealthStatuses, httpHealthPayload, httpHealthSend, httpHealthHeaders)
	register("envoy.config.core.v3.HealthCheck.GrpcHealthCheck", grpcHealthMetadata)
	register("envoy.config.core.v3.HealthCheck.Payload", healthPayloadHex)
}

// healthPayloadHex: a text payload (sent or expected, HTTP or TCP) is hex.
// Envoy: source/common/upstream/health_checker_impl.cc:101 (PayloadMatcher::decodePayload) — "invalid hex string
// '<text>'".
func healthPayloadHex(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*corev3.HealthCheck_Payload)
	if !ok {
		return
	}
	if t, isText := p.GetPayload().(*corev3.HealthCheck_Payload_Text); isText && !envoyHex(t.Text) {
		c.envoyf(c.at("text"), "source/common/upstream/health_checker_impl.cc", "invalid hex string '%s'", t.Text)
	}
}

const httpHealthSource = "source/extensions/health_checkers/http/health_checker_impl.cc"

// httpHealthStatuses: expected and retriable status ranges are half-open ranges within [100, 600].
// Envoy: source/extensions/health_checkers/http/health_checker_impl.cc (validateRange) — "Invalid http <type> status
// range: expecting start < end, but found start=<s> and end=<e>", "... expecting start >= 100, but found
// start=<s>", "... expecting end <= 600, but found end=<e>".
func httpHealthStatuses(c *Context, m protoreflect.Message) {
	hc, ok := m.Interface().(*corev3.HealthCheck_HttpHealthCheck)
	if !ok {
		return
	}
	check := func(field, kind string, ranges []*typev3.Int64Range) {
		for i, r := range ranges {
			p := func() string { return index(c.at(field), i) }
			switch start, end := r.GetStart(), r.GetEnd(); {
			case uint64(start) >= uint64(end):
				c.envoyf(p(), httpHealthSource, "Invalid http %s status range: expecting start < end, but found start=%d and end=%d", kind, uint64(start), uint64(end))
			case uint64(start) < 100:
				c.envoyf(p()+".start", httpHealthSource, "Invalid http %s status range: expecting start >= 100, but found start=%d", kind, uint64(start))
			case uint64(end) > 600:
				c.envoyf(p()+".end", httpHealthSource, "Invalid http %s status range: expecting end <= 600, but found end=%d", kind, uint64(end))
			}
		}
	}
	check("expected_statuses", "expected", hc.GetExpectedStatuses())
	check("retriable_statuses", "retriable", hc.GetRetriableStatuses())
}

// httpHealthPayload: the expected response must fit the response buffer.
// Envoy: source/extensions/health_checkers/http/health_checker_impl.cc — "The expected response length '<n>' is
// over than http health response buffer size '<m>'".
func httpHealthPayload(c *Context, m protoreflect.Message) {
	hc, ok := m.Interface().(*corev3.HealthCheck_HttpHealthCheck)
	if !ok {
		return
	}
	limit := uint64(1024) // kDefaultMaxBytesInBuffer
	if hc.GetResponseBufferSize() != nil {
		limit = hc.GetResponseBufferSize().GetValue()
	}
	total := 0
	for _, p := range hc.GetReceive() {
		switch {
		case p.GetText() != "":
			b, err := hex.DecodeString(strings.ReplaceAll(p.GetText(), " ", ""))
			if err != nil {
				return // reported by healthPayloadHex
			}
			total += len(b)
		default:
			total += len(p.GetBinary())
		}
	}
	if limit != 0 && uint64(total) > limit {
		c.envoyf(c.at("receive"), httpHealthSource,
			"The expected response length '%d' is over than http health response buffer size '%d'", total, limit)
	}
}

// httpHealthSend: a request payload needs a method that carries a body (GET is the default method).
// Envoy: source/extensions/health_checkers/http/health_checker_impl.cc — "HTTP health check cannot specify a request
// payload with method '<m>'. Only methods that support a request body (POST, PUT, PATCH, OPTIONS) can be used with
// payload."
func httpHealthSend(c *Context, m protoreflect.Message) {
	hc, ok := m.Interface().(*corev3.HealthCheck_HttpHealthCheck)
	if !ok || hc.GetSend() == nil {
		return
	}
	method := hc.GetMethod()
	if method == corev3.RequestMethod_METHOD_UNSPECIFIED {
		method = corev3.RequestMethod_GET
	}
	switch method {
	case corev3.RequestMethod_GET, corev3.RequestMethod_HEAD, corev3.RequestMethod_DELETE, corev3.RequestMethod_TRACE:
		c.envoyf(c.at("send"), httpHealthSource, "HTTP health check cannot specify a request payload with method '%s'. "+
			"Only methods that support a request body (POST, PUT, PATCH, OPTIONS) can be used with payload.", method)
	}
}

// httpHealthHeaders: health check request headers follow the route header rules.
func httpHealthHeaders(c *Context, m protoreflect.Message) {
	if hc, ok := m.Interface().(*corev3.HealthCheck_HttpHealthCheck); ok {
		c.headersToAdd("request_headers_to_add", hc.GetRequestHeadersToAdd())
		c.headersToRemove("request_headers_to_remove", hc.GetRequestHeadersToRemove())
	}
}

// grpcHealthMetadata: the gRPC health check's initial metadata goes through the same header parser.
func grpcHealthMetadata(c *Context, m protoreflect.Message) {
	if hc, ok := m.Interface().(*corev3.HealthCheck_GrpcHealthCheck); ok {
		c.headersToAdd("initial_metadata", hc.GetInitialMetadata())
	}
}
