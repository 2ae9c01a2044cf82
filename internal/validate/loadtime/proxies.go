//go:build !appnet_lean

package loadtime

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	dubbov3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/dubbo_proxy/v3"
	netextprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/ext_proc/v3"
	genericactionv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/generic_proxy/action/v3"
	genericv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/generic_proxy/v3"
	netgeoipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/geoip/v3"
	netrbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	redisv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/redis_proxy/v3"
	reversetunnelv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/reverse_tunnel/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	zookeeperv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/zookeeper_proxy/v3"
	dnsfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/dns_filter/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Network and UDP filter rules: what the filters' factories check when Envoy builds a static listener's filters
// (source/extensions/filters/network/*, source/extensions/filters/udp/*), and the network filters' protocol
// options on clusters. The Thrift proxy's are in thrift.go.

func init() {
	register("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", tcpTunneling)
	register("envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy", dubboRoutes)
	register("envoy.extensions.filters.network.ext_proc.v3.NetworkExternalProcessor", networkExtProc)
	register("envoy.extensions.filters.network.generic_proxy.v3.GenericProxy", genericProxyFilters)
	register("envoy.extensions.filters.network.generic_proxy.v3.RouteConfiguration", genericProxyHosts)
	register("envoy.extensions.filters.network.generic_proxy.action.v3.RouteAction", genericPerFilterConfig)
	register("envoy.extensions.filters.network.geoip.v3.Geoip", networkGeoipClientIP)
	register("envoy.extensions.filters.network.rbac.v3.RBAC", networkRBAC)
	register("envoy.extensions.filters.network.redis_proxy.v3.RedisProxy", redisPrefixRoutes)
	register("envoy.extensions.filters.network.reverse_tunnel.v3.ReverseTunnel", reverseTunnelFormats)
	register("envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy", zookeeperOpcodes)
	register("envoy.extensions.filters.udp.dns_filter.v3.DnsFilterConfig", dnsFilterTable)
}

// tcpTunneling: a tunnel's request ID extension must be one, and its host name is a format string.
// Envoy: source/common/tcp_proxy/tcp_proxy.cc:987 [network-filters-51325373] (TunnelingConfigHelperImpl) — "Failed
// to create request ID extension: <the factory's message>"; the host name goes through the substitution formatter.
func tcpTunneling(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*tcpproxyv3.TcpProxy)
	if !ok || p.GetTunnelingConfig() == nil {
		return
	}
	t := p.GetTunnelingConfig()
	if rid := t.GetRequestIdExtension().GetTypedConfig(); rid != nil {
		c.requestIDType(func() string { return c.at("tunneling_config.request_id_extension.typed_config") }, rid,
			"Failed to create request ID extension: ")
	}
	c.formatString(func() string { return c.at("tunneling_config.hostname") }, t.GetHostname(), nil)
}

// aggregatedOnly reports a config source whose API config source is not aggregated gRPC, which the Dubbo, Thrift
// and generic proxies' route discovery refuses.
func aggregatedOnly(cs *corev3.ConfigSource) bool {
	api := cs.GetApiConfigSource()
	return api != nil && api.GetApiType() != corev3.ApiConfigSource_AGGREGATED_GRPC &&
		api.GetApiType() != corev3.ApiConfigSource_AGGREGATED_DELTA_GRPC
}

// dubboRoutes: the Dubbo proxy takes its routes from one place, and discovers them only over aggregated gRPC.
// Envoy: source/extensions/filters/network/dubbo_proxy/config.cc:105 [network-filters-37be6b4e], :112
// [network-filters-ed5ebb3c], :119 [network-filters-4ad9dbb9] — "both drds and route_config is present in
// DubboProxy", "drds supports only aggregated api_type in api_config_source", "both mutiple_route_config and
// route_config is present in DubboProxy".
func dubboRoutes(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*dubbov3.DubboProxy)
	if !ok {
		return
	}
	const src = "source/extensions/filters/network/dubbo_proxy/config.cc"
	switch {
	case p.GetDrds() != nil && len(p.GetRouteConfig()) > 0:
		c.envoyf(c.at("route_config"), src, "both drds and route_config is present in DubboProxy")
	case p.GetDrds() != nil && aggregatedOnly(p.GetDrds().GetConfigSource()):
		c.envoyf(c.at("drds.config_source.api_config_source.api_type"), src, "drds supports only aggregated api_type in api_config_source")
	case p.GetMultipleRouteConfig() != nil && len(p.GetRouteConfig()) > 0:
		c.envoyf(c.at("route_config"), src, "both mutiple_route_config and route_config is present in DubboProxy")
	}
}

