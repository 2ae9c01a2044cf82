package loadtime

import (
	"math/big"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	maglevv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/maglev/v3"
	ringhashv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/ring_hash/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Load balancer rules: source/extensions/load_balancing_policies.

func init() {
	register("envoy.config.cluster.v3.Cluster", clusterMaglevTable, clusterRingSize)
	register("envoy.extensions.load_balancing_policies.maglev.v3.Maglev", maglevPolicyTable)
	register("envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash", ringHashPolicySize)
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

func maglevPolicyTable(c *Context, m protoreflect.Message) {
	if p, ok := m.Interface().(*maglevv3.Maglev); ok {
		c.maglevTable(c.at("table_size"), p.GetTableSize())
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

func ringHashPolicySize(c *Context, m protoreflect.Message) {
	if p, ok := m.Interface().(*ringhashv3.RingHash); ok {
		c.ringSize(c.Path(), p.GetMinimumRingSize(), p.GetMaximumRingSize())
	}
}
