package validate

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// clusterRefFields lists, by message full name, the string fields that name a cluster. The walker visits every
// message (inside unpacked payloads too), so a reference is found wherever its message is used. TestClusterRef*
// keeps this list in step with go-control-plane: every entry must exist, and every field that looks like a cluster
// reference must be either here or in notClusterRefs (xref_test.go).
var clusterRefFields = map[protoreflect.FullName][]protoreflect.Name{
	// Core: xDS, gRPC services (ext_authz, ALS, metrics service, OTel...), HTTP URIs (jwt_authn, oauth2...).
	"envoy.config.core.v3.GrpcService.EnvoyGrpc": {"cluster_name"},
	"envoy.config.core.v3.ApiConfigSource":       {"cluster_names"},
	"envoy.config.core.v3.HttpUri":               {"cluster"},
	"envoy.config.bootstrap.v3.ClusterManager":   {"local_cluster_name"},
	// Stats sinks and tracers.
	"envoy.config.metrics.v3.StatsdSink":                                {"tcp_cluster_name"},
	"envoy.config.trace.v3.ZipkinConfig":                                {"collector_cluster"},
	"envoy.config.trace.v3.DatadogConfig":                               {"collector_cluster"},
	"envoy.config.trace.v3.LightstepConfig":                             {"collector_cluster"},
	"envoy.extensions.tracers.fluentd.v3.FluentdConfig":                 {"cluster"},
	"envoy.extensions.access_loggers.fluentd.v3.FluentdAccessLogConfig": {"cluster"},
	// HTTP routing.
	"envoy.config.route.v3.RouteAction":                                          {"cluster"},
	"envoy.config.route.v3.RouteAction.RequestMirrorPolicy":                      {"cluster"},
	"envoy.config.route.v3.WeightedCluster.ClusterWeight":                        {"name"},
	"envoy.extensions.router.cluster_specifiers.lua.v3.LuaConfig":                {"default_cluster"},
	"envoy.extensions.router.cluster_specifiers.matcher.v3.ClusterAction":        {"cluster"},
	"envoy.extensions.router.cluster_specifiers.priority_group.v3.ClusterWeight": {"cluster_name"},
	"envoy.extensions.filters.http.cache_v2.v3.CacheV2Config":                    {"override_upstream_cluster"},
	"envoy.extensions.filters.http.gcp_authn.v3.GcpAuthnFilterConfig":            {"cluster"},
	"envoy.extensions.filters.http.mcp_router.v3.McpRouter.McpCluster":           {"cluster"},
	// Other proxies.
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy":                                            {"cluster"},
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight":              {"name"},
	"envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig":                                          {"cluster"},
	"envoy.extensions.filters.udp.udp_proxy.v3.Route":                                                   {"cluster"},
	"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route":                     {"cluster"},
	"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route.RequestMirrorPolicy": {"cluster"},
	"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route.ReadCommandPolicy":   {"cluster"},
	"envoy.extensions.filters.network.thrift_proxy.v3.RouteAction":                                      {"cluster"},
	"envoy.extensions.filters.network.thrift_proxy.v3.RouteAction.RequestMirrorPolicy":                  {"cluster"},
	"envoy.extensions.filters.network.dubbo_proxy.v3.RouteAction":                                       {"cluster"},
	"envoy.extensions.filters.network.generic_proxy.action.v3.RouteAction":                              {"cluster"},
	"envoy.data.dns.v3.DnsTable.DnsEndpoint":                                                            {"cluster_name"},
	"envoy.data.dns.v3.DnsTable.DnsServiceTarget":                                                       {"cluster_name"},
}

// clusterRef is one use of a cluster name found while walking.
type clusterRef struct {
	path       string
	name       string
	inListener bool
}

// collectRefs records the cluster names m's reference fields hold.
func (c *checker) collectRefs(w *walker, m protoreflect.Message, fields []protoreflect.Name) {
	fds := m.Descriptor().Fields()
	for _, name := range fields {
		fd := fds.ByName(name)
		if fd == nil || !m.Has(fd) {
			continue
		}
		// References from listeners are resolved when a request arrives, so CDS may provide them; everything else
		// (xDS, sinks, tracers, cluster manager, other clusters) is resolved at start-up from static clusters.
		inListener := w.under("static_resources", "listeners")
		v := m.Get(fd)
		if !fd.IsList() {
			if s := v.String(); s != "" {
				c.refs = append(c.refs, clusterRef{path: w.pathTo(string(name)), name: s, inListener: inListener})
			}
			continue
		}
		for i, l := 0, v.List(); i < l.Len(); i++ {
			if s := l.Get(i).String(); s != "" {
				p := indexPath(w.pathTo(string(name)), i)
				c.refs = append(c.refs, clusterRef{path: p, name: s, inListener: inListener})
			}
		}
	}
}

// checkClusterRefs reports references to clusters that do not exist.
func (c *checker) checkClusterRefs() {
	if len(c.refs) == 0 {
		return
	}
	defined := map[string]bool{}
	for _, cl := range c.b.GetStaticResources().GetClusters() {
		defined[cl.GetName()] = true
	}
	for _, r := range c.refs {
		if defined[r.name] || (r.inListener && c.hasCDS) || c.unvalidated(r.path) {
			continue
		}
		msg := fmt.Sprintf("unknown cluster %q: not defined in static_resources.clusters", r.name)
		switch {
		case r.inListener:
			msg += " and there is no dynamic_resources.cds_config to provide it"
		case c.hasCDS:
			msg += " (it is needed at start-up, so a cluster from CDS does not count)"
		}
		c.probs = append(c.probs, Problem{Path: r.path, Message: msg})
	}
}

// messageRules maps a message full name to the checks run wherever such a message appears. Built once.
var messageRules = buildRules()

type messageRule func(c *checker, w *walker, m protoreflect.Message)

func buildRules() map[protoreflect.FullName]messageRule {
	rules := map[protoreflect.FullName]messageRule{
		"envoy.config.core.v3.ConfigSource":        (*checker).adsSource,
		awsIamName:                                 (*checker).awsIam,
		"envoy.config.route.v3.RouteConfiguration": (*checker).routeConfiguration,
	}
	for name, fields := range clusterRefFields {
		prev := rules[name]
		rules[name] = func(c *checker, w *walker, m protoreflect.Message) {
			if prev != nil {
				prev(c, w, m)
			}
			c.collectRefs(w, m, fields)
		}
	}
	return rules
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

// routeConfiguration notes route tables with validate_clusters: false, whose cluster names Envoy does not check.
func (c *checker) routeConfiguration(w *walker, m protoreflect.Message) {
	fd := m.Descriptor().Fields().ByName("validate_clusters")
	if fd == nil || !m.Has(fd) {
		return
	}
	if v := m.Get(fd).Message(); !v.Get(v.Descriptor().Fields().ByName("value")).Bool() {
		c.unchecked = append(c.unchecked, w.path()+".")
	}
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
