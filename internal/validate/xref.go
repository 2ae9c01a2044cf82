package validate

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/appnet/appnet-agent/internal/validate/loadtime"
)

// refTiming says when Envoy looks a referenced cluster up, which decides whether an unknown one is an error.
type refTiming uint8

const (
	// atLoad: Envoy looks the cluster up while it loads the bootstrap and refuses to start without it (static
	// listeners are built before CDS starts, so CDS cannot provide it either).
	atLoad refTiming = iota
	// onUse: Envoy looks the cluster up only when traffic or a fetch needs it, so an unknown one fails that traffic
	// but the bootstrap loads: a warning (none when CDS may provide it).
	onUse
	// byPlace: atLoad or onUse depending on where the message sits (checker.timing).
	byPlace
)

type refField struct {
	name   protoreflect.Name
	timing refTiming
}

// clusterRefFields lists, by message full name, the string fields that name a cluster, with when Envoy (1.35-1.40)
// resolves them. The walker visits every message (inside unpacked payloads too), so a reference is found wherever
// its message is used. TestClusterRef* keeps this list in step with go-control-plane: every entry must exist, and
// every field that looks like a cluster reference must be either here or in notClusterRefs (xref_test.go). A
// reference is atLoad only with the Envoy source that fails the load; where that is not certain, it is onUse.
var clusterRefFields = map[protoreflect.FullName][]refField{
	// xDS subscriptions: Config::Utility::checkApiConfigSourceSubscriptionBackingCluster / validateClusterName
	// (source/common/config/utility.cc) — "must have a statically defined non-EDS cluster".
	"envoy.config.core.v3.ApiConfigSource": {{"cluster_names", atLoad}},
	// gRPC services: atLoad where the client is made with the cluster check (xDS, the metrics service sink),
	// onUse where it is made with skip_cluster_check or on first use (filters, access loggers, tracers).
	"envoy.config.core.v3.GrpcService.EnvoyGrpc": {{"cluster_name", byPlace}},
	// HTTP URIs (jwt_authn JWKS, oauth2, ext_authz over HTTP...): fetched when needed; the Zipkin collector
	// service's is checked at load (byPlace).
	"envoy.config.core.v3.HttpUri": {{"cluster", byPlace}},
	// ClusterManagerImpl (source/common/upstream/cluster_manager_impl.cc): "local cluster '{}' must be defined".
	"envoy.config.bootstrap.v3.ClusterManager": {{"local_cluster_name", atLoad}},
	// TcpStatsdSink (source/extensions/stat_sinks/common/statsd/statsd.cc): checkClusterAndLocalInfo.
	"envoy.config.metrics.v3.StatsdSink": {{"tcp_cluster_name", atLoad}},
	// Tracer drivers check the collector cluster when the tracer is made (zipkin_tracer_impl.cc,
	// datadog/tracer.cc: Config::Utility::checkCluster).
	"envoy.config.trace.v3.ZipkinConfig":    {{"collector_cluster", atLoad}},
	"envoy.config.trace.v3.DatadogConfig":   {{"collector_cluster", atLoad}},
	"envoy.config.trace.v3.LightstepConfig": {{"collector_cluster", atLoad}},
	// Fluentd opens its connection on first use.
	"envoy.extensions.tracers.fluentd.v3.FluentdConfig":                 {{"cluster", onUse}},
	"envoy.extensions.access_loggers.fluentd.v3.FluentdAccessLogConfig": {{"cluster", onUse}},
	// HTTP routing: RouteEntryImplBase::validateClusters and WeightedClusterSpecifierPlugin::validateClusters
	// (source/common/router/config_impl.cc, weighted_cluster_specifier.cc) check a route's cluster and weighted
	// clusters when a route table with validate_clusters (the default for an inline route_config) is built, and
	// RouteMatcher (config_impl.cc:115) its mirror policies ("route: unknown shadow cluster"); byPlace tells that
	// table from others. Cluster specifier plugins are not checked.
	"envoy.config.route.v3.RouteAction":                                          {{"cluster", byPlace}},
	"envoy.config.route.v3.WeightedCluster.ClusterWeight":                        {{"name", byPlace}},
	"envoy.config.route.v3.RouteAction.RequestMirrorPolicy":                      {{"cluster", byPlace}},
	"envoy.extensions.router.cluster_specifiers.lua.v3.LuaConfig":                {{"default_cluster", onUse}},
	"envoy.extensions.router.cluster_specifiers.matcher.v3.ClusterAction":        {{"cluster", onUse}},
	"envoy.extensions.router.cluster_specifiers.priority_group.v3.ClusterWeight": {{"cluster_name", onUse}},
	"envoy.extensions.filters.http.cache_v2.v3.CacheV2Config":                    {{"override_upstream_cluster", onUse}},
	"envoy.extensions.filters.http.gcp_authn.v3.GcpAuthnFilterConfig":            {{"cluster", onUse}},
	"envoy.extensions.filters.http.mcp_router.v3.McpRouter.McpCluster":           {{"cluster", onUse}},
	// Other proxies pick their cluster per connection, session or request.
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy":                                            {{"cluster", onUse}},
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight":              {{"name", onUse}},
	"envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig":                                          {{"cluster", onUse}},
	"envoy.extensions.filters.udp.udp_proxy.v3.Route":                                                   {{"cluster", onUse}},
	"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route":                     {{"cluster", onUse}},
	"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route.RequestMirrorPolicy": {{"cluster", onUse}},
	"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route.ReadCommandPolicy":   {{"cluster", onUse}},
	// Thrift's RouteMatcher (thrift_proxy/router/router_impl.cc:63, :222) checks route, weighted and mirror
	// clusters of a static route_config unless it says validate_clusters: false.
	"envoy.extensions.filters.network.thrift_proxy.v3.RouteAction":                     {{"cluster", byPlace}},
	"envoy.extensions.filters.network.thrift_proxy.v3.WeightedCluster.ClusterWeight":   {{"name", byPlace}},
	"envoy.extensions.filters.network.thrift_proxy.v3.RouteAction.RequestMirrorPolicy": {{"cluster", byPlace}},
	"envoy.extensions.filters.network.dubbo_proxy.v3.RouteAction":                      {{"cluster", onUse}},
	"envoy.extensions.filters.network.generic_proxy.action.v3.RouteAction":             {{"cluster", onUse}},
	"envoy.data.dns.v3.DnsTable.DnsEndpoint":                                           {{"cluster_name", onUse}},
	"envoy.data.dns.v3.DnsTable.DnsServiceTarget":                                      {{"cluster_name", onUse}},
}