// networkExtProc: the network external processor needs its gRPC service and at least one direction.
// Envoy: source/extensions/filters/network/ext_proc/config.cc:23 [network-filters-70840c8c], :30
// [network-filters-bcc1ef29] — "A grpc_service must be configured", "both read and write paths are skipped, at least
// one must be enabled."
func networkExtProc(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*netextprocv3.NetworkExternalProcessor)
	if !ok {
		return
	}
	const src = "source/extensions/filters/network/ext_proc/config.cc"
	switch mode := p.GetProcessingMode(); {
	case p.GetGrpcService() == nil:
		c.envoyf(c.at("grpc_service"), src, "A grpc_service must be configured")
	case mode.GetProcessRead() == netextprocv3.ProcessingMode_SKIP && mode.GetProcessWrite() == netextprocv3.ProcessingMode_SKIP:
		c.envoyf(c.at("processing_mode"), src, "both read and write paths are skipped, at least one must be enabled.")
	}
}

// genericRouter is the generic proxy's one terminal filter.
const genericRouter = "envoy.extensions.filters.network.generic_proxy.router.v3.Router"

// genericProxyFilters: the generic proxy discovers routes only over aggregated gRPC, and its L7 filters end with
// the terminal one, the router (checked when every filter's kind is known).
// Envoy: source/extensions/filters/network/generic_proxy/config.cc:39 [network-filters-579cb077], :62
// [network-filters-d00cd95e], :87 [network-filters-321a10ae] — "genericrds supports only aggregated api_type in
// api_config_source", "Terminal filter: <name> must be the last generic L7 filter", "A terminal L7 filter is
// necessary for generic proxy".
func genericProxyFilters(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*genericv3.GenericProxy)
	if !ok {
		return
	}
	if aggregatedOnly(p.GetGenericRds().GetConfigSource()) {
		c.envoyf(c.at("generic_rds.config_source.api_config_source.api_type"), genericProxySource,
			"genericrds supports only aggregated api_type in api_config_source")
	}
	terminal, allKnown := -1, true
	for i, f := range p.GetFilters() {
		typ := extensionType(f.GetTypedConfig().ProtoReflect())
		if _, known := extensionOf(typ); !known {
			allKnown = false
		}
		if typ != genericRouter {
			continue
		}
		if terminal < 0 && i < len(p.GetFilters())-1 {
			c.envoyf(index(c.at("filters"), i), genericProxySource, "Terminal filter: %s must be the last generic L7 filter", f.GetName())
		}
		terminal = i
	}
	if terminal < 0 && allKnown {
		c.envoyf(c.at("filters"), genericProxySource, "A terminal L7 filter is necessary for generic proxy (end the filters with %s)", genericRouter)
	}
}

const genericProxySource = "source/extensions/filters/network/generic_proxy/config.cc"

// genericProxyHosts: each host of the generic proxy's route table selects one virtual host, compared as written.
// Envoy: source/extensions/filters/network/generic_proxy/route_impl.cc:119 [network-filters-fbd65c63], :128
// [network-filters-d3bd3a1d], :145 [network-filters-b938453b], :161 [network-filters-3baa2e61] (RouteMatcherImpl) —
// "Invalid empty host name in route <r>", "Only a single wildcard domain is permitted in route <r>", "Only unique
// values for host are permitted. Duplicate entry of domain <d> in route <r>", "'routes' cannot be specified at the
// same time as a catch-all ('*') virtual host in route <r>".
func genericProxyHosts(c *Context, m protoreflect.Message) {
	rc, ok := m.Interface().(*genericv3.RouteConfiguration)
	if !ok {
		return
	}
	const src = "source/extensions/filters/network/generic_proxy/route_impl.cc"
	seen := map[string]bool{}
	catchAll := false
	for i, vh := range rc.GetVirtualHosts() {
		for j, host := range vh.GetHosts() {
			p := func() string { return index(index(c.at("virtual_hosts"), i)+".hosts", j) }
			switch {
			case host == "":
				c.envoyf(p(), src, "Invalid empty host name in route %s", rc.GetName())
			case host == "*" && catchAll:
				c.envoyf(p(), src, "Only a single wildcard domain is permitted in route %s", rc.GetName())
			case host == "*":
				catchAll = true
			case seen[host]:
				c.envoyf(p(), src, "Only unique values for host are permitted. Duplicate entry of domain %s in route %s", host, rc.GetName())
			}
			seen[host] = true
		}
	}
	if rc.GetRoutes() != nil && catchAll {
		c.envoyf(c.at("routes"), src, "'routes' cannot be specified at the same time as a catch-all ('*') virtual host in route %s", rc.GetName())
	}
}

