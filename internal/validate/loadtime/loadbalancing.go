package loadtime

import (
	"math"
	"math/big"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Load balancer rules: source/extensions/load_balancing_policies.

func init() {
	register("envoy.config.cluster.v3.Cluster", clusterMaglevTable, clusterRingSize, clusterPolicies, clusterLegacySubset, clusterHashWeights)
}

const (
	maglevSource   = "source/extensions/load_balancing_policies/maglev/maglev_lb.cc"
	ringHashSource = "source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc"
	// Envoy's defaults for the ring size bounds.
	defaultMinRing = 1024
	defaultMaxRing = 8 * 1024 * 1024
)

// maglevTable: the Maglev lookup table size must be prime.
// Envoy: source/extensions/load_balancing_policies/maglev/maglev_lb.cc — "The table size of maglev must be prime
// number".
func (c *Context) maglevTable(path string, size *wrapperspb.UInt64Value) {
	if size != nil && !big.NewInt(0).SetUint64(size.GetValue()).ProbablyPrime(20) {
		c.envoyf(path, maglevSource, "The table size of maglev must be prime number (got %d)", size.GetValue())
	}
}

// clusterMaglevTable applies maglevTable to a MAGLEV cluster (other policies ignore maglev_lb_config).
func clusterMaglevTable(c *Context, m protoreflect.Message) {
	if cl, ok := m.Interface().(*clusterv3.Cluster); ok && cl.GetLbPolicy() == clusterv3.Cluster_MAGLEV && cl.GetLoadBalancingPolicy() == nil {
		c.maglevTable(c.at("maglev_lb_config.table_size"), cl.GetMaglevLbConfig().GetTableSize())
	}
}

// ringSize: the ring's lower bound may not exceed its upper bound (with Envoy's defaults for an unset one).
// Envoy: source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc — "ring hash: minimum_ring_size (<n>) >
// maximum_ring_size (<m>)".
func (c *Context) ringSize(path string, minSize, maxSize *wrapperspb.UInt64Value) {
	lo, hi := uint64(defaultMinRing), uint64(defaultMaxRing)
	if minSize != nil {
		lo = minSize.GetValue()
	}
	if maxSize != nil {
		hi = maxSize.GetValue()
	}
	if lo > hi {
		c.envoyf(path, ringHashSource, "ring hash: minimum_ring_size (%d) > maximum_ring_size (%d)", lo, hi)
	}
}

func clusterRingSize(c *Context, m protoreflect.Message) {
	if cl, ok := m.Interface().(*clusterv3.Cluster); ok && cl.GetLbPolicy() == clusterv3.Cluster_RING_HASH && cl.GetLoadBalancingPolicy() == nil {
		rh := cl.GetRingHashLbConfig()
		c.ringSize(c.at("ring_hash_lb_config"), rh.GetMinimumRingSize(), rh.GetMaximumRingSize())
	}
}

// selectedPolicy returns the index of the policy Envoy picks from a list: the first whose config type is a load
// balancer's (getAndCheckFactory, optional), or -1 when none is. A config type missing from the extension table
// may be one Envoy knows, so it stops the search with certain false.
func selectedPolicy(lbp *clusterv3.LoadBalancingPolicy) (i int, certain bool) {
	for i, p := range lbp.GetPolicies() {
		info, known := extensionOf(extensionType(p.GetTypedExtensionConfig().GetTypedConfig().ProtoReflect()))
		if !known {
			return i, false
		}
		if hasCategory(info.categories, "envoy.load_balancing_policies") {
			return i, true
		}
	}
	return -1, true
}

// policyNames lists the extension names of a policy list, for messages.
func policyNames(lbp *clusterv3.LoadBalancingPolicy) string {
	names := make([]string, 0, len(lbp.GetPolicies()))
	for _, p := range lbp.GetPolicies() {
		names = append(names, p.GetTypedExtensionConfig().GetName())
	}
	return strings.Join(names, ", ")
}

// noPolicy reports a policy list of which Envoy knows no load balancer, at path.
func (c *Context) noPolicy(path string, lbp *clusterv3.LoadBalancingPolicy, src, format string, args ...any) bool {
	if i, certain := selectedPolicy(lbp); i >= 0 || !certain {
		return false
	}
	c.envoyf(path, src, format+" (no policy has a load balancer's config type)", append(args, policyNames(lbp))...)
	return true
}

// clusterPolicies: a cluster's load_balancing_policy names a load balancer Envoy has.
// Envoy: source/common/upstream/upstream_impl.cc:1423 [clusters-0e3c67c0] (ClusterInfoImpl::configureLbPolicies) —
// "cluster: didn't find a registered load balancer factory implementation for cluster: '<c>' with names from
// [<names>]".
func clusterPolicies(c *Context, m protoreflect.Message) {
	if cl, ok := m.Interface().(*clusterv3.Cluster); ok && cl.GetLoadBalancingPolicy() != nil {
		c.noPolicy(c.at("load_balancing_policy"), cl.GetLoadBalancingPolicy(), "source/common/upstream/upstream_impl.cc",
			"cluster: didn't find a registered load balancer factory implementation for cluster: '%s' with names from [%s]", cl.GetName())
	}
}

// clusterLegacySubset: the legacy subset load balancer wraps the lb_policy's load balancer, which the cluster
// cannot provide.
// Envoy: source/extensions/load_balancing_policies/subset/config.cc:92 [clusters-df11adda] (SubsetLbFactory::loadLegacy)
// — "cluster: LB policy <p> cannot be combined with lb_subset_config".
func clusterLegacySubset(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || cl.GetLoadBalancingPolicy() != nil || cl.GetLbPolicy() == clusterv3.Cluster_LOAD_BALANCING_POLICY_CONFIG ||
		len(cl.GetLbSubsetConfig().GetSubsetSelectors()) == 0 {
		return
	}
	if cl.GetLbPolicy() == clusterv3.Cluster_CLUSTER_PROVIDED {
		c.envoyf(c.at("lb_policy"), "source/extensions/load_balancing_policies/subset/config.cc",
			"cluster: LB policy CLUSTER_PROVIDED cannot be combined with lb_subset_config")
	}
	for i, s := range cl.GetLbSubsetConfig().GetSubsetSelectors() {
		c.subsetSelector(func() string { return index(c.at("lb_subset_config.subset_selectors"), i) }, s.GetKeys(), s.GetFallbackKeysSubset(),
			s.GetFallbackPolicy() == clusterv3.Cluster_LbSubsetConfig_LbSubsetSelector_KEYS_SUBSET)
	}
}

// subsetSelector: a selector's fallback keys (for KEYS_SUBSET only) are a strict subset of its keys. Selectors
// without keys are ignored.
// Envoy: source/extensions/load_balancing_policies/subset/subset_lb_config.cc:23, :32, :41, :47 [clusters-0866d694]
// [clusters-c495e482] [clusters-be3263f7] [clusters-63cbfa93] (SubsetSelector::SubsetSelector) — "fallback_keys_subset
// can be set only for KEYS_SUBSET fallback_policy", "fallback_keys_subset cannot be empty", "fallback_keys_subset
// must be a subset of selector keys", "fallback_keys_subset cannot be equal to keys".
func (c *Context) subsetSelector(path func() string, keys, fallback []string, keysSubset bool) {
	if len(keys) == 0 {
		return
	}
	const src = "source/extensions/load_balancing_policies/subset/subset_lb_config.cc"
	switch {
	case !keysSubset && len(fallback) > 0:
		c.envoyf(path()+".fallback_keys_subset", src, "fallback_keys_subset can be set only for KEYS_SUBSET fallback_policy")
	case !keysSubset:
	case len(fallback) == 0:
		c.envoyf(path()+".fallback_keys_subset", src, "fallback_keys_subset cannot be empty (with the KEYS_SUBSET fallback_policy)")
	default:
		keySet := make(map[string]bool, len(keys))
		for _, k := range keys {
			keySet[k] = true
		}
		fallbackSet := make(map[string]bool, len(fallback))
		for _, k := range fallback {
			if !keySet[k] {
				c.envoyf(path()+".fallback_keys_subset", src, "fallback_keys_subset must be a subset of selector keys ('%s' is not a key)", k)
				return
			}
			fallbackSet[k] = true
		}
		if len(fallbackSet) == len(keySet) {
			c.envoyf(path()+".fallback_keys_subset", src, "fallback_keys_subset cannot be equal to keys")
		}
	}
}

// clusterHashWeights: the ring hash and Maglev load balancers of a STATIC cluster add up the weights of each
// priority's hosts and localities, which must fit 32 bits.
// Envoy: source/extensions/load_balancing_policies/common/thread_aware_lb_impl.cc:388, :398 [clusters-a4acb45e]
// [clusters-82b5694d] (TypedHashLbConfigBase::validateEndpoints) — "The sum of weights of all upstream hosts in a
// locality exceeds 4294967295", "The sum of weights of all localities at the same priority exceeds 4294967295".
func clusterHashWeights(c *Context, m protoreflect.Message) {
	cl, ok := asCluster(m)
	if !ok || cl.GetType() != clusterv3.Cluster_STATIC || !usesHashLB(cl) {
		return
	}
	type locality struct{ region, zone, subZone string }
	type sums struct {
		hosts      uint64
		localities map[locality]uint64
	}
	byPriority := map[uint32]*sums{}
	const limit = math.MaxUint32
	const src = "source/extensions/load_balancing_policies/common/thread_aware_lb_impl.cc"
	for i, loc := range cl.GetLoadAssignment().GetEndpoints() {
		s := byPriority[loc.GetPriority()]
		if s == nil {
			s = &sums{localities: map[locality]uint64{}}
			byPriority[loc.GetPriority()] = s
		}
		if loc.GetLocality() != nil && loc.GetLoadBalancingWeight() != nil {
			l := loc.GetLocality()
			s.localities[locality{l.GetRegion(), l.GetZone(), l.GetSubZone()}] = uint64(loc.GetLoadBalancingWeight().GetValue())
			total := uint64(0)
			for _, w := range s.localities {
				total += w
			}
			if total > limit {
				c.envoyf(index(c.at("load_assignment.endpoints"), i)+".load_balancing_weight", src,
					"The sum of weights of all localities at the same priority exceeds %d", uint64(limit))
				return
			}
		}
		for _, ep := range loc.GetLbEndpoints() {
			w := uint64(1)
			if ep.GetLoadBalancingWeight() != nil {
				w = uint64(ep.GetLoadBalancingWeight().GetValue())
			}
			if s.hosts += w; s.hosts > limit {
				c.envoyf(index(c.at("load_assignment.endpoints"), i), src,
					"The sum of weights of all upstream hosts in a locality exceeds %d (priority %d)", uint64(limit), loc.GetPriority())
				return
			}
		}
	}
}

// usesHashLB reports a cluster whose load balancer is ring hash or Maglev.
func usesHashLB(cl *clusterv3.Cluster) bool {
	if lbp := cl.GetLoadBalancingPolicy(); lbp != nil || cl.GetLbPolicy() == clusterv3.Cluster_LOAD_BALANCING_POLICY_CONFIG {
		i, certain := selectedPolicy(lbp)
		if i < 0 || !certain {
			return false
		}
		switch extensionType(lbp.GetPolicies()[i].GetTypedExtensionConfig().GetTypedConfig().ProtoReflect()) {
		case "envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash", "envoy.extensions.load_balancing_policies.maglev.v3.Maglev":
			return true
		}
		return false
	}
	return cl.GetLbPolicy() == clusterv3.Cluster_RING_HASH || cl.GetLbPolicy() == clusterv3.Cluster_MAGLEV
}
