//go:build !appnet_lean

package loadtime

import (
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	matchingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	httprbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	genericv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/generic_proxy/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.common.matching.v3.ExtensionWithMatcher", delegateMatchInputTypes)
	register("envoy.extensions.filters.http.rbac.v3.RBAC", rbacMatchInputTypes)
	register("envoy.extensions.filters.network.generic_proxy.v3.VirtualHost", genericProxyRoutesKeepMatching)
	register("envoy.extensions.filters.network.generic_proxy.v3.RouteConfiguration", genericProxyRoutesKeepMatching)
}

// delegateMatchInputTypes: the input types of a match delegate's xDS tree (built by its factory at load; its
// keep_matching is extensionMatcherTree's).
func delegateMatchInputTypes(c *Context, m protoreflect.Message) {
	if e, ok := m.Interface().(*matchingv3.ExtensionWithMatcher); ok && e.GetXdsMatcher() != nil {
		c.matchInputTypes(func() string { return c.at("xds_matcher") }, e.GetXdsMatcher())
	}
}

// rbacMatchInputTypes: the input types of the HTTP RBAC filter's trees (built by its engine at load; keep_matching
// and the inputs RBAC refuses are rbacMatcherTrees').
func rbacMatchInputTypes(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*httprbacv3.RBAC)
	if !ok {
		return
	}
	c.matchInputTypes(func() string { return c.at("matcher") }, r.GetMatcher())
	c.matchInputTypes(func() string { return c.at("shadow_matcher") }, r.GetShadowMatcher())
}

// genericProxyRoutesKeepMatching: the generic proxy builds each virtual host's route tree (and the default one of
// the route configuration) at load; its validation visitor accepts any input but not keep_matching.
// Envoy: source/common/matcher/validation_visitor.h:37 [core-4331077b], reported by
// source/extensions/filters/network/generic_proxy/route_impl.cc:85 as "requirement violation while creating route
// match tree: keep_matching is not supported in this context".
func genericProxyRoutesKeepMatching(c *Context, m protoreflect.Message) {
	var routes *xdsmatcherv3.Matcher
	switch v := m.Interface().(type) {
	case *genericv3.VirtualHost:
		routes = v.GetRoutes()
	case *genericv3.RouteConfiguration:
		routes = v.GetRoutes()
	}
	if routes == nil {
		return
	}
	c.matchTree(routes.ProtoReflect(), func() string { return c.at("routes") }, func(t matchTreeFinding) {
		if t.keepMatching {
			c.envoyf(t.path(), "source/common/matcher/validation_visitor.h", "requirement violation while creating "+
				"route match tree: keep_matching is not supported in this context")
		}
	})
}