// genericPerFilterConfig: a generic proxy route's per-filter config is found by its type among the generic L7
// filters (by name too, when the runtime allows lookups by name).
// Envoy: source/extensions/filters/network/generic_proxy/route_impl.cc:33 [network-filters-95bb5d26] — "Didn't
// find a registered implementation for '<name>' with type URL: '<type>'".
func genericPerFilterConfig(c *Context, m protoreflect.Message) {
	a, ok := m.Interface().(*genericactionv3.RouteAction)
	if !ok || len(a.GetPerFilterConfig()) == 0 || !c.runtimeFlag("envoy.reloadable_features.no_extension_lookup_by_name", true) {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(a.GetPerFilterConfig())) {
		if typ, missing := typedNoFactory(a.GetPerFilterConfig()[name], "envoy.generic_proxy.filters"); missing {
			c.envoyf(c.at("per_filter_config")+"[\""+name+"\"]", "source/extensions/filters/network/generic_proxy/route_impl.cc",
				"Didn't find a registered implementation for '%s' with type URL: '%s' (not a generic proxy filter's config)", name, typ)
		}
	}
}

// networkGeoipClientIP: the client address to look up is a format string.
// Envoy: source/extensions/filters/network/geoip/config.cc:25 [network-filters-a2ba0806] — "Failed to parse
// client_ip: <formatter's message>".
func networkGeoipClientIP(c *Context, m protoreflect.Message) {
	if g, ok := m.Interface().(*netgeoipv3.Geoip); ok && g.GetClientIp() != "" {
		c.formatStringAs("Failed to parse client_ip: ", func() string { return c.at("client_ip") }, g.GetClientIp())
	}
}

// Inputs the network RBAC filter's match trees may read (rbac_filter.cc ActionValidationVisitor).
var networkRBACInputs = staticSet[string]{
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationIPInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourceIPInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourcePortInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DirectSourceIPInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.ServerNameInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.NetworkNamespaceInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.ssl.v3.UriSanInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.ssl.v3.DnsSanInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.ssl.v3.SubjectInput",
	"type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.FilterStateInput",
}

// networkRBAC: the network RBAC filter sees no HTTP headers, in its policies or its match trees.
// Envoy: source/extensions/filters/network/rbac/config.cc:20 [network-filters-6754aead] — "Found header(<h>) rule,
// not supported by RBAC network filter"; rbac_filter.cc:58 [network-filters-8d45a0a1] — "RBAC network filter
// cannot match '<type URL>'" (reported as "requirement violation while creating RBAC match tree: ...").
func networkRBAC(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*netrbacv3.RBAC)
	if !ok {
		return
	}
	c.rbacHeaderRules("rules", r.GetRules())
	c.rbacHeaderRules("shadow_rules", r.GetShadowRules())
	visit := func(path func() string, input *xdscorev3.TypedExtensionConfig) {
		if url, ok := inputTypeURL(input, "envoy.matching.http.input"); ok && !networkRBACInputs.has(url) {
			c.envoyf(path(), "source/extensions/filters/network/rbac/rbac_filter.cc", "requirement violation while creating "+
				"RBAC match tree: RBAC network filter cannot match '%s'", url)
		}
	}
	matchInputs(func() string { return c.at("matcher") }, r.GetMatcher(), visit)
	matchInputs(func() string { return c.at("shadow_matcher") }, r.GetShadowMatcher(), visit)
}

// rbacHeaderRules reports the header rules of an RBAC policy set held in field.
func (c *Context) rbacHeaderRules(field string, rules *rbacconfigv3.RBAC) {
	const src = "source/extensions/filters/network/rbac/config.cc"
	for _, name := range slices.Sorted(maps.Keys(rules.GetPolicies())) {
		p := func() string { return c.at(field) + ".policies[\"" + name + "\"]" }
		policy := rules.GetPolicies()[name]
		for i, perm := range policy.GetPermissions() {
			if h := permissionHeader(perm); h != "" {
				c.envoyf(index(p()+".permissions", i), src, "Found header(%s) rule,not supported by RBAC network filter", h)
			}
		}
		for i, pr := range policy.GetPrincipals() {
			if h := principalHeader(pr); h != "" {
				c.envoyf(index(p()+".principals", i), src, "Found header(%s) rule,not supported by RBAC network filter", h)
			}
		}
	}
}

// permissionHeader returns the name of a header rule in a permission (nested in and/or/not rules), or "".
func permissionHeader(p *rbacconfigv3.Permission) string {
	if h := p.GetHeader(); h != nil {
		return h.GetName()
	}
	for _, r := range append(p.GetAndRules().GetRules(), p.GetOrRules().GetRules()...) {
		if h := permissionHeader(r); h != "" {
			return h
		}
	}
	if p.GetNotRule() != nil {
		return permissionHeader(p.GetNotRule())
	}
	return ""
}

