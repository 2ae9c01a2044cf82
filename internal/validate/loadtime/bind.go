package loadtime

import (
	"net/netip"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Upstream bind configs and the default local address selector
// (source/common/upstream/default_local_address_selector_factory.cc), which every cluster creates from its own
// upstream_bind_config or, without one, from the cluster manager's.

func init() {
	register("envoy.config.core.v3.BindConfig", bindConfigSelector)
}

// bindConfigSelector: the default selector picks one address per IP version, so a bind config has a source address
// and at most one extra (or additional) address, of the other version. A selector extension decides for itself.
// The cluster manager's bind config is only used by the clusters without their own.
// Envoy: source/common/upstream/default_local_address_selector_factory.cc:24 [clusters-fdcb640f] (validate) — "<owner>'s
// upstream binding config has more than one extra/additional source addresses. Only one extra/additional source can
// be supported in BindConfig's extra_source_addresses/additional_source_addresses field"; :46 [clusters-d7f04da2] —
// "<owner>'s upstream binding config has two same IP version source addresses. Only two different IP version source
// addresses can be supported in BindConfig's source_address and extra_source_addresses/additional_source_addresses
// fields".
func bindConfigSelector(c *Context, m protoreflect.Message) {
	bc, ok := m.Interface().(*corev3.BindConfig)
	if !ok || bc.GetLocalAddressSelector() != nil || bc.GetSourceAddress() == nil ||
		len(bc.GetExtraSourceAddresses()) > 0 && len(bc.GetAdditionalSourceAddresses()) > 0 {
		return // errors of their own, which Envoy reports first (bindConfigSources)
	}
	owner := "Bootstrap"
	if anc := c.Ancestor("envoy.config.cluster.v3.Cluster"); anc != nil {
		cl, _ := anc.Interface().(*clusterv3.Cluster)
		owner = "Cluster " + cl.GetName()
	} else if !c.bootstrapBindConfigUsed() {
		return
	}
	extra := make([]*corev3.SocketAddress, 0, 1)
	for _, e := range bc.GetExtraSourceAddresses() {
		extra = append(extra, e.GetAddress())
	}
	extra = append(extra, bc.GetAdditionalSourceAddresses()...)
	const src = "source/common/upstream/default_local_address_selector_factory.cc"
	switch {
	case len(extra) > 1:
		c.envoyf(c.Path(), src, "%s's upstream binding config has more than one extra/additional source addresses. Only one "+
			"extra/additional source can be supported in BindConfig's extra_source_addresses/additional_source_addresses field", owner)
	case len(extra) == 1:
		a, errA := netip.ParseAddr(bc.GetSourceAddress().GetAddress())
		b, errB := netip.ParseAddr(extra[0].GetAddress())
		if errA == nil && errB == nil && a.Is4() == b.Is4() {
			c.envoyf(c.Path(), src, "%s's upstream binding config has two same IP version source addresses. Only two different IP "+
				"version source addresses can be supported in BindConfig's source_address and "+
				"extra_source_addresses/additional_source_addresses fields", owner)
		}
	}
}

// bootstrapBindConfigUsed reports a static cluster without a bind config of its own, which uses the cluster
// manager's.
func (c *Context) bootstrapBindConfigUsed() bool {
	for _, cl := range c.bootstrap().GetStaticResources().GetClusters() {
		if cl.GetUpstreamBindConfig() == nil {
			return true
		}
	}
	return false
}
