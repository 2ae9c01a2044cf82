//go:build !appnet_lean

package loadtime

import (
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	upstreamrtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/bootstrap/reverse_tunnel/upstream_socket_interface/v3"
	dnsclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dns/v3"
	dfpclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	revconv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/reverse_connection/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.clusters.dns.v3.DnsCluster", dnsClusterType)
	register("envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig", dfpCluster)
	register("envoy.extensions.clusters.reverse_connection.v3.ReverseConnectionClusterConfig", reverseConnectionCluster)
}

// reverseTunnelTenantIsolation reports a bootstrap whose upstream reverse tunnel extension isolates tenants.
func reverseTunnelTenantIsolation(b *bootstrapv3.Bootstrap) bool {
	for _, ext := range b.GetBootstrapExtensions() {
		if extensionType(ext.GetTypedConfig().ProtoReflect()) != "envoy.extensions.bootstrap.reverse_tunnel.upstream_socket_interface.v3.UpstreamReverseConnectionSocketInterface" {
			continue
		}
		cfg := &upstreamrtv3.UpstreamReverseConnectionSocketInterface{}
		if ext.GetTypedConfig().UnmarshalTo(cfg) == nil && cfg.GetEnableTenantIsolation().GetValue() {
			return true
		}
	}
	return false
}

// dnsClusterType: the envoy.clusters.dns extension checks its endpoints like the LOGICAL_DNS and STRICT_DNS types
// (all_addresses_in_single_endpoint picks the logical one).
func dnsClusterType(c *Context, m protoreflect.Message) {
	dc, ok := m.Interface().(*dnsclusterv3.DnsCluster)
	if cl, path := c.clusterOf(); ok && cl != nil {
		c.dnsClusterEndpoints(path, cl, dc.GetAllAddressesInSingleEndpoint())
	}
}

// dfpCluster: the dynamic forward proxy cluster sets SNI and verifies the SAN from the host it resolves, unless
// told it may be insecure; its sub-clusters pick hosts with a policy of their own.
// Envoy: source/extensions/clusters/dynamic_forward_proxy/cluster.cc:601 [clusters-1200e9e3]
// (ClusterFactory::createClusterWithConfig) — "dynamic_forward_proxy cluster must have auto_sni and
// auto_san_validation true unless allow_insecure_cluster_options is set."; :609 [clusters-cd0e20fb] — "unsupported
// lb_policy 'CLUSTER_PROVIDED' in sub_cluster_config".
func dfpCluster(c *Context, m protoreflect.Message) {
	dfp, ok := m.Interface().(*dfpclusterv3.ClusterConfig)
	cl, path := c.clusterOf()
	if !ok || cl == nil {
		return
	}
	const src = "source/extensions/clusters/dynamic_forward_proxy/cluster.cc"
	if !dfp.GetAllowInsecureClusterOptions() {
		// The HttpProtocolOptions extension replaces the cluster's own upstream_http_protocol_options, whose
		// absence the factory fills with both set.
		opts, field := cl.GetUpstreamHttpProtocolOptions(), "upstream_http_protocol_options"
		if ext := c.httpOptions(cl); ext != nil {
			opts, field = ext.GetUpstreamHttpProtocolOptions(), "typed_extension_protocol_options"
		} else if opts == nil {
			field = ""
		}
		if field != "" && (!opts.GetAutoSni() || !opts.GetAutoSanValidation()) {
			c.envoyf(join(path(), field), src, "dynamic_forward_proxy cluster must have auto_sni and auto_san_validation true unless "+
				"allow_insecure_cluster_options is set.")
		}
	}
	if dfp.GetSubClustersConfig().GetLbPolicy() == clusterv3.Cluster_CLUSTER_PROVIDED {
		c.envoyf(c.at("sub_clusters_config.lb_policy"), src, "unsupported lb_policy 'CLUSTER_PROVIDED' in sub_cluster_config")
	}
}

// reverseConnectionCluster: a reverse connection cluster's hosts come from the reverse tunnels, and with tenant
// isolation (the upstream reverse tunnel bootstrap extension's enable_tenant_isolation) each needs a tenant ID.
// Envoy: source/extensions/clusters/reverse_connection/reverse_connection.cc:234 [clusters-d8c3fa59]
// (RevConClusterFactory::createClusterWithConfig) — "Reverse Conn clusters must have no load assignment
// configured"; :265 [clusters-720e2b4d] — "tenant_id_format must be configured for reverse connection cluster '<c>'
// when tenant isolation is enabled in the bootstrap configuration. ...".
func reverseConnectionCluster(c *Context, m protoreflect.Message) {
	rc, ok := m.Interface().(*revconv3.ReverseConnectionClusterConfig)
	cl, path := c.clusterOf()
	if !ok || cl == nil || cl.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
		return // the policy is reported by clusterProvidedLB, and Envoy stops there
	}
	const src = "source/extensions/clusters/reverse_connection/reverse_connection.cc"
	if cl.GetLoadAssignment() != nil {
		c.envoyf(join(path(), "load_assignment"), src, "Reverse Conn clusters must have no load assignment configured")
		return
	}
	if rc.GetTenantIdFormat() == "" && reverseTunnelTenantIsolation(c.bootstrap()) {
		c.envoyf(c.at("tenant_id_format"), src, "tenant_id_format must be configured for reverse connection cluster '%s' when "+
			"tenant isolation is enabled in the bootstrap configuration. Please configure tenant_id_format in the reverse "+
			"connection cluster configuration.", cl.GetName())
	}
}