// principalHeader returns the name of a header rule in a principal (nested in and/or/not ids), or "".
func principalHeader(p *rbacconfigv3.Principal) string {
	if h := p.GetHeader(); h != nil {
		return h.GetName()
	}
	for _, r := range append(p.GetAndIds().GetIds(), p.GetOrIds().GetIds()...) {
		if h := principalHeader(r); h != "" {
			return h
		}
	}
	if p.GetNotId() != nil {
		return principalHeader(p.GetNotId())
	}
	return ""
}

// redisPrefixRoutes: the Redis proxy needs an upstream, and each prefix routes once (compared without case when
// the routes are case-insensitive).
// Envoy: source/extensions/filters/network/redis_proxy/config.cc:64 [network-filters-286b1ee7], router_impl.cc:91
// [network-filters-fed4f395] — "cannot configure a redis-proxy without any upstream", "prefix `<p>` already exists."
func redisPrefixRoutes(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*redisv3.RedisProxy)
	if !ok {
		return
	}
	pr := r.GetPrefixRoutes()
	if len(pr.GetRoutes()) == 0 && pr.GetCatchAllRoute() == nil {
		c.envoyf(c.at("prefix_routes"), "source/extensions/filters/network/redis_proxy/config.cc",
			"cannot configure a redis-proxy without any upstream (set prefix_routes.routes or catch_all_route)")
		return
	}
	seen := map[string]bool{}
	for i, route := range pr.GetRoutes() {
		key := route.GetPrefix()
		if pr.GetCaseInsensitive() {
			key = strings.ToLower(key)
		}
		if seen[key] {
			c.envoyf(index(c.at("prefix_routes.routes"), i)+".prefix", "source/extensions/filters/network/redis_proxy/router_impl.cc",
				"prefix `%s` already exists.", route.GetPrefix())
		}
		seen[key] = true
	}
}

// reverseTunnelFormats: the reverse tunnel's validation formats are format strings.
// Envoy: source/extensions/filters/network/reverse_tunnel/reverse_tunnel_filter.cc:84 [network-filters-509b32c4],
// :99 [network-filters-fc606155], :114 [network-filters-9716ff74] — "Failed to parse node_id_format: <msg>", "Failed
// to parse cluster_id_format: <msg>", "Failed to parse tenant_id_format: <msg>".
func reverseTunnelFormats(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*reversetunnelv3.ReverseTunnel)
	if !ok || r.GetValidation() == nil {
		return
	}
	v := r.GetValidation()
	for _, f := range []struct{ field, format string }{
		{"node_id_format", v.GetNodeIdFormat()}, {"cluster_id_format", v.GetClusterIdFormat()}, {"tenant_id_format", v.GetTenantIdFormat()},
	} {
		if f.format != "" {
			c.formatStringAs("Failed to parse "+f.field+": ", func() string { return c.at("validation." + f.field) }, f.format)
		}
	}
}

// zookeeperOpcodes: each opcode has one latency threshold.
// Envoy: source/extensions/filters/network/zookeeper_proxy/config.cc:47 [network-filters-4faad5d1] — "Duplicated
// opcode find in config: <n>".
func zookeeperOpcodes(c *Context, m protoreflect.Message) {
	z, ok := m.Interface().(*zookeeperv3.ZooKeeperProxy)
	if !ok {
		return
	}
	seen := map[zookeeperv3.LatencyThresholdOverride_Opcode]bool{}
	for i, o := range z.GetLatencyThresholdOverrides() {
		if seen[o.GetOpcode()] {
			c.envoyf(index(c.at("latency_threshold_overrides"), i)+".opcode", "source/extensions/filters/network/zookeeper_proxy/config.cc",
				"Duplicated opcode find in config: %d (%s)", o.GetOpcode(), o.GetOpcode())
		}
		seen[o.GetOpcode()] = true
	}
}

// dnsFilterTable: the addresses of an inline DNS table are IP literals.
// Envoy: source/extensions/filters/udp/dns_filter/dns_filter.cc:66 [network-filters-7b171c62] — "malformed IP
// address: <a>".
func dnsFilterTable(c *Context, m protoreflect.Message) {
	d, ok := m.Interface().(*dnsfilterv3.DnsFilterConfig)
	if !ok {
		return
	}
	for i, vd := range d.GetServerConfig().GetInlineDnsTable().GetVirtualDomains() {
		for j, a := range vd.GetEndpoint().GetAddressList().GetAddress() {
			if _, err := netip.ParseAddr(a); err != nil {
				c.envoyf(index(index(c.at("server_config.inline_dns_table.virtual_domains"), i)+".endpoint.address_list.address", j),
					"source/extensions/filters/udp/dns_filter/dns_filter.cc", "malformed IP address: %s", a)
			}
		}
	}
}
