package validate

import (
	"fmt"
	"net/netip"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// checkBootstrap runs the checks that concern the bootstrap's own top-level structure.
func (c *checker) checkBootstrap() {
	c.checkNames()
	c.checkAddresses()
	if c.opts.RequireNode {
		c.probs = append(c.probs, nodeProblems(c.b)...)
	}
}

func (c *checker) report(path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// checkNames: cluster names must be unique (Envoy refuses to start otherwise).
// Envoy: source/common/upstream/cluster_manager_impl.cc:885 [clusters-6d23aa0f] — "cluster manager: duplicate
// cluster '<name>'".
func (c *checker) checkNames() {
	seen := map[string]int{}
	for i, cl := range c.b.GetStaticResources().GetClusters() {
		if j, dup := seen[cl.GetName()]; dup && cl.GetName() != "" {
			c.report(indexPath("static_resources.clusters", i)+".name",
				"duplicate cluster name %q (also static_resources.clusters[%d])", cl.GetName(), j)
			continue
		}
		seen[cl.GetName()] = i
	}
}

// duplicateListeners reports static listeners named like an earlier one. Envoy does not refuse them: it keeps the
// first and ignores the others without a word, because a static listener is locked against updates
// (source/common/listener_manager/listener_manager_impl.cc, addOrUpdateListener: "duplicate/locked listener"), so
// this is a warning.
func duplicateListeners(b *bootstrapv3.Bootstrap) Problems {
	var out Problems
	seen := map[string]int{}
	for i, l := range b.GetStaticResources().GetListeners() {
		if j, dup := seen[l.GetName()]; dup && l.GetName() != "" {
			out = append(out, Problem{Path: indexPath("static_resources.listeners", i) + ".name", Warning: true, Message: fmt.Sprintf(
				"listener name %q is also static_resources.listeners[%d]'s: Envoy keeps that one and ignores this one", l.GetName(), j)})
			continue
		}
		seen[l.GetName()] = i
	}
	return out
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
		if c.ignored[l] {
			continue // dropped unread: it binds nothing
		}
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

// nodeProblems: Envoy needs node.id and node.cluster to talk xDS; it takes them from the bootstrap or from
// --service-node/--service-cluster.
func nodeProblems(b *bootstrapv3.Bootstrap) Problems {
	dr := b.GetDynamicResources()
	if dr.GetAdsConfig() == nil && dr.GetCdsConfig() == nil && dr.GetLdsConfig() == nil {
		return nil
	}
	var out Problems
	if b.GetNode().GetId() == "" {
		out = append(out, Problem{Path: "node.id", Message: "required when dynamic_resources are used (Envoy: node 'id' " +
			"and 'cluster' are required. Set it either in 'node' config or via --service-node and --service-cluster options.)"})
	}
	if b.GetNode().GetCluster() == "" {
		out = append(out, Problem{Path: "node.cluster", Message: "required when dynamic_resources are used (Envoy: node 'id' " +
			"and 'cluster' are required. Set it either in 'node' config or via --service-node and --service-cluster options.)"})
	}
	return out
}

// Warnings lists what the validate command reports without failing: Inspect's warnings for a bootstrap given to
// validate (whose node Envoy may take from --service-node and --service-cluster).
func Warnings(b *bootstrapv3.Bootstrap) Problems {
	return Inspect(b, Options{}).Warnings()
}

// softProblems are warnings that do not come from the walk: a missing or partial node while xDS is used, which
// Envoy accepts when --service-node and --service-cluster supply the rest, and loadtime's advisories.
func softProblems(b *bootstrapv3.Bootstrap) Problems {
	ps := nodeProblems(b)
	for i := range ps {
		ps[i].Message = "not set while dynamic_resources are used: Envoy then needs --service-node and --service-cluster " +
			"(render and run require it in the bootstrap)"
		ps[i].Warning = true
	}
	ps = append(ps, duplicateListeners(b)...)
	return ps
}
