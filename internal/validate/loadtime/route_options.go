package loadtime

import (
	"maps"
	"slices"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// More route rules (source/common/router/config_impl.cc, per_filter_config.cc, scoped_rds.cc, scoped_config_impl.cc
// and the route extensions): what Envoy checks when it builds a static route table.

func init() {
	register("envoy.config.route.v3.RouteAction.RequestMirrorPolicy", mirrorPolicyCluster)
	register("envoy.config.route.v3.InternalRedirectPolicy", internalRedirectHeaders)
	register("envoy.config.route.v3.Route", routeRewriteFormats, routeClusterSpecifierPlugin)
	register("envoy.config.route.v3.RouteConfiguration", clusterSpecifierPlugins, perFilterConfigs)
	for _, name := range []protoreflect.FullName{"envoy.config.route.v3.VirtualHost", "envoy.config.route.v3.Route",
		"envoy.config.route.v3.WeightedCluster.ClusterWeight"} {
		register(name, perFilterConfigs)
	}
	register("envoy.config.route.v3.VirtualHost", virtualHostMatchInputs)
	register("envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes", inlineScopedRoutes)
	register("envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor",
		scopeKeyExtractor)
}

// mirrorPolicyCluster: a mirror policy names its cluster or the header that holds it, not both.
// Envoy: source/common/router/config_impl.cc:327 [routes-7b41c15a], :333 [routes-0fa84ef9]
// (validateMirrorClusterSpecifier) — "Only one of cluster '<c>' or cluster_header '<h>' in request mirror policy
// can be specified", "Exactly one of cluster or cluster_header in request mirror policy need to be specified".
func mirrorPolicyCluster(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*routev3.RouteAction_RequestMirrorPolicy)
	if !ok {
		return
	}
	switch {
	case p.GetCluster() != "" && p.GetClusterHeader() != "":
		c.envoyf(c.at("cluster_header"), routeSource, "Only one of cluster '%s' or cluster_header '%s' in request mirror "+
			"policy can be specified", p.GetCluster(), p.GetClusterHeader())
	case p.GetCluster() == "" && p.GetClusterHeader() == "":
		c.envoyf(c.Path(), routeSource, "Exactly one of cluster or cluster_header in request mirror policy need to be specified")
	}
}

// internalRedirectHeaders: the response headers copied on an internal redirect cannot be pseudo-headers or host.
// Envoy: source/common/router/config_impl.cc:285 [routes-bf16c14e] (InternalRedirectPolicyImpl) — ":-prefixed
// headers or Hosts may not be specified here."
func internalRedirectHeaders(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*routev3.InternalRedirectPolicy)
	if !ok {
		return
	}
	for i, h := range p.GetResponseHeadersToCopy() {
		if !modifiableHeader(h) {
			c.envoyf(index(c.at("response_headers_to_copy"), i), routeSource, ":-prefixed headers or Hosts may not be specified here. (%q)", h)
		}
	}
}

// prefixedWalk reports through another Walk with a prefix before each message: the formatter's messages, which
// Envoy wraps in the caller's.
type prefixedWalk struct {
	Walk
	prefix string
}

func (p prefixedWalk) Report(path, message string) { p.Walk.Report(path, p.prefix+message) }

// formatStringAs checks a substitution format string and reports its problems after prefix.
func (c *Context) formatStringAs(prefix string, path func() string, format string) {
	sub := *c
	sub.Walk = prefixedWalk{c.Walk, prefix}
	sub.formatString(path, format, nil)
}

// routeRewriteFormats: path_rewrite and host_rewrite are substitution format strings.
// Envoy: source/common/router/config_impl.cc:750 [routes-f14952a5], :766 [routes-27aa43c6] — "Failed to create path
// rewrite formatter: <formatter's message>", "Failed to create host rewrite formatter: <formatter's message>".
func routeRewriteFormats(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*routev3.Route)
	if !ok || r.GetRoute() == nil {
		return
	}
	if f := r.GetRoute().GetPathRewrite(); f != "" {
		c.formatStringAs("Failed to create path rewrite formatter: ", func() string { return c.at("route.path_rewrite") }, f)
	}
	if f := r.GetRoute().GetHostRewrite(); f != "" {
		c.formatStringAs("Failed to create host rewrite formatter: ", func() string { return c.at("route.host_rewrite") }, f)
	}
}

// clusterSpecifierPlugins: a plugin's extension must be a cluster specifier plugin unless the plugin is optional
// (an extension type of another category is the category layer's to report; this rule reports messages that
// configure no extension).
// Envoy: source/common/router/config_impl.cc:168 [routes-2fc67d2c] (getClusterSpecifierPluginByTheProto) —
// "Didn't find a registered implementation for '<name>' with type URL: '<type>'".
func clusterSpecifierPlugins(c *Context, m protoreflect.Message) {
	rc, ok := m.Interface().(*routev3.RouteConfiguration)
	if !ok {
		return
	}
	for i, p := range rc.GetClusterSpecifierPlugins() {
		c.clusterSpecifierPluginType(func() string { return index(c.at("cluster_specifier_plugins"), i) }, p)
	}
}

