package loadtime

import (
	"math"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// xDS config source rules: source/common/config/utility.cc (checkApiConfigSourceNames, validateClusterName).

const xdsSource = "source/common/config/utility.cc"

func init() {
	register("envoy.config.core.v3.ApiConfigSource", apiConfigSourceNames, apiConfigSourceClusters, grpcApiConfigSource)
	register("envoy.config.core.v3.ConfigSource", configSourceSubscription)
	register("envoy.config.bootstrap.v3.Bootstrap", xdstpAuthorities)
	register("envoy.config.bootstrap.v3.Bootstrap.DynamicResources", collectionLocators)
}

func isGRPCSource(t corev3.ApiConfigSource_ApiType) bool {
	switch t {
	case corev3.ApiConfigSource_GRPC, corev3.ApiConfigSource_DELTA_GRPC,
		corev3.ApiConfigSource_AGGREGATED_GRPC, corev3.ApiConfigSource_AGGREGATED_DELTA_GRPC:
		return true
	}
	return false
}

// apiConfigSourceNames: a gRPC source names gRPC services (one, or two with xDS failover), a REST source one
// cluster.
// Envoy: source/common/config/utility.cc:90 [xds-afdd566c], :97 [xds-221793f2], :102 [xds-1dd10f93], :108
// [xds-dd444579], :113 [xds-950521f8] (checkApiConfigSourceNames) — "API configs must have either a gRPC service or
// a cluster name defined: <c>", "<t>::(AGGREGATED_)(DELTA_)GRPC must not have a cluster name specified: <c>",
// "... must have no more than <n> gRPC services specified: <c>", "<t>, if not a gRPC type, must not have a gRPC
// service specified: <c>", "<t> must have a singleton cluster name specified: <c>". The limit is 2 when the
// runtime key envoy.restart_features.xds_failover_support is true (it defaults to false).
func apiConfigSourceNames(c *Context, m protoreflect.Message) {
	src, ok := m.Interface().(*corev3.ApiConfigSource)
	if !ok {
		return
	}
	const tn = "envoy.config.core.v3.ApiConfigSource"
	clusters, services := len(src.GetClusterNames()), len(src.GetGrpcServices())
	switch {
	case clusters == 0 && services == 0:
		c.envoyf(c.Path(), xdsSource, "API configs must have either a gRPC service or a cluster name defined")
	case isGRPCSource(src.GetApiType()):
		if clusters > 0 {
			c.envoyf(c.at("cluster_names"), xdsSource, "%s::(AGGREGATED_)(DELTA_)GRPC must not have a cluster name specified", tn)
		}
		limit := 1
		if c.runtimeFlag("envoy.restart_features.xds_failover_support", false) {
			limit = 2
		}
		if services > limit {
			c.envoyf(c.at("grpc_services"), xdsSource, "%s::(AGGREGATED_)(DELTA_)GRPC must have no more than %d gRPC services specified", tn, limit)
		}
	case src.GetApiType() == corev3.ApiConfigSource_REST:
		if services > 0 {
			c.envoyf(c.at("grpc_services"), xdsSource, "%s, if not a gRPC type, must not have a gRPC service specified", tn)
		}
		if clusters != 1 {
			c.envoyf(c.at("cluster_names"), xdsSource, "%s must have a singleton cluster name specified", tn)
		}
	}
}

// apiConfigSourceClusters: the cluster an xDS source talks to is a static cluster that is not itself fed by EDS
// (unknown clusters are reported by the cross-reference check).
// Envoy: source/common/config/utility.cc:127 [xds-64ceceb5] — "envoy.config.core.v3.ApiConfigSource must have a statically defined
// non-EDS cluster: '<c>' does not exist, was added via api, or is an EDS cluster".
func apiConfigSourceClusters(c *Context, m protoreflect.Message) {
	src, ok := m.Interface().(*corev3.ApiConfigSource)
	if !ok {
		return
	}
	check := func(path func() string, name string) {
		if cl := c.staticCluster(name); cl != nil && cl.GetType() == clusterv3.Cluster_EDS && cl.GetClusterType() == nil {
			c.envoyf(path(), xdsSource, "envoy.config.core.v3.ApiConfigSource must have a statically defined non-EDS "+
				"cluster: '%s' does not exist, was added via api, or is an EDS cluster", name)
		}
	}
	for i, n := range src.GetClusterNames() {
		check(func() string { return index(c.at("cluster_names"), i) }, n)
	}
	for i, g := range src.GetGrpcServices() {
		if n := g.GetEnvoyGrpc().GetClusterName(); n != "" {
			check(func() string { return index(c.at("grpc_services"), i) + ".envoy_grpc.cluster_name" }, n)
		}
	}
}

// subscribedAtLoad reports whether Envoy subscribes to the config source being checked while it loads the
// bootstrap (SubscriptionFactoryImpl::subscriptionFromConfigSource): LDS and CDS without a collection locator,
// a static cluster's EDS, a static listener's RDS, extension configs (ECDS) and SDS secrets, RTDS layers. The
// bootstrap's xDS-TP config_sources are authorities, not subscriptions.
func (c *Context) subscribedAtLoad() bool {
	parent, field := c.Parent()
	if parent == nil {
		return false
	}
	switch parent.Descriptor().FullName() + "." + protoreflect.FullName(field) {
	case "envoy.config.bootstrap.v3.Bootstrap.DynamicResources.lds_config":
		return c.bootstrap().GetDynamicResources().GetLdsResourcesLocator() == ""
	case "envoy.config.bootstrap.v3.Bootstrap.DynamicResources.cds_config":
		return c.bootstrap().GetDynamicResources().GetCdsResourcesLocator() == ""
	case "envoy.config.cluster.v3.Cluster.EdsClusterConfig.eds_config",
		"envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig.sds_config",
		"envoy.config.bootstrap.v3.RuntimeLayer.RtdsLayer.rtds_config":
		return true
	case "envoy.extensions.filters.network.http_connection_manager.v3.Rds.config_source",
		"envoy.config.core.v3.ExtensionConfigSource.config_source":
		return c.Ancestor("envoy.config.listener.v3.Listener") != nil
	}
	return false
}

const subscriptionSource = "source/common/config/subscription_factory_impl.cc"

// configSourceSubscription: a config source Envoy subscribes to at load names a file, ADS, or an API config source
// of a non-aggregated type.
// Envoy: source/common/config/subscription_factory_impl.cc:75 [xds-c8d69240], :77 [xds-6f128095], :79 [xds-2448d7ae],
// :103 [xds-44660add] (subscriptionFromConfigSource) — "Unsupported config source AGGREGATED_GRPC", "... AGGREGATED_DELTA_GRPC",
// "REST_LEGACY no longer a supported ApiConfigSource...", "Missing config source specifier in
// envoy::config::core::v3::ConfigSource" (for self, which only a management server resolves).
func configSourceSubscription(c *Context, m protoreflect.Message) {
	cs, ok := m.Interface().(*corev3.ConfigSource)
	if !ok || !c.subscribedAtLoad() {
		return
	}
	if cs.GetSelf() != nil {
		c.envoyf(c.at("self"), subscriptionSource, "Missing config source specifier in envoy::config::core::v3::ConfigSource "+
			"(self is not a source Envoy can subscribe to here; use ads, api_config_source or path_config_source)")
		return
	}
	switch t := cs.GetApiConfigSource().GetApiType(); {
	case cs.GetApiConfigSource() == nil:
	case t == corev3.ApiConfigSource_AGGREGATED_GRPC || t == corev3.ApiConfigSource_AGGREGATED_DELTA_GRPC:
		c.envoyf(c.at("api_config_source.api_type"), subscriptionSource, "Unsupported config source %s (for ADS use ads: {} "+
			"and dynamic_resources.ads_config; a config source takes GRPC, DELTA_GRPC or REST)", t)
	case t == corev3.ApiConfigSource_DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE:
		c.envoyf(c.at("api_config_source.api_type"), subscriptionSource, "REST_LEGACY no longer a supported ApiConfigSource. "+
			"Please specify an explicit supported api_type (GRPC, DELTA_GRPC or REST)")
	case t == corev3.ApiConfigSource_REST && cs.GetApiConfigSource().GetRefreshDelay() == nil && len(cs.GetApiConfigSource().GetClusterNames()) == 1:
		// Envoy: source/extensions/config_subscription/rest/http_subscription_impl.cc:157 [xds-0e338a88]
		c.envoyf(c.at("api_config_source.refresh_delay"), "source/extensions/config_subscription/rest/http_subscription_impl.cc",
			"refresh_delay is required for REST API configuration sources")
	default:
		c.grpcStreamSettings(func() string { return c.at("api_config_source") }, cs.GetApiConfigSource())
	}
}

// grpcMuxSources are the API config sources Envoy opens a gRPC stream of its own for, at load: ADS and load
// reporting.
func grpcMuxSource(c *Context) bool {
	parent, field := c.Parent()
	if parent == nil {
		return false
	}
	switch parent.Descriptor().FullName() + "." + protoreflect.FullName(field) {
	case "envoy.config.bootstrap.v3.Bootstrap.DynamicResources.ads_config",
		"envoy.config.bootstrap.v3.ClusterManager.load_stats_config":
		return true
	}
	return false
}

// grpcApiConfigSource: ADS and load reporting are gRPC streams of a non-aggregated type (a REST source with its
// one cluster is reported by apiConfigSourceNames first).
// Envoy: source/common/config/utility.cc:261 [xds-47a726f2] (getGrpcConfigFromApiConfigSource) — "<t> type must be
// of non-aggregated gRPC".
func grpcApiConfigSource(c *Context, m protoreflect.Message) {
	src, ok := m.Interface().(*corev3.ApiConfigSource)
	if !ok || !grpcMuxSource(c) {
		return
	}
	if t := src.GetApiType(); t != corev3.ApiConfigSource_GRPC && t != corev3.ApiConfigSource_DELTA_GRPC &&
		(t != corev3.ApiConfigSource_REST || len(src.GetClusterNames()) == 1) {
		c.envoyf(c.at("api_type"), xdsSource, "envoy.config.core.v3.ApiConfigSource type must be of non-aggregated gRPC "+
			"(GRPC or DELTA_GRPC), not %s", t)
	}
	c.grpcStreamSettings(c.Path, src)
}

// grpcStreamSettings: an API config source Envoy opens at load speaks xDS v3, and a gRPC one takes a finite fill rate and a retry back-off whose
// ceiling is not below its base.
// Envoy: source/common/config/utility.cc:223 [xds-8cf6e290] (parseRateLimitSettings) — "The value of fill_rate in
// RateLimitSettings (<v>) must not be NaN nor Inf"; :363 [xds-d17676b2] (buildJitteredExponentialBackOffStrategy)
// — "max_interval must be greater than or equal to the base_interval".
func (c *Context) grpcStreamSettings(path func() string, src *corev3.ApiConfigSource) {
	// Envoy: source/common/config/utility.h:166 [xds-1e7a3f7c] (checkTransportVersion) — "V2 xDS transport protocol
	// version is deprecated in <source>. The v2 xDS major version has been removed and is no longer supported."
	if v := src.GetTransportApiVersion(); v != corev3.ApiVersion_AUTO && v != corev3.ApiVersion_V3 {
		c.envoyf(path()+".transport_api_version", "source/common/config/utility.h", "V2 xDS transport protocol version is "+
			"deprecated in this config source. The v2 xDS major version has been removed and is no longer supported (use V3).")
	}
	if !isGRPCSource(src.GetApiType()) {
		return
	}
	if f := src.GetRateLimitSettings().GetFillRate(); f != nil && math.IsInf(f.GetValue(), 0) {
		c.envoyf(path()+".rate_limit_settings.fill_rate", xdsSource,
			"The value of fill_rate in RateLimitSettings (%v) must not be NaN nor Inf", f.GetValue())
	}
	if gs := src.GetGrpcServices(); len(gs) > 0 {
		if b := gs[0].GetEnvoyGrpc().GetRetryPolicy().GetRetryBackOff(); b != nil && b.GetBaseInterval() != nil {
			if base, max, ok := backoffMillis(b, 0, 10); !ok {
				c.envoyf(path()+".grpc_services[0].envoy_grpc.retry_policy.retry_back_off.max_interval", xdsSource,
					"max_interval must be greater than or equal to the base_interval (%d ms < %d ms)", max, base)
			}
		}
	}
}

// xdstpAuthorities: each of the bootstrap's xDS-TP config sources (and its default one) is an aggregated gRPC
// API config source; the non-default ones name authorities, each once.
// Envoy: source/common/config/xds_manager_impl.cc:403 [xds-b0a1da7c], :408 [xds-9b585edf], :418 [xds-93a79b21],
// :430 [xds-e37fdb99] (XdsManagerImpl::createAuthority).
func xdstpAuthorities(c *Context, m protoreflect.Message) {
	b, ok := m.Interface().(*bootstrapv3.Bootstrap)
	if !ok {
		return
	}
	for i, cs := range b.GetConfigSources() {
		c.xdstpAuthority(func() string { return index("config_sources", i) }, cs, false)
	}
	if cs := b.GetDefaultConfigSource(); cs != nil {
		c.xdstpAuthority(func() string { return "default_config_source" }, cs, true)
	}
}

func (c *Context) xdstpAuthority(path func() string, cs *corev3.ConfigSource, isDefault bool) {
	const src = "source/common/config/xds_manager_impl.cc"
	if cs.GetApiConfigSource() == nil {
		c.envoyf(path(), src, "Only api_config_source type is currently supported for xdstp-based config sources.")
		return
	}
	if !isDefault && len(cs.GetAuthorities()) == 0 {
		c.envoyf(path()+".authorities", src, "xdstp-based non-default config source must have at least one authority.")
		return
	}
	seen := map[string]bool{}
	for i, a := range cs.GetAuthorities() {
		if seen[a.GetName()] {
			c.envoyf(index(path()+".authorities", i)+".name", src, "xdstp-based config source authority %s is configured more than once in an xdstp-based config source.", a.GetName())
			return
		}
		seen[a.GetName()] = true
	}
	if t := cs.GetApiConfigSource().GetApiType(); t != corev3.ApiConfigSource_AGGREGATED_GRPC && t != corev3.ApiConfigSource_AGGREGATED_DELTA_GRPC {
		c.envoyf(path()+".api_config_source.api_type", src, "xdstp-based config source authority only supports AGGREGATED_GRPC and AGGREGATED_DELTA_GRPC types.")
		return
	}
	c.grpcStreamSettings(func() string { return path() + ".api_config_source" }, cs.GetApiConfigSource())
}

// collectionLocators: LDS and CDS given as xDS-TP collections (lds_resources_locator, cds_resources_locator) name
// an xdstp: collection of listeners or clusters (or a file), fetched over ADS or a delta or aggregated gRPC source.
// Envoy: source/common/config/xds_resource.cc:116 [xds-381f6c20], :146 [xds-56fbe41e], :199 [xds-dd04f7d3]
// (decodeUrl); source/common/config/subscription_factory_impl.cc:197 [xds-31107bdd], :228 [xds-bb1a9393], :242
// [xds-cd98dfcd], :250 [xds-c42669e5] (collectionSubscriptionFromUrl).
func collectionLocators(c *Context, m protoreflect.Message) {
	d, ok := m.Interface().(*bootstrapv3.Bootstrap_DynamicResources)
	if !ok {
		return
	}
	if l := d.GetLdsResourcesLocator(); l != "" {
		c.collectionLocator("lds_resources_locator", "lds_config", l, "envoy.config.listener.v3.Listener", d.GetLdsConfig())
	}
	if l := d.GetCdsResourcesLocator(); l != "" {
		c.collectionLocator("cds_resources_locator", "cds_config", l, "envoy.config.cluster.v3.Cluster", d.GetCdsConfig())
	}
}

func (c *Context) collectionLocator(field, configField, locator, resourceType string, cs *corev3.ConfigSource) {
	const resSrc, subSrc = "source/common/config/xds_resource.cc", subscriptionSource
	at := c.at(field)
	path := locator
	if i := strings.Index(path, "://"); i >= 0 {
		path = path[i+3:]
	}
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[i:]
	} else {
		path = "/"
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		for _, part := range strings.Split(path[i+1:], ",") {
			if !strings.HasPrefix(part, "alt=") && !strings.HasPrefix(part, "entry=") {
				c.envoyf(at, resSrc, "Unknown fragment component %s (alt= or entry=)", part)
				return
			}
		}
		path = path[:i]
	}
	switch {
	case strings.HasPrefix(locator, "xdstp:"):
	case strings.HasPrefix(locator, "http:"):
		c.envoyf(at, subSrc, "Unsupported code path (an http: collection locator; use xdstp:)")
		return
	case strings.HasPrefix(locator, "file:"):
		return // the file must exist on the host
	default:
		c.envoyf(at, resSrc, "%s does not have a xdstp:, http: or file: scheme", locator)
		return
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	typ, _, _ := strings.Cut(path[1:], "/")
	switch {
	case typ == "":
		c.envoyf(at, resSrc, "Resource type missing from %s", path)
		return
	case typ != resourceType:
		c.envoyf(at, subSrc, "xdstp:// type does not match %s in %s", resourceType, locator)
		return
	}
	switch t := cs.GetApiConfigSource().GetApiType(); {
	case cs.GetAds() != nil:
	case cs.GetApiConfigSource() == nil:
		c.envoyf(c.at(configField), subSrc, "Missing or not supported config source specifier in "+
			"envoy::config::core::v3::ConfigSource for a collection. Only ADS and gRPC in delta-xDS mode are supported.")
	case t != corev3.ApiConfigSource_DELTA_GRPC && t != corev3.ApiConfigSource_AGGREGATED_GRPC && t != corev3.ApiConfigSource_AGGREGATED_DELTA_GRPC:
		c.envoyf(c.at(configField+".api_config_source.api_type"), subSrc, "Unknown xdstp:// transport API type %s "+
			"(a collection takes DELTA_GRPC, AGGREGATED_GRPC or AGGREGATED_DELTA_GRPC)", t)
	}
}

// backoffMillis returns a BackoffStrategy's base and ceiling in milliseconds, each defaulted as Envoy does
// (PROTOBUF_GET_MS_OR_DEFAULT: the base to defBase, the ceiling to factor times the base), and whether the
// ceiling is not below the base.
func backoffMillis(b *corev3.BackoffStrategy, defBase, factor uint64) (base, max uint64, ok bool) {
	base = defBase
	if d := b.GetBaseInterval(); d != nil {
		base = durationMillis(d)
	}
	max = base * factor
	if d := b.GetMaxInterval(); d != nil {
		max = durationMillis(d)
	}
	return base, max, max >= base
}
