package loadtime

import (
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Cluster types: the cluster factories (source/extensions/clusters/*) and the cluster manager's check that a
// cluster and its load balancer policy agree on who provides the load balancer
// (source/common/upstream/cluster_manager_impl.cc).

func init() {
	register("envoy.config.cluster.v3.Cluster", clusterFactory, clusterProvidedLB)
	register("envoy.extensions.clusters.redis.v3.RedisClusterConfig", redisClusterName)
}

// redisClusterName: the Redis cluster factory, found by its config type, also wants its own name.
// Envoy: source/extensions/clusters/redis/redis_cluster.cc:654 [clusters-bfb97e05]
// (RedisClusterFactory::createClusterWithConfig) — "Redis cluster can only created with redis cluster type."
func redisClusterName(c *Context, _ protoreflect.Message) {
	if cl, path := c.clusterOf(); cl != nil && cl.GetClusterType().GetName() != "envoy.clusters.redis" {
		c.envoyf(join(path(), "cluster_type.name"), "source/extensions/clusters/redis/redis_cluster.cc",
			"Redis cluster can only created with redis cluster type. (name it envoy.clusters.redis)")
	}
}

// Config types of the cluster extensions whose factory checks lb_policy itself, with the name it reports.
var ownLbPolicyCheck = staticTable[string, string]{
	{"envoy.extensions.clusters.dynamic_modules.v3.ClusterConfig", "envoy.clusters.dynamic_modules"},
	{"envoy.extensions.clusters.reverse_connection.v3.ReverseConnectionClusterConfig", "envoy.clusters.reverse_connection"},
}

// Config types of cluster extensions and whether the cluster provides its own load balancer (the factories return
// a thread-aware load balancer, or none). Redis provides one only with CLUSTER_PROVIDED, so it never disagrees.
var clusterTypeProvidesLB = staticTable[string, bool]{
	{"envoy.extensions.clusters.aggregate.v3.ClusterConfig", true},
	{"envoy.extensions.clusters.composite.v3.ClusterConfig", true},
	{"envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig", true},
	{"envoy.extensions.clusters.dynamic_modules.v3.ClusterConfig", true},
	{"envoy.extensions.clusters.reverse_connection.v3.ReverseConnectionClusterConfig", true},
	{"envoy.extensions.clusters.dns.v3.DnsCluster", false},
}

// The names cluster factories are registered under (REGISTER_FACTORY of each ClusterFactory in Envoy 1.35-1.40),
// which a cluster_type without a typed config is looked up by. The envoy.clusters.dns extension registers as
// envoy.cluster.dns.
var clusterFactoryNames = staticSet[string]{
	"envoy.cluster.static", "envoy.cluster.strict_dns", "envoy.cluster.logical_dns", "envoy.cluster.original_dst",
	"envoy.cluster.eds", "envoy.cluster.dns", "envoy.clusters.aggregate", "envoy.clusters.composite",
	"envoy.clusters.dynamic_forward_proxy", "envoy.clusters.redis", "envoy.clusters.reverse_connection",
	"envoy.clusters.dynamic_modules",
}

// clusterFactory: Envoy finds the factory of a cluster_type by its config type, or (with no config, or an
// untyped Struct) by its name.
// Envoy: source/common/upstream/cluster_factory_impl.cc:35 [clusters-edc01e1e] (ClusterFactoryImplBase::create) —
// "Didn't find a registered cluster factory implementation for type: '<t>'"; :64 [clusters-fc4c36bb] — "Didn't
// find a registered cluster factory implementation for name: '<n>'".
func clusterFactory(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok || cl.GetClusterType() == nil {
		return
	}
	const src = "source/common/upstream/cluster_factory_impl.cc"
	ct := cl.GetClusterType()
	if name := clusterFactoryName(cl); name == "" {
		typ := extensionType(ct.GetTypedConfig().ProtoReflect())
		if info, known := extensionOf(typ); known && !hasCategory(info.categories, "envoy.clusters") {
			c.envoyf(c.at("cluster_type.typed_config"), src, "Didn't find a registered cluster factory implementation for type: '%s' "+
				"(%s configures %s, not a cluster)", typ, typ, info.name)
		}
	} else if !clusterFactoryNames.has(name) && !extensionNames()[name] {
		c.envoyf(c.at("cluster_type.name"), src, "Didn't find a registered cluster factory implementation for name: '%s' "+
			"(give the extension's typed_config, or one of its names such as envoy.clusters.aggregate)", name)
	}
}

// clusterProvidedLB: a cluster that comes with its own load balancer (ORIGINAL_DST, aggregate, dynamic forward
// proxy...) needs the CLUSTER_PROVIDED policy, and only such a cluster may use it.
// Envoy: source/common/upstream/cluster_manager_impl.cc:897 [clusters-4f3baac9] (loadCluster) — "cluster manager:
// cluster provided LB specified but cluster '<c>' did not provide one. Check cluster documentation."; :903
// [clusters-8ef5fca2] — "cluster manager: cluster provided LB not specified but cluster '<c>' provided one. Check
// cluster documentation."; source/extensions/clusters/dynamic_modules/cluster.cc:724 [clusters-bb719db2] and
// source/extensions/clusters/reverse_connection/reverse_connection.cc:226 [clusters-20ac3fb6] (their factories) —
// "cluster: LB policy <p> is not valid for cluster type ..., Only 'CLUSTER_PROVIDED' is allowed".
func clusterProvidedLB(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*clusterv3.Cluster)
	if !ok {
		return
	}
	provides, known := false, true
	var ownCheck string
	if ct := cl.GetClusterType(); ct != nil {
		typ := extensionType(ct.GetTypedConfig().ProtoReflect())
		provides, known = clusterTypeProvidesLB.get(typ)
		ownCheck = ownLbPolicyCheck.value(typ)
	} else {
		provides = cl.GetType() == clusterv3.Cluster_ORIGINAL_DST // checked by clusterOriginalDst
		if provides {
			ownCheck = "ORIGINAL_DST"
		}
	}
	if !known {
		return
	}
	if ownCheck != "" && ownCheck != "ORIGINAL_DST" && cl.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
		src := "source/extensions/clusters/dynamic_modules/cluster.cc"
		if ownCheck == "envoy.clusters.reverse_connection" {
			src = "source/extensions/clusters/reverse_connection/reverse_connection.cc"
		}
		c.envoyf(c.at("lb_policy"), src, "cluster: LB policy %s is not valid for cluster type '%s'. Only 'CLUSTER_PROVIDED' is allowed.",
			cl.GetLbPolicy(), ownCheck)
		return
	}
	if ownCheck == "ORIGINAL_DST" && cl.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
		return
	}
	policyProvided, certain := clusterProvidedPolicy(cl)
	if !certain {
		return
	}
	const src = "source/common/upstream/cluster_manager_impl.cc"
	switch {
	case policyProvided && !provides:
		c.envoyf(c.lbPolicyPath(cl), src, "cluster manager: cluster provided LB specified but cluster '%s' did not provide one. "+
			"Check cluster documentation. (a %s cluster has no load balancer of its own: choose a policy such as ROUND_ROBIN)",
			cl.GetName(), clusterKind(cl))
	case !policyProvided && provides:
		c.envoyf(c.lbPolicyPath(cl), src, "cluster manager: cluster provided LB not specified but cluster '%s' provided one. "+
			"Check cluster documentation. (set lb_policy: CLUSTER_PROVIDED for a %s cluster)", cl.GetName(), clusterKind(cl))
	}
}

// clusterProvidedPolicy reports whether the load balancer policy Envoy picks for a cluster is the cluster-provided
// one; certain is false when the picked policy cannot be told.
func clusterProvidedPolicy(cl *clusterv3.Cluster) (provided, certain bool) {
	if cl.GetLoadBalancingPolicy() != nil || cl.GetLbPolicy() == clusterv3.Cluster_LOAD_BALANCING_POLICY_CONFIG {
		i, found := selectedPolicy(cl.GetLoadBalancingPolicy())
		if i < 0 || !found {
			return false, false
		}
		typ := extensionType(cl.GetLoadBalancingPolicy().GetPolicies()[i].GetTypedExtensionConfig().GetTypedConfig().ProtoReflect())
		return typ == "envoy.extensions.load_balancing_policies.cluster_provided.v3.ClusterProvided", true
	}
	if len(cl.GetLbSubsetConfig().GetSubsetSelectors()) > 0 {
		return false, cl.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED // that combination is an error of its own
	}
	return cl.GetLbPolicy() == clusterv3.Cluster_CLUSTER_PROVIDED, true
}

func (c *Context) lbPolicyPath(cl *clusterv3.Cluster) string {
	if cl.GetLoadBalancingPolicy() != nil {
		return c.at("load_balancing_policy")
	}
	return c.at("lb_policy")
}

// clusterKind names a cluster's type for a message.
func clusterKind(cl *clusterv3.Cluster) string {
	if ct := cl.GetClusterType(); ct != nil {
		if info, ok := extensionOf(extensionType(ct.GetTypedConfig().ProtoReflect())); ok {
			return info.name
		}
		return ct.GetName()
	}
	return cl.GetType().String()
}

// clusterOf returns the cluster whose cluster_type holds the payload being checked, and a function rendering the
// cluster's path (only needed for a problem).
func (c *Context) clusterOf() (*clusterv3.Cluster, func() string) {
	anc := c.Ancestor("envoy.config.cluster.v3.Cluster")
	if anc == nil {
		return nil, nil
	}
	cl, _ := anc.Interface().(*clusterv3.Cluster)
	return cl, func() string {
		path, _, _ := strings.Cut(c.Path(), ".cluster_type")
		return path
	}
}
