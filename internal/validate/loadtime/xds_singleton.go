//go:build !appnet_lean

package loadtime

import (
	"net/url"
	"strings"

	ratelimitfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/process_ratelimit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Singleton (xDS-TP) subscriptions of source/common/config/xds_manager_impl.cc (subscribeToSingletonResource). At
// load, only the process rate limit access log filter subscribes this way (EDS and RDS do behind
// envoy.reloadable_features.xdstp_based_config_singleton_subscriptions, which defaults to false). Its token buckets
// come from one provider, a singleton made with the config source of the first such filter Envoy builds, which
// every later filter shares (process_ratelimit/provider_singleton.cc, getRateLimiter).

func init() {
	register("envoy.extensions.access_loggers.filters.process_ratelimit.v3.ProcessRateLimitFilter", rateLimitSubscription)
}

// rateLimitSubscription: an xDS-TP token bucket whose authority the shared config source lists is not served yet
// (only the bootstrap's config_sources may serve xDS-TP authorities). Which filter Envoy builds first decides the
// shared config source, so the check is made only when every filter of the bootstrap has the same one.
// Envoy: source/common/config/xds_manager_impl.cc:332 [xds-6eab77c6] — "Dynamically using non-bootstrap defined
// xDS-TP config sources is not yet supported."
func rateLimitSubscription(c *Context, m protoreflect.Message) {
	f, ok := m.Interface().(*ratelimitfilterv3.ProcessRateLimitFilter)
	if !ok || f.GetDynamicConfig() == nil {
		return
	}
	if len(c.rateLimitFilters) == 0 {
		c.afterWalk(c.rateLimitSubscriptions)
	}
	c.rateLimitFilters = append(c.rateLimitFilters, rateLimitFilterUse{
		path: c.at("dynamic_config.resource_name"), name: f.GetDynamicConfig().GetResourceName(),
		source: f.GetDynamicConfig().GetConfigSource(),
	})
}

func (c *Context) rateLimitSubscriptions() {
	shared := c.rateLimitFilters[0].source
	for _, u := range c.rateLimitFilters[1:] {
		if !proto.Equal(u.source, shared) {
			return
		}
	}
	for _, u := range c.rateLimitFilters {
		authority, ok := xdstpAuthority(u.name)
		if !ok {
			continue
		}
		for _, a := range shared.GetAuthorities() {
			if a.GetName() == authority {
				c.envoyf(u.path, "source/common/config/xds_manager_impl.cc", "Dynamically using non-bootstrap defined xDS-TP "+
					"config sources is not yet supported. (the config source lists the resource's authority %q; serve it "+
					"from the bootstrap's config_sources, or name the resource without xdstp:)", authority)
				break
			}
		}
	}
}

// xdstpAuthority returns the authority of an xDS-TP resource name that Envoy's decodeUrn accepts
// (xdstp://<authority>/<type>/<id>, the authority percent-decoded); ok is false for any other name.
func xdstpAuthority(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "xdstp://")
	if !ok {
		return "", false
	}
	host, path, found := strings.Cut(rest, "/")
	if !found || strings.HasPrefix(path, "/") || path == "" || strings.HasPrefix(path, "?") {
		return "", false // no resource type: decodeUrn fails first
	}
	authority, err := url.PathUnescape(host)
	if err != nil {
		return "", false
	}
	return authority, true
}