// clusterRef is one use of a cluster name found while walking.
type clusterRef struct {
	path       string
	name       string
	inListener bool
	timing     refTiming // atLoad or onUse
}

// collectRefs records the cluster names m's reference fields hold.
func (c *checker) collectRefs(w *walker, m protoreflect.Message, fields []refField) {
	fds := m.Descriptor().Fields()
	for _, f := range fields {
		fd := fds.ByName(f.name)
		if fd == nil || !m.Has(fd) {
			continue
		}
		timing := f.timing
		if timing == byPlace {
			timing = c.timing(w, m)
		}
		// References from listeners are resolved when the listener is built, which CDS may precede; everything
		// else (xDS, sinks, tracers, cluster manager, other clusters) is resolved at start-up from static clusters.
		inListener := w.under("static_resources", "listeners")
		v := m.Get(fd)
		if !fd.IsList() {
			if s := v.String(); s != "" {
				c.refs = append(c.refs, clusterRef{path: w.pathTo(string(f.name)), name: s, inListener: inListener, timing: timing})
			}
			continue
		}
		for i, l := 0, v.List(); i < l.Len(); i++ {
			if s := l.Get(i).String(); s != "" {
				p := indexPath(w.pathTo(string(f.name)), i)
				c.refs = append(c.refs, clusterRef{path: p, name: s, inListener: inListener, timing: timing})
			}
		}
	}
}

// timing decides a byPlace reference by where its message sits.
func (c *checker) timing(w *walker, m protoreflect.Message) refTiming {
	switch m.Descriptor().FullName() {
	case "envoy.config.core.v3.GrpcService.EnvoyGrpc":
		// xDS: utility.cc checkApiConfigSourceSubscriptionBackingCluster; metrics service sink:
		// source/extensions/stat_sinks/metrics_service/config.cc getOrCreateRawAsyncClient(..., false), which
		// runs AsyncClientFactoryImpl's checkActiveStaticCluster (source/common/grpc/async_client_manager_impl.cc).
		if w.Ancestor("envoy.config.core.v3.ApiConfigSource") != nil ||
			w.Ancestor("envoy.config.metrics.v3.MetricsServiceConfig") != nil {
			return atLoad
		}
	case "envoy.config.core.v3.HttpUri":
		// Zipkin's collector_service: zipkin_tracer_impl.cc checks http_uri.cluster with checkCluster.
		if w.Ancestor("envoy.config.trace.v3.ZipkinConfig") != nil {
			return atLoad
		}
	default: // route clusters
		for _, table := range routeTables {
			if rc := w.Ancestor(table); rc != nil && c.validatesClusters(rc) {
				return atLoad
			}
		}
	}
	return onUse
}