func (c *Context) clusterSpecifierPluginType(path func() string, p *routev3.ClusterSpecifierPlugin) {
	ext := p.GetExtension()
	if p.GetIsOptional() || ext.GetTypedConfig() == nil {
		return
	}
	if typ := extensionType(ext.GetTypedConfig().ProtoReflect()); nonExtension(typ) {
		c.envoyf(path()+".extension.typed_config", routeSource, "Didn't find a registered implementation for '%s' with type "+
			"URL: '%s'", ext.GetName(), typ)
	}
}

// routeClusterSpecifierPlugin: a route's plugin is one the route table defines, or given inline.
// Envoy: source/common/router/config_impl.cc:2132 [routes-1ceae0a6] (CommonConfigImpl::clusterSpecifierPlugin) —
// "Unknown cluster specifier plugin name: <name> is used in the route".
func routeClusterSpecifierPlugin(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*routev3.Route)
	if !ok {
		return
	}
	if p := r.GetRoute().GetInlineClusterSpecifierPlugin(); p != nil {
		c.clusterSpecifierPluginType(func() string { return c.at("route.inline_cluster_specifier_plugin") }, p)
	}
	name := r.GetRoute().GetClusterSpecifierPlugin()
	if name == "" {
		return
	}
	anc := c.Ancestor("envoy.config.route.v3.RouteConfiguration")
	if anc == nil {
		return
	}
	rc, ok := anc.Interface().(*routev3.RouteConfiguration)
	if !ok {
		return
	}
	for _, p := range rc.GetClusterSpecifierPlugins() {
		if p.GetExtension().GetName() == name {
			return
		}
	}
	c.envoyf(c.at("route.cluster_specifier_plugin"), routeSource, "Unknown cluster specifier plugin name: %s is used in the "+
		"route (the route table's cluster_specifier_plugins define none of that name)", name)
}

// perRouteUnsupported are the HTTP filters whose factories build no per-route config (their
// createRouteSpecificFilterConfig is the default, which returns nothing), so that a route, virtual host or route
// table that configures them is refused. Filters that gain per-route configs in later releases are left out: those
// whose API has a per-route message in newer releases, and set_metadata (per-route since 1.39).
var perRouteUnsupported = staticSet[string]{
	"envoy.filters.http.adaptive_concurrency", "envoy.filters.http.admission_control",
	"envoy.filters.http.alternate_protocols_cache", "envoy.filters.http.cache", "envoy.filters.http.cache_v2",
	"envoy.filters.http.cdn_loop", "envoy.filters.http.connect_grpc_bridge", "envoy.filters.http.credential_injector",
	"envoy.filters.http.decompressor", "envoy.filters.http.gcp_authn", "envoy.filters.http.geoip",
	"envoy.filters.http.grpc_field_extraction", "envoy.filters.http.grpc_http1_bridge", "envoy.filters.http.grpc_stats",
	"envoy.filters.http.grpc_web", "envoy.filters.http.health_check", "envoy.filters.http.ip_tagging",
	"envoy.filters.http.mcp_router", "envoy.filters.http.original_src",
	"envoy.filters.http.proto_api_scrubber", "envoy.filters.http.proto_message_extraction", "envoy.filters.http.router",
	"envoy.filters.http.tap", "envoy.filters.http.wasm",
}

// perFilterConfigMessage holds the per-filter configs of route tables, virtual hosts, routes and weighted clusters.
type perFilterConfigMessage interface {
	GetTypedPerFilterConfig() map[string]*anypb.Any
}

