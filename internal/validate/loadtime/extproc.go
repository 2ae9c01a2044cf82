//go:build !appnet_lean

package loadtime

import (
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// External processing (source/extensions/filters/http/ext_proc/config.cc): the filter's config is verified when
// the filter is built.

const extProcSource = "source/extensions/filters/http/ext_proc/config.cc"

func init() {
	register("envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor", extProcConfig)
}

// extProcConfig: the processor is a gRPC or an HTTP service, the route cache is handled one way, an HTTP service
// gets headers only, and full-duplex streamed bodies come with their trailers.
// Envoy: source/extensions/filters/http/ext_proc/config.cc:59, :66, :28, :39, :48 [http-filters-more-bc12df63]
// [http-filters-more-ce9f4f6e] [http-filters-more-734bcb65] [http-filters-more-8c21e872]
// [http-filters-more-49958b84] — "One and only one of grpc_service or http_service must be configured",
// "disable_clear_route_cache and route_cache_action can not be set to none-default at the same time.", "If the
// ext_proc filter is configured with http_service instead of gRPC service, then the processing modes of this filter
// can not be configured to send body or trailer.", "If the ext_proc filter has the request_body_mode set to
// FULL_DUPLEX_STREAMED, then the request_trailer_mode has to be set to SEND" (likewise response).
func extProcConfig(c *Context, m protoreflect.Message) {
	e, ok := m.Interface().(*extprocv3.ExternalProcessor)
	if !ok {
		return
	}
	if (e.GetGrpcService() == nil) == (e.GetHttpService() == nil) {
		c.envoyf(c.Path(), extProcSource, "One and only one of grpc_service or http_service must be configured")
		return
	}
	if e.GetDisableClearRouteCache() && e.GetRouteCacheAction() != extprocv3.ExternalProcessor_DEFAULT {
		c.envoyf(c.at("route_cache_action"), extProcSource, "disable_clear_route_cache and route_cache_action can not be set "+
			"to none-default at the same time.")
		return
	}
	pm := e.GetProcessingMode()
	const send, fullDuplex = extprocv3.ProcessingMode_SEND, extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED
	switch {
	case e.GetHttpService() != nil && (pm.GetRequestBodyMode() != extprocv3.ProcessingMode_NONE ||
		pm.GetResponseBodyMode() != extprocv3.ProcessingMode_NONE || pm.GetRequestTrailerMode() == send || pm.GetResponseTrailerMode() == send):
		c.envoyf(c.at("processing_mode"), extProcSource, "If the ext_proc filter is configured with http_service instead of "+
			"gRPC service, then the processing modes of this filter can not be configured to send body or trailer.")
	case pm.GetRequestBodyMode() == fullDuplex && pm.GetRequestTrailerMode() != send:
		c.envoyf(c.at("processing_mode.request_trailer_mode"), extProcSource, "If the ext_proc filter has the "+
			"request_body_mode set to FULL_DUPLEX_STREAMED, then the request_trailer_mode has to be set to SEND")
	case pm.GetResponseBodyMode() == fullDuplex && pm.GetResponseTrailerMode() != send:
		c.envoyf(c.at("processing_mode.response_trailer_mode"), extProcSource, "If the ext_proc filter has the "+
			"response_body_mode set to FULL_DUPLEX_STREAMED, then the response_trailer_mode has to be set to SEND")
	}
}
