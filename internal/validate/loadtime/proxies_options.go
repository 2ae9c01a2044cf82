package loadtime

import (
	"maps"
	"slices"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.config.cluster.v3.Cluster", networkFilterProtocolOptions)
}

// networkFilterProtocolOptions: a cluster's typed_extension_protocol_options keyed by a network filter's name are
// that filter's protocol options, which only the Redis and Thrift proxies take. (sni_cluster, the one network
// filter not built on FactoryBase, fails in upstream_impl.cc with the same words.)
// Envoy: source/extensions/filters/network/common/factory_base.h:59 [network-filters-0cc091ec] — "filter <name>
// does not support protocol options".
func networkFilterProtocolOptions(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok {
		return
	}
	refused := func(name string) bool {
		return networkFilterNames()[name] && !protocolOptionsFilters.has(name) && name != "envoy.filters.network.sni_cluster"
	}
	found := false
	for name := range cl.GetTypedExtensionProtocolOptions() {
		found = found || refused(name)
	}
	if !found {
		return // the common case, without sorting the names
	}
	for _, name := range slices.Sorted(maps.Keys(cl.GetTypedExtensionProtocolOptions())) {
		if refused(name) {
			c.envoyf(c.at("typed_extension_protocol_options")+"[\""+name+"\"]", "source/extensions/filters/network/common/factory_base.h",
				"filter %s does not support protocol options (of the network filters, only redis_proxy and thrift_proxy take them)", name)
		}
	}
}

// networkFilterNames are the names of the network filters the extension table knows.
var networkFilterNames = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, info := range extensionsByType {
		if slices.Contains(info.categories, "envoy.filters.network") {
			names[info.name] = true
		}
	}
	return names
})

// protocolOptionsFilters are the network filters whose factories take protocol options on a cluster; every other
// filter built on Envoy's network FactoryBase refuses them.
var protocolOptionsFilters = staticSet[string]{"envoy.filters.network.redis_proxy", "envoy.filters.network.thrift_proxy"}
