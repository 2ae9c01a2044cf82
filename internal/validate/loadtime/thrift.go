//go:build !appnet_lean

package loadtime

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	thrifth2mv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/thrift_proxy/filters/header_to_metadata/v3"
	thriftp2mv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/thrift_proxy/filters/payload_to_metadata/v3"
	thriftv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/thrift_proxy/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Thrift proxy rules: source/extensions/filters/network/thrift_proxy/ (config.cc, router/router_impl.cc,
// router/router_ratelimit_impl.cc and the metadata filters), checked when Envoy builds a static listener's filters.

const thriftRouterSource = "source/extensions/filters/network/thrift_proxy/router/router_impl.cc"

func init() {
	register("envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy", thriftRouteSource)
	register("envoy.extensions.filters.network.thrift_proxy.v3.RouteConfiguration", thriftRoutes)
	register("envoy.extensions.filters.network.thrift_proxy.filters.header_to_metadata.v3.HeaderToMetadata.Rule", thriftHeaderRule)
	register("envoy.extensions.filters.network.thrift_proxy.filters.payload_to_metadata.v3.PayloadToMetadata.Rule", thriftPayloadRule)
}

// thriftRouteSource: routes come from one place, and are discovered only over aggregated gRPC.
// Envoy: source/extensions/filters/network/thrift_proxy/config.cc:106 [network-filters-6677dfce], :113
// [network-filters-3a415a17] — "both trds and route_config is present in ThriftProxy", "trds supports only
// aggregated api_type in api_config_source".
func thriftRouteSource(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*thriftv3.ThriftProxy)
	if !ok || p.GetTrds() == nil {
		return
	}
	const src = "source/extensions/filters/network/thrift_proxy/config.cc"
	switch {
	case p.GetRouteConfig() != nil:
		c.envoyf(c.at("route_config"), src, "both trds and route_config is present in ThriftProxy")
	case aggregatedOnly(p.GetTrds().GetConfigSource()):
		c.envoyf(c.at("trds.config_source.api_config_source.api_type"), src, "trds supports only aggregated api_type in api_config_source")
	}
}

// thriftRateLimitActions are the rate limit actions the Thrift router understands.
var thriftRateLimitActions = map[protoreflect.Name]bool{
	"source_cluster": true, "destination_cluster": true, "request_headers": true, "remote_address": true,
	"generic_key": true, "header_value_match": true,
}

// thriftRoutes: an inverted match needs a method or service name; the router knows some rate limit actions only;
// and weighted clusters must exist when the table validates its clusters (as static tables do unless told not to;
// the route's own cluster and mirror policies are the cross-reference layer's).
// Envoy: router_impl.cc:148 [network-filters-151d9851], :172 [network-filters-41e220e5], :68
// [network-filters-294e00b7] — "Cannot have an empty method name with inversion enabled", "Cannot have an empty
// service name with inversion enabled", "route: unknown thrift weighted cluster '<c>'"; router_ratelimit_impl.cc:119
// [network-filters-b419606b] — "unsupported RateLimit Action <n>".
func thriftRoutes(c *Context, m protoreflect.Message) {
	rc, ok := m.Interface().(*thriftv3.RouteConfiguration)
	if !ok {
		return
	}
	validate := rc.GetValidateClusters() == nil || rc.GetValidateClusters().GetValue()
	for i, r := range rc.GetRoutes() {
		p := func(leaf string) string { return index(c.at("routes"), i) + leaf }
		match := r.GetMatch()
		switch spec := match.GetMatchSpecifier().(type) {
		case *thriftv3.RouteMatch_MethodName:
			if spec.MethodName == "" && match.GetInvert() {
				c.envoyf(p(".match.invert"), thriftRouterSource, "Cannot have an empty method name with inversion enabled")
			}
		case *thriftv3.RouteMatch_ServiceName:
			if spec.ServiceName == "" && match.GetInvert() {
				c.envoyf(p(".match.invert"), thriftRouterSource, "Cannot have an empty service name with inversion enabled")
			}
		}
		for j, rl := range r.GetRoute().GetRateLimits() {
			c.thriftRateLimit(func() string { return index(p(".route.rate_limits"), j) }, rl)
		}
		if !validate { // static listeners are built before CDS starts, so CDS clusters do not count (router_impl.cc:55)
			continue
		}
		for j, w := range r.GetRoute().GetWeightedClusters().GetClusters() {
			if c.staticCluster(w.GetName()) == nil {
				c.envoyf(index(p(".route.weighted_clusters.clusters"), j)+".name", thriftRouterSource,
					"route: unknown thrift weighted cluster '%s' (not in static_resources.clusters; set validate_clusters: false "+
						"for clusters that CDS provides)", w.GetName())
			}
		}
	}
}

