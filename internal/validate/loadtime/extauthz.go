//go:build !appnet_lean

package loadtime

import (
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// External authorization (source/extensions/filters/http/ext_authz and the HTTP client config of
// source/extensions/filters/common/ext_authz): the filter's HTTP service is configured when the filter is built;
// a per-route HTTP service only when a request needs it.

const (
	extAuthzClientSource = "source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc"
	extAuthzSource       = "source/extensions/filters/http/ext_authz/ext_authz.cc"
	extAuthzHeader       = "source/extensions/filters/http/ext_authz/ext_authz.h"
)

func init() {
	register("envoy.extensions.filters.http.ext_authz.v3.ExtAuthz", extAuthzConfig)
	register("envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute", extAuthzPerRoute)
}

// extAuthzConfig: the authorization request's path is prefixed or overridden (not both) by a path starting with
// "/", and the allowed headers are set in one place.
// Envoy: source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc:115, :122, :130 [http-filters-2fc16709]
// [http-filters-e5d5af0e] [http-filters-4d255537] — "path_prefix should start with \"/\".", "path_override should
// start with \"/\".", "Only one of path_prefix or path_override may be set, not both."; ext_authz.cc:156
// [http-filters-2f5df9f1] — "Invalid duplicate configuration for allowed_headers.".
func extAuthzConfig(c *Context, m protoreflect.Message) {
	a, ok := m.Interface().(*extauthzv3.ExtAuthz)
	if !ok {
		return
	}
	if a.GetAllowedHeaders() != nil && a.GetHttpService().GetAuthorizationRequest().GetAllowedHeaders() != nil {
		c.envoyf(c.at("http_service.authorization_request.allowed_headers"), extAuthzSource,
			"Invalid duplicate configuration for allowed_headers. (set allowed_headers only)")
	}
	hs := a.GetHttpService()
	if hs == nil {
		return
	}
	prefix, override := hs.GetPathPrefix(), hs.GetPathOverride()
	switch {
	case prefix != "" && prefix[0] != '/':
		c.envoyf(c.at("http_service.path_prefix"), extAuthzClientSource, "path_prefix should start with \"/\".")
	case override != "" && override[0] != '/':
		c.envoyf(c.at("http_service.path_override"), extAuthzClientSource, "path_override should start with \"/\".")
	case prefix != "" && override != "":
		c.envoyf(c.at("http_service.path_override"), extAuthzClientSource, "Only one of path_prefix or path_override may be set, not both.")
	}
}

// extAuthzPerRoute: a route either turns request body buffering off or configures it.
// Envoy: source/extensions/filters/http/ext_authz/ext_authz.h:343 [http-filters-ae5720d4] — "Invalid configuration
// for check_settings. Only one of disable_request_body_buffering or with_request_body can be set.".
func extAuthzPerRoute(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*extauthzv3.ExtAuthzPerRoute)
	if ok && p.GetCheckSettings().GetDisableRequestBodyBuffering() && p.GetCheckSettings().GetWithRequestBody() != nil {
		c.envoyf(c.at("check_settings.with_request_body"), extAuthzHeader, "Invalid configuration for check_settings. "+
			"Only one of disable_request_body_buffering or with_request_body can be set.")
	}
}
