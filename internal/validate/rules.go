package validate

import (
	"fmt"
	"net/netip"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// checkBootstrap runs the checks that concern the bootstrap's own top-level structure.
func (c *checker) checkBootstrap() {
	c.checkNames()
	c.checkAddresses()
	c.checkNode()
	c.checkClusterEndpoints()
}

func (c *checker) report(path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// checkNames: cluster and listener names must be unique (Envoy refuses to start otherwise).
func (c *checker) checkNames() {
	sr := c.b.GetStaticResources()
	seen := map[string]int{}
	for i, cl := range sr.GetClusters() {
		if j, dup := seen[cl.GetName()]; dup && cl.GetName() != "" {
			c.report(indexPath("static_resources.clusters", i)+".name",
				"duplicate cluster name %q (also static_resources.clusters[%d])", cl.GetName(), j)
			continue
		}
		seen[cl.GetName()] = i
	}
	clear(seen)
	for i, l := range sr.GetListeners() {
		if j, dup := seen[l.GetName()]; dup && l.GetName() != "" {
			c.report(indexPath("static_resources.listeners", i)+".name",
				"duplicate listener name %q (also static_resources.listeners[%d])", l.GetName(), j)
			continue
		}
		seen[l.GetName()] = i
	}
}

// endpoint is a bound address, for clash detection.
type endpoint struct {
	path string
	udp  bool
	host string // IP text as written, or pipe path
	pipe bool
	port uint32
}

func boundEndpoint(path string, a *corev3.Address) (endpoint, bool) {
	if p := a.GetPipe(); p != nil {
		return endpoint{path: path + ".pipe.path", host: p.GetPath(), pipe: true}, p.GetPath() != ""
	}
	sa := a.GetSocketAddress()
	if sa == nil || sa.GetPortValue() == 0 {
		return endpoint{}, false // port 0 is ephemeral; named ports are not ours to resolve
	}
	return endpoint{
		path: path + ".socket_address.port_value",
		udp:  sa.GetProtocol() == corev3.SocketAddress_UDP,
		host: sa.GetAddress(),
		port: sa.GetPortValue(),
	}, true
}

// clashes reports whether two bound endpoints would fight over the same socket: same protocol and port, and the
// same address or a wildcard of the same family.
func clashes(a, b endpoint, wildcards bool) bool {
	if a.pipe || b.pipe {
		return a.pipe && b.pipe && a.host == b.host
	}
	if a.udp != b.udp || a.port != b.port {
		return false
	}
	if a.host == b.host {
		return true
	}
	ia, errA := netip.ParseAddr(a.host)
	ib, errB := netip.ParseAddr(b.host)
	if errA != nil || errB != nil {
		return false
	}
	if ia == ib {
		return true
	}
	return wildcards && ia.Is4() == ib.Is4() && (ia.IsUnspecified() || ib.IsUnspecified())
}

// checkAddresses: no listener on the admin address, and no two bound listeners on the same address.
func (c *checker) checkAddresses() {
	admin, hasAdmin := boundEndpoint("admin.address", c.b.GetAdmin().GetAddress())
	var bound []endpoint
	for i, l := range c.b.GetStaticResources().GetListeners() {
		lp := indexPath("static_resources.listeners", i)
		addrs := []*corev3.Address{l.GetAddress()}
		paths := []string{lp + ".address"}
		for j, extra := range l.GetAdditionalAddresses() {
			addrs = append(addrs, extra.GetAddress())
			paths = append(paths, indexPath(lp+".additional_addresses", j)+".address")
		}
		binds := l.GetBindToPort() == nil || l.GetBindToPort().GetValue()
		for k, a := range addrs {
			e, ok := boundEndpoint(paths[k], a)
			if !ok {
				continue
			}
			if hasAdmin && clashes(admin, e, true) {
				c.report(e.path, "listener %q uses the admin address (%s)", l.GetName(), admin.path)
			}
			if !binds {
				continue
			}
			for _, other := range bound {
				if clashes(other, e, false) {
					c.report(e.path, "listener %q binds the same address as %s", l.GetName(), other.path)
					break
				}
			}
			bound = append(bound, e)
		}
	}
}

// checkNode: Envoy needs node.id and node.cluster to talk xDS.
func (c *checker) checkNode() {
	dr := c.b.GetDynamicResources()
	if dr.GetAdsConfig() == nil && dr.GetCdsConfig() == nil && dr.GetLdsConfig() == nil {
		return
	}
	node := c.b.GetNode()
	if node == nil && !c.opts.RequireNode {
		return // may come from --service-node / --service-cluster
	}
	if node.GetId() == "" {
		c.report("node.id", "required when dynamic_resources are used")
	}
	if node.GetCluster() == "" {
		c.report("node.cluster", "required when dynamic_resources are used")
	}
}

// checkClusterEndpoints: a STATIC cluster's endpoints must be IP addresses (or pipes), and a LOGICAL_DNS cluster
// has exactly one endpoint.
func (c *checker) checkClusterEndpoints() {
	for i, cl := range c.b.GetStaticResources().GetClusters() {
		if cl.GetClusterType() != nil {
			continue
		}
		cp := indexPath("static_resources.clusters", i)
		la := cl.GetLoadAssignment()
		switch cl.GetType() {
		case clusterv3.Cluster_STATIC:
			for j, loc := range la.GetEndpoints() {
				for k, lb := range loc.GetLbEndpoints() {
					sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
					if sa == nil || sa.GetResolverName() != "" {
						continue
					}
					if _, err := netip.ParseAddr(sa.GetAddress()); err != nil {
						p := fmt.Sprintf("%s.load_assignment.endpoints[%d].lb_endpoints[%d].endpoint.address.socket_address.address", cp, j, k)
						c.report(p, "a STATIC cluster needs an IP address, not %q (use type STRICT_DNS or LOGICAL_DNS for host names)", sa.GetAddress())
					}
				}
			}
		case clusterv3.Cluster_LOGICAL_DNS:
			if la == nil {
				continue
			}
			locs := la.GetEndpoints()
			if len(locs) != 1 || len(locs[0].GetLbEndpoints()) != 1 {
				c.report(cp+".load_assignment",
					"a LOGICAL_DNS cluster needs exactly one locality with exactly one endpoint")
			}
		}
	}
}