func (c *Context) thriftRateLimit(path func() string, rl *routev3.RateLimit) {
	for k, a := range rl.GetActions() {
		am := a.ProtoReflect()
		od := am.Descriptor().Oneofs().ByName("action_specifier")
		if od == nil {
			return
		}
		if fd := am.WhichOneof(od); fd != nil && !thriftRateLimitActions[fd.Name()] {
			c.envoyf(index(path()+".actions", k), "source/extensions/filters/network/thrift_proxy/router/router_ratelimit_impl.cc",
				"unsupported RateLimit Action %d (%s; the Thrift router takes %s)", fd.Number(), fd.Name(), thriftActionNames)
		}
	}
}

const thriftActionNames = "source_cluster, destination_cluster, request_headers, remote_address, generic_key and header_value_match"

// thriftHeaderRule: a header-to-metadata rule does something when the header is present or missing, and what it
// writes when missing is not empty.
// Envoy: source/extensions/filters/network/thrift_proxy/filters/header_to_metadata/header_to_metadata_filter.cc:38
// [network-filters-21daa1fa], :42 [network-filters-d99dd4a1] — "header to metadata filter: rule for header '<h>' has
// neither `on_present` nor `on_missing` set", "Cannot specify on_missing rule with empty value".
func thriftHeaderRule(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*thrifth2mv3.HeaderToMetadata_Rule)
	if !ok {
		return
	}
	const src = "source/extensions/filters/network/thrift_proxy/filters/header_to_metadata/header_to_metadata_filter.cc"
	switch {
	case r.GetOnPresent() == nil && r.GetOnMissing() == nil:
		c.envoyf(c.Path(), src, "header to metadata filter: rule for header '%s' has neither `on_present` nor `on_missing` set",
			strings.ToLower(r.GetHeader()))
	case r.GetOnMissing() != nil && r.GetOnMissing().GetValue() == "":
		c.envoyf(c.at("on_missing.value"), src, "Cannot specify on_missing rule with empty value")
	}
}

// thriftPayloadRule: the same for payload-to-metadata rules.
// Envoy: source/extensions/filters/network/thrift_proxy/filters/payload_to_metadata/payload_to_metadata_filter.cc:37
// [network-filters-680b7362], :41 [network-filters-2999ff0b] — "payload to metadata filter: neither `on_present`
// nor `on_missing` set", "payload to metadata filter: cannot specify on_missing rule without non-empty value".
func thriftPayloadRule(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*thriftp2mv3.PayloadToMetadata_Rule)
	if !ok {
		return
	}
	const src = "source/extensions/filters/network/thrift_proxy/filters/payload_to_metadata/payload_to_metadata_filter.cc"
	switch {
	case r.GetOnPresent() == nil && r.GetOnMissing() == nil:
		c.envoyf(c.Path(), src, "payload to metadata filter: neither `on_present` nor `on_missing` set")
	case r.GetOnMissing() != nil && r.GetOnMissing().GetValue() == "":
		c.envoyf(c.at("on_missing.value"), src, "payload to metadata filter: cannot specify on_missing rule without non-empty value")
	}
}