// perFilterConfigs: each per-filter config is an HTTP filter's that takes per-route configs; the FilterConfig
// wrapper needs a config unless it disables the filter, and may mark the filter optional.
// Envoy: source/common/router/per_filter_config.cc:36 [routes-7952f631], :57 [routes-e7caa121], :93
// [routes-40cc6366] — "Didn't find a registered implementation for '<name>' with type URL: '<type>'", "The filter
// <name> doesn't support virtual host or route specific configurations", "Empty route/virtual host per filter
// configuration for <name> filter".
func perFilterConfigs(c *Context, m protoreflect.Message) {
	h, ok := m.Interface().(perFilterConfigMessage)
	if !ok || len(h.GetTypedPerFilterConfig()) == 0 {
		return
	}
	const src = "source/common/router/per_filter_config.cc"
	configs := h.GetTypedPerFilterConfig()
	for _, name := range slices.Sorted(maps.Keys(configs)) {
		a := configs[name]
		p := func() string { return c.at("typed_per_filter_config") + "[\"" + name + "\"]" }
		optional := false
		if typeName(a.GetTypeUrl()) == "envoy.config.route.v3.FilterConfig" {
			fc := &routev3.FilterConfig{}
			if proto.Unmarshal(a.GetValue(), fc) != nil || fc.GetDisabled() {
				continue
			}
			if fc.GetConfig() == nil {
				c.envoyf(p(), src, "Empty route/virtual host per filter configuration for %s filter", name)
				continue
			}
			if fc.GetConfig().GetTypeUrl() == "" {
				continue
			}
			a, optional = fc.GetConfig(), fc.GetIsOptional()
		}
		if optional {
			continue
		}
		typ, missing := typedNoFactory(a, "envoy.filters.http")
		switch {
		case missing:
			c.envoyf(p(), src, "Didn't find a registered implementation for '%s' with type URL: '%s' (not an HTTP filter's config)", name, typ)
		case perRouteUnsupported.has(extensionName(typ)):
			c.envoyf(p(), src, "The filter %s doesn't support virtual host or route specific configurations (%s has no per-route config)",
				name, extensionName(typ))
		}
	}
}

// Route table match inputs: a virtual host's match tree may read request headers, filter state and dynamic module
// inputs only.
const (
	requestHeaderInput = "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput"
	filterStateInput   = "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.FilterStateInput"
	dynamicModuleInput = "type.googleapis.com/envoy.extensions.matching.http.dynamic_modules.v3.HttpDynamicModuleMatchInput"
)

// virtualHostMatchInputs checks the inputs of a virtual host's match tree.
// Envoy: source/common/router/matcher_visitor.cc:34 [routes-1832c194] — "Route table can only match on request
// headers, saw <type URL>", which config_impl.cc:1786 [routes-ff655b3a] reports as "requirement violation while
// creating route match tree: <it>".
func virtualHostMatchInputs(c *Context, m protoreflect.Message) {
	vh, ok := m.Interface().(*routev3.VirtualHost)
	if !ok || vh.GetMatcher() == nil {
		return
	}
	matchInputs(func() string { return c.at("matcher") }, vh.GetMatcher(), func(path func() string, input *xdscorev3.TypedExtensionConfig) {
		url, ok := inputTypeURL(input, "envoy.matching.http.input")
		if ok && url != requestHeaderInput && url != filterStateInput && url != dynamicModuleInput {
			c.envoyf(path(), "source/common/router/matcher_visitor.cc", "requirement violation while creating route match "+
				"tree: Route table can only match on request headers, saw %s", url)
		}
	})
}

// inlineScopedRoutes: inline scopes carry their route table.
// Envoy: source/common/router/scoped_rds.cc:97 [routes-5905271c], :102 [routes-dc3608f6] (makeScopedRouteInfos) —
// "Fetching routes via RDS (route_configuration_name) is not supported with inline scoped routes.", "You must
// specify a route_configuration with inline scoped routes."
func inlineScopedRoutes(c *Context, m protoreflect.Message) {
	sr, ok := m.Interface().(*hcmv3.ScopedRoutes)
	if !ok {
		return
	}
	const src = "source/common/router/scoped_rds.cc"
	for i, s := range sr.GetScopedRouteConfigurationsList().GetScopedRouteConfigurations() {
		p := func() string { return index(c.at("scoped_route_configurations_list.scoped_route_configurations"), i) }
		switch {
		case s.GetRouteConfigurationName() != "":
			c.envoyf(p()+".route_configuration_name", src, "Fetching routes via RDS (route_configuration_name) is not supported "+
				"with inline scoped routes.")
		case s.GetRouteConfiguration() == nil:
			c.envoyf(p(), src, "You must specify a route_configuration with inline scoped routes.")
		}
	}
}

// scopeKeyExtractor: a header value extractor picks an element by index or by key, and an index past the first
// needs a separator.
// Envoy: source/common/router/scoped_config_impl.cc:32 [routes-d6707fea], :38 [routes-5acd9065] — "Index > 0 for
// empty string element separator.", "HeaderValueExtractor extract_type not set."
func scopeKeyExtractor(c *Context, m protoreflect.Message) {
	x, ok := m.Interface().(*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor)
	if !ok {
		return
	}
	const src = "source/common/router/scoped_config_impl.cc"
	switch x.GetExtractType().(type) {
	case nil:
		c.envoyf(c.Path(), src, "HeaderValueExtractor extract_type not set. (set index or element)")
	case *hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index:
		if x.GetIndex() != 0 && x.GetElementSeparator() == "" {
			c.envoyf(c.at("index"), src, "Index > 0 for empty string element separator.")
		}
	}
}