// checkClusterRefs reports references to clusters that do not exist: an error where Envoy needs the cluster to
// load, a warning where it looks the cluster up only when traffic needs it.
func (c *checker) checkClusterRefs() {
	if len(c.refs) == 0 {
		return
	}
	defined := map[string]bool{}
	for _, cl := range c.b.GetStaticResources().GetClusters() {
		defined[cl.GetName()] = true
	}
	for _, r := range c.refs {
		if defined[r.name] {
			continue
		}
		msg := fmt.Sprintf("unknown cluster %q: not defined in static_resources.clusters", r.name)
		if r.timing == onUse {
			if !c.hasCDS {
				c.warns = append(c.warns, Problem{Path: r.path, Warning: true, Message: msg + " and there is no " +
					"dynamic_resources.cds_config to provide it; Envoy looks it up only when traffic needs it, so " +
					"it starts, but that traffic will fail"})
			}
			continue
		}
		if c.unvalidated(r.path) {
			continue
		}
		if why := loadtime.SurvivedAtStart(r.path); why != "" {
			c.warns = append(c.warns, Problem{Path: r.path, Warning: true, Message: msg + why})
			continue
		}
		// Static listeners are built before CDS starts (server/configuration_impl.cc:141-152 adds them right after the
		// cluster manager is made; server.cc:885 starts CDS later), so a cluster only CDS provides is unknown then too
		// — as Envoy's own comment in thrift_proxy/router/router_impl.cc:55 says of static route tables.
		switch {
		case r.inListener && c.hasCDS:
			msg += " (static listeners are built before CDS answers, so a cluster from CDS does not count; set " +
				"validate_clusters: false on a static route table whose clusters come from CDS)"
		case r.inListener:
			msg += " and there is no dynamic_resources.cds_config to provide it"
		case c.hasCDS:
			msg += " (it is needed at start-up, so a cluster from CDS does not count)"
		}
		c.probs = append(c.probs, Problem{Path: r.path, Message: msg})
	}
}

// messageChecks runs this package's checks of a message that apply wherever such a message appears, then collects
// the cluster names it references. (A switch, not a table of closures built at start-up: issue 19.)
func (c *checker) messageChecks(w *walker, m protoreflect.Message) {
	name := m.Descriptor().FullName()
	switch {
	case name == "envoy.config.core.v3.ConfigSource":
		c.adsSource(w, m)
	case name == awsIamName:
		c.awsIam(w, m)
	case slices.Contains(routeTables, name):
		c.routeConfiguration(w, m)
	}
	if fields := clusterRefFields[name]; fields != nil {
		c.collectRefs(w, m, fields)
	}
}

// adsSource: a config source that says "ads: {}" needs dynamic_resources.ads_config.
func (c *checker) adsSource(w *walker, m protoreflect.Message) {
	if c.hasADS {
		return
	}
	if fd := m.Descriptor().Fields().ByName("ads"); fd != nil && m.Has(fd) {
		w.report(w.pathTo("ads"), "config source uses ADS but dynamic_resources.ads_config is not set")
	}
}

// routeTables are the route tables that can validate their clusters: the HTTP connection manager's and the
// Thrift proxy's.
var routeTables = []protoreflect.FullName{
	"envoy.config.route.v3.RouteConfiguration",
	"envoy.extensions.filters.network.thrift_proxy.v3.RouteConfiguration",
}

// routeConfiguration notes which route tables Envoy validates the clusters of when it builds them: an inline
// route_config of an HTTP connection manager or a Thrift proxy, unless it says validate_clusters: false (the field's
// documented default for a statically defined table; config_impl.cc, thrift_proxy/router/config.h). Route tables
// anywhere else (scoped routes, other filters) are left to onUse.
func (c *checker) routeConfiguration(w *walker, m protoreflect.Message) {
	parent, field := w.Parent()
	if field != "route_config" || parent == nil {
		return
	}
	switch parent.Descriptor().FullName() {
	case "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
		"envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy":
	default:
		return
	}
	if fd := m.Descriptor().Fields().ByName("validate_clusters"); m.Has(fd) {
		if v := m.Get(fd).Message(); !v.Get(v.Descriptor().Fields().ByName("value")).Bool() {
			c.unchecked = append(c.unchecked, w.path()+".")
			return
		}
	}
	c.validated = append(c.validated, m.Interface())
}

// unvalidated reports a reference inside a route table that opted out of cluster validation.
func (c *checker) unvalidated(path string) bool {
	for _, prefix := range c.unchecked {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// validatesClusters reports a route table whose clusters Envoy validates when it builds it.
func (c *checker) validatesClusters(rc protoreflect.Message) bool {
	m := rc.Interface()
	for _, v := range c.validated {
		if v == m {
			return true
		}
	}
	return false
}
