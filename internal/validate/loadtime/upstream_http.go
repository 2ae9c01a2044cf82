package loadtime

import (
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Upstream protocol options: source/extensions/upstreams/http/config.cc (the HttpProtocolOptions extension and the
// cluster's legacy HTTP fields) and source/common/upstream/upstream_impl.cc (createProtocolOptionsConfig).

func init() {
	register("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", httpOptionsAlternateProtocols, httpOptionsHeaderSizes)
	register("envoy.config.cluster.v3.Cluster", clusterLegacyHeaderSizes, clusterProtocolOptionNames, clusterDropOverloadLimit,
		clusterUpstreamFilters)
}

const upstreamHTTPSource = "source/extensions/upstreams/http/config.cc"

// httpOptionsAlternateProtocols: HTTP/3 by auto_config learns where HTTP/3 is offered from the alternate
// protocols cache.
// Envoy: source/extensions/upstreams/http/config.cc:94 [clusters-400bda21] (getAlternateProtocolsCacheOptions) —
// "alternate protocols cache must be configured when HTTP/3 is enabled with auto_config".
func httpOptionsAlternateProtocols(c *Context, m protoreflect.Message) {
	o, ok := m.Interface().(*httpv3.HttpProtocolOptions)
	if ok && o.GetAutoConfig().GetHttp3ProtocolOptions() != nil && o.GetAutoConfig().GetAlternateProtocolsCacheOptions() == nil {
		c.envoyf(c.at("auto_config"), upstreamHTTPSource, "alternate protocols cache must be configured when HTTP/3 is enabled with "+
			"auto_config (set auto_config.alternate_protocols_cache_options)")
	}
}

// httpOptionsHeaderSizes and clusterLegacyHeaderSizes: one HTTP/2 header field cannot be larger than the whole
// response header limit (for the HttpProtocolOptions extension, and for the cluster's legacy fields when the
// extension is absent).
// Envoy: source/extensions/upstreams/http/config.cc:237, :275 [clusters-a42c5281] [clusters-bf0a8410]
// (ProtocolOptionsConfigImpl::createProtocolOptionsConfig) — "max_header_field_size_kb must not exceed
// max_response_headers_kb".
func httpOptionsHeaderSizes(c *Context, m protoreflect.Message) {
	o, ok := m.Interface().(*httpv3.HttpProtocolOptions)
	if !ok {
		return
	}
	field, h2 := "explicit_http_config.http2_protocol_options", o.GetExplicitHttpConfig().GetHttp2ProtocolOptions()
	switch {
	case o.GetUseDownstreamProtocolConfig() != nil:
		field, h2 = "use_downstream_protocol_config.http2_protocol_options", o.GetUseDownstreamProtocolConfig().GetHttp2ProtocolOptions()
	case o.GetAutoConfig() != nil:
		field, h2 = "auto_config.http2_protocol_options", o.GetAutoConfig().GetHttp2ProtocolOptions()
	}
	c.headerSizes(field, h2, o.GetCommonHttpProtocolOptions())
}

func clusterLegacyHeaderSizes(c *Context, m protoreflect.Message) {
	if cl, ok := m.Interface().(*clusterv3.Cluster); ok && cl.GetHttp2ProtocolOptions() != nil && c.httpOptions(cl) == nil {
		c.headerSizes("http2_protocol_options", cl.GetHttp2ProtocolOptions(), cl.GetCommonHttpProtocolOptions())
	}
}

func (c *Context) headerSizes(field string, h2 *corev3.Http2ProtocolOptions, common *corev3.HttpProtocolOptions) {
	if h2.GetMaxHeaderFieldSizeKb() != nil && common.GetMaxResponseHeadersKb() != nil &&
		h2.GetMaxHeaderFieldSizeKb().GetValue() > common.GetMaxResponseHeadersKb().GetValue() {
		c.envoyf(c.at(field+".max_header_field_size_kb"), upstreamHTTPSource, "max_header_field_size_kb must not exceed "+
			"max_response_headers_kb (%d > %d)", h2.GetMaxHeaderFieldSizeKb().GetValue(), common.GetMaxResponseHeadersKb().GetValue())
	}
}

// Protocol option factories by name: the HTTP and TCP upstream options (and their legacy names); network filters
// are found in the network filter registry first.
var protocolOptionNames = staticSet[string]{
	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "envoy.upstreams.http.http_protocol_options",
	"envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions", "envoy.upstreams.tcp.tcp_protocol_options",
}

// clusterProtocolOptionNames: typed_extension_protocol_options is keyed by the name of a network filter, an HTTP
// filter or a protocol options factory, which gives the options' type: HTTP filters take none.
// Envoy: source/common/upstream/upstream_impl.cc:105 [clusters-e4b651a5] (createProtocolOptionsConfig) — "Didn't
// find a registered network or http filter or protocol options implementation for name: '<n>'"; :114
// [clusters-51bdab32] — "filter <n> does not support protocol options".
func clusterProtocolOptionNames(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok {
		return
	}
	const src = "source/common/upstream/upstream_impl.cc"
	for name := range cl.GetTypedExtensionProtocolOptions() {
		at := func() string { return c.at("typed_extension_protocol_options") + "[" + strconv.Quote(name) + "]" }
		switch cats, known := extensionCategoriesByName()[name]; {
		case protocolOptionNames.has(name):
		case !known:
			c.envoyf(at(), src, "Didn't find a registered network or http filter or protocol options implementation for name: '%s' "+
				"(the key names the extension, e.g. envoy.extensions.upstreams.http.v3.HttpProtocolOptions)", name)
		case hasCategory(cats, "envoy.filters.http") && !hasCategory(cats, "envoy.filters.network"):
			c.envoyf(at(), src, "filter %s does not support protocol options (HTTP filters take none)", name)
		}
	}
}

// clusterUpstreamFilters: an upstream network filter is configured inline or discovered, not both.
// Envoy: source/common/upstream/upstream_impl.cc:1326 [clusters-72d85bad] (ClusterInfoImpl::ClusterInfoImpl) — "Only
// one of typed_config or config_discovery can be used".
func clusterUpstreamFilters(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok {
		return
	}
	for i, f := range cl.GetFilters() {
		if f.GetConfigDiscovery() != nil && f.GetTypedConfig() != nil {
			c.envoyf(index(c.at("filters"), i), "source/common/upstream/upstream_impl.cc", "Only one of typed_config or config_discovery can be used")
		}
	}
}

// clusterDropOverloadLimit: the runtime key load_balancing_policy.drop_overload_limit caps the drop ratio in
// percent; a cluster that drops traffic reads it.
// Envoy: source/common/upstream/upstream_impl.cc:1819 [clusters-f67bcdbd] (ClusterImplBase::parseDropOverloadConfig) —
// "load_balancing_policy.drop_overload_limit runtime key config <n> is invalid. The valid range is 0~100".
func clusterDropOverloadLimit(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || len(cl.GetLoadAssignment().GetPolicy().GetDropOverloads()) != 1 {
		return // none, or more than Envoy supports (loadAssignmentDropOverloads)
	}
	if n, set := c.runtimeInteger("load_balancing_policy.drop_overload_limit"); set && n > 100 {
		c.envoyf(c.at("load_assignment.policy.drop_overloads"), "source/common/upstream/upstream_impl.cc",
			"load_balancing_policy.drop_overload_limit runtime key config %d is invalid. The valid range is 0~100", n)
	}
}
