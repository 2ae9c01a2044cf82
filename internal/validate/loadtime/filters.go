package loadtime

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// Filter chain order: a terminal filter (the router, tcp_proxy, the HTTP connection manager...) ends its chain.
// Envoy: source/common/config/utility.cc (validateTerminalFilters) — "Error: terminal filter named <n> of type <t>
// must be the last filter in a <chain> filter chain.", "Error: non-terminal filter named <n> of type <t> is the last
// filter in a <chain> filter chain."

const terminalSource = "source/common/config/utility.cc"

// Only filters whose nature is certain are listed, by extension name: a filter missing from both sets (a contrib,
// Wasm or dynamic-module filter, whose terminal-ness is configurable) is never reported.
var (
	terminalFilters = staticSet[string]{
		"envoy.filters.http.router", "envoy.filters.http.upstream_codec",
		"envoy.filters.network.http_connection_manager", "envoy.filters.network.tcp_proxy",
		"envoy.filters.network.redis_proxy", "envoy.filters.network.thrift_proxy", "envoy.filters.network.dubbo_proxy",
		"envoy.filters.network.generic_proxy", "envoy.filters.network.echo", "envoy.filters.network.direct_response",
	}
	nonTerminalFilters = staticSet[string]{
		"envoy.filters.http.adaptive_concurrency", "envoy.filters.http.admission_control", "envoy.filters.http.api_key_auth",
		"envoy.filters.http.aws_request_signing", "envoy.filters.http.bandwidth_limit", "envoy.filters.http.basic_auth",
		"envoy.filters.http.buffer", "envoy.filters.http.cdn_loop", "envoy.filters.http.compressor", "envoy.filters.http.cors",
		"envoy.filters.http.credential_injector", "envoy.filters.http.csrf", "envoy.filters.http.custom_response",
		"envoy.filters.http.decompressor", "envoy.filters.http.ext_authz", "envoy.filters.http.ext_proc",
		"envoy.filters.http.fault", "envoy.filters.http.gcp_authn", "envoy.filters.http.grpc_http1_bridge",
		"envoy.filters.http.grpc_http1_reverse_bridge", "envoy.filters.http.grpc_json_transcoder",
		"envoy.filters.http.grpc_stats", "envoy.filters.http.grpc_web", "envoy.filters.http.header_mutation",
		"envoy.filters.http.header_to_metadata", "envoy.filters.http.health_check", "envoy.filters.http.ip_tagging",
		"envoy.filters.http.json_to_metadata", "envoy.filters.http.jwt_authn", "envoy.filters.http.local_ratelimit",
		"envoy.filters.http.lua", "envoy.filters.http.oauth2", "envoy.filters.http.on_demand", "envoy.filters.http.original_src",
		"envoy.filters.http.rate_limit_quota", "envoy.filters.http.ratelimit", "envoy.filters.http.rbac",
		"envoy.filters.http.set_metadata", "envoy.filters.http.stateful_session", "envoy.filters.http.tap",
		"envoy.filters.network.rbac", "envoy.filters.network.ext_authz", "envoy.filters.network.local_ratelimit",
		"envoy.filters.network.ratelimit", "envoy.filters.network.connection_limit", "envoy.filters.network.sni_cluster",
		"envoy.filters.network.sni_dynamic_forward_proxy", "envoy.filters.network.mongo_proxy",
		"envoy.filters.network.zookeeper_proxy", "envoy.filters.network.set_filter_state",
	}
)

func init() {
	register("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", hcmFilterOrder)
	register("envoy.extensions.filters.http.router.v3.Router", routerUpstreamFilterOrder)
	register("envoy.config.listener.v3.FilterChain", networkFilterOrder)
}

// filterType returns the extension name of a filter's config, or "" when it is not known for sure.
func filterType(a *anypb.Any) string {
	if a == nil {
		return ""
	}
	return extensionName(extensionType(a.ProtoReflect()))
}

// isHTTPFilterType reports a config type of an HTTP filter (downstream or upstream).
func isHTTPFilterType(a *anypb.Any) bool {
	if a == nil {
		return false
	}
	info, ok := extensionOf(extensionType(a.ProtoReflect()))
	return ok && (hasCategory(info.categories, "envoy.filters.http") || hasCategory(info.categories, "envoy.filters.http.upstream"))
}

// chainOrder checks one filter chain of n filters, the i-th named name(i) with config typed(i); extra is appended
// to the non-terminal message.
func (c *Context) chainOrder(path func() string, chain string, n int, filter func(i int) (string, *anypb.Any), extra string) {
	for i := range n {
		name, config := filter(i)
		t := filterType(config)
		last := i == n-1
		switch {
		case terminalFilters.has(t) && !last:
			c.envoyf(index(path(), i), terminalSource, "Error: terminal filter named %s of type %s must be the last filter "+
				"in a %s filter chain.", name, t, chain)
		case nonTerminalFilters.has(t) && last:
			c.envoyf(index(path(), i), terminalSource, "Error: non-terminal filter named %s of type %s is the last filter "+
				"in a %s filter chain.%s", name, t, chain, extra)
		}
	}
}

// httpChain checks a chain of HTTP filters.
func (c *Context) httpChain(path func() string, chain string, filters []*hcmv3.HttpFilter, extra string) {
	c.chainOrder(path, chain, len(filters), func(i int) (string, *anypb.Any) {
		f := filters[i]
		if f.GetIsOptional() && !isHTTPFilterType(f.GetTypedConfig()) {
			return f.GetName(), nil // skipped: Envoy finds no HTTP filter factory for it (filter_chain_helper.h:137)
		}
		return f.GetName(), f.GetTypedConfig()
	}, extra)
}

// hcmFilterOrder checks the HTTP filters and every upgrade's filters. An HCM without http_filters gets Envoy's
// default router.
func hcmFilterOrder(c *Context, m protoreflect.Message) {
	hcm, ok := m.Interface().(*hcmv3.HttpConnectionManager)
	if !ok {
		return
	}
	c.httpChain(func() string { return c.at("http_filters") }, "http", hcm.GetHttpFilters(), "")
	for i, u := range hcm.GetUpgradeConfigs() {
		c.httpChain(func() string { return index(c.at("upgrade_configs"), i) + ".filters" }, "http upgrade", u.GetFilters(), "")
	}
}

// routerUpstreamFilterOrder checks the router's upstream filters, which end with the upstream codec.
func routerUpstreamFilterOrder(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*routerv3.Router)
	if !ok {
		return
	}
	c.httpChain(func() string { return c.at("upstream_http_filters") }, "router upstream http", r.GetUpstreamHttpFilters(),
		" When upstream_http_filters are specified, they must explicitly end with an UpstreamCodec filter.")
}

// networkFilterOrder checks a listener filter chain's network filters (an empty list is accepted).
func networkFilterOrder(c *Context, m protoreflect.Message) {
	fc, ok := m.Interface().(*listenerv3.FilterChain)
	if !ok {
		return
	}
	filters := fc.GetFilters()
	c.chainOrder(func() string { return c.at("filters") }, "network", len(filters), func(i int) (string, *anypb.Any) {
		return filters[i].GetName(), filters[i].GetTypedConfig()
	}, "")
}
