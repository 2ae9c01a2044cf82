//go:build !appnet_lean

package loadtime

import (
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	upstreamipportv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/rbac/matchers/upstream_ip_port/v3"
	mtlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/rbac/principals/mtls_authenticated/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/reflect/protoreflect"

	httprbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	netrbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
)

// RBAC rules: source/extensions/filters/common/rbac (policies and their matchers, built with the HTTP or network
// RBAC filter's config at load) and the HTTP filter's matcher tree (source/extensions/filters/http/rbac).

const (
	rbacMatchersSource = "source/extensions/filters/common/rbac/matchers.cc"
	rbacEngineSource   = "source/extensions/filters/common/rbac/engine_impl.cc"
	rbacFilterSource   = "source/extensions/filters/http/rbac/rbac_filter.cc"
	maxPortRangeBound  = 65536
)

func init() {
	register("envoy.config.rbac.v3.Permission", rbacPermission)
	register("envoy.config.rbac.v3.Principal", rbacPrincipal)
	register("envoy.extensions.rbac.matchers.upstream_ip_port.v3.UpstreamIpPortMatcher", rbacUpstreamIPPort)
	register("envoy.extensions.rbac.principals.mtls_authenticated.v3.Config", rbacMTLSAuthenticated)
	register("envoy.extensions.filters.http.rbac.v3.RBAC", rbacMatcherTrees)
	register("envoy.extensions.filters.network.rbac.v3.RBAC", rbacMatcherTrees)
}

// rbacRulesBuilt reports whether Envoy builds the policies the current message belongs to: a filter's rules (or
// shadow rules) are ignored when its matcher (or shadow matcher) is set (common/rbac/utility.h, createEngine).
func (c *Context) rbacRulesBuilt() bool {
	rules := c.Ancestor("envoy.config.rbac.v3.RBAC")
	if rules == nil {
		return true
	}
	r := rules.Interface()
	var filter interface {
		GetRules() *rbacconfigv3.RBAC
		GetShadowRules() *rbacconfigv3.RBAC
	}
	var matcher, shadowMatcher bool
	if f := c.Ancestor("envoy.extensions.filters.http.rbac.v3.RBAC"); f != nil {
		h, _ := f.Interface().(*httprbacv3.RBAC)
		filter, matcher, shadowMatcher = h, h.GetMatcher() != nil, h.GetShadowMatcher() != nil
	} else if f := c.Ancestor("envoy.extensions.filters.network.rbac.v3.RBAC"); f != nil {
		n, _ := f.Interface().(*netrbacv3.RBAC)
		filter, matcher, shadowMatcher = n, n.GetMatcher() != nil, n.GetShadowMatcher() != nil
	} else {
		return true
	}
	switch r {
	case filter.GetRules():
		return !matcher
	case filter.GetShadowRules():
		return !shadowMatcher
	}
	return true
}

// rbacPermission: a destination IP is an IP range and a destination port range lies within [0, 65536) with its
// start below its end.
// Envoy: source/extensions/filters/common/rbac/matchers.cc:212 [http-filters-01f6026f] — "Failed to create CIDR
// range: malformed IP address: <a>"; :303, :306, :309 [http-filters-aeabe80c] [http-filters-3ad6a060]
// [http-filters-f886d3ac] — "range start <s> is out of bounds", "range end <e> is out of bounds", "range start <s>
// cannot be greater or equal than range end <e>".
func rbacPermission(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*rbacconfigv3.Permission)
	if !ok {
		return
	}
	switch r := p.GetRule().(type) {
	case *rbacconfigv3.Permission_DestinationIp:
		if problem := cidrProblem(r.DestinationIp); problem != "" && c.rbacRulesBuilt() {
			c.envoyf(c.at("destination_ip.address_prefix"), rbacMatchersSource, "Failed to create CIDR range: %s", problem)
		}
	case *rbacconfigv3.Permission_DestinationPortRange:
		if problem := portRangeProblem(r.DestinationPortRange); problem != "" && c.rbacRulesBuilt() {
			c.envoyf(c.at("destination_port_range"), rbacMatchersSource, "%s (a range of ports within [0, 65536), end excluded)", problem)
		}
	}
}

func portRangeProblem(r *typev3.Int32Range) string {
	s, e := r.GetStart(), r.GetEnd()
	switch {
	case s < 0 || s > maxPortRangeBound:
		return sprintf("range start %d is out of bounds", s)
	case e < 0 || e > maxPortRangeBound:
		return sprintf("range end %d is out of bounds", e)
	case s >= e:
		return sprintf("range start %d cannot be greater or equal than range end %d", s, e)
	}
	return ""
}

// rbacPrincipal: the source, direct remote and remote IPs are IP ranges.
// Envoy: source/extensions/filters/common/rbac/matchers.cc:212 [http-filters-01f6026f] — "Failed to create CIDR
// range: malformed IP address: <a>".
func rbacPrincipal(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*rbacconfigv3.Principal)
	if !ok {
		return
	}
	var field string
	switch p.GetIdentifier().(type) {
	case *rbacconfigv3.Principal_SourceIp:
		field = "source_ip"
	case *rbacconfigv3.Principal_DirectRemoteIp:
		field = "direct_remote_ip"
	case *rbacconfigv3.Principal_RemoteIp:
		field = "remote_ip"
	default:
		return
	}
	r := p.GetSourceIp()
	if r == nil {
		r = p.GetDirectRemoteIp()
	}
	if r == nil {
		r = p.GetRemoteIp()
	}
	if problem := cidrProblem(r); problem != "" && c.rbacRulesBuilt() {
		c.envoyf(c.at(field+".address_prefix"), rbacMatchersSource, "Failed to create CIDR range: %s", problem)
	}
}

// rbacUpstreamIPPort: the upstream_ip_port matcher matches on something.
// Envoy: source/extensions/filters/common/rbac/matchers/upstream_ip_port.cc:20 [http-filters-f014d993] — "Invalid
// UpstreamIpPortMatcher configuration - missing `upstream_ip` and/or `upstream_port_range`".
func rbacUpstreamIPPort(c *Context, m protoreflect.Message) {
	u, ok := m.Interface().(*upstreamipportv3.UpstreamIpPortMatcher)
	if ok && u.GetUpstreamIp() == nil && u.GetUpstreamPortRange() == nil && c.rbacRulesBuilt() {
		c.envoyf(c.Path(), "source/extensions/filters/common/rbac/matchers/upstream_ip_port.cc",
			"Invalid UpstreamIpPortMatcher configuration - missing `upstream_ip` and/or `upstream_port_range`")
	}
}

// rbacMTLSAuthenticated: the mtls_authenticated principal validates something.
// Envoy: source/extensions/filters/common/rbac/principals/mtls_authenticated/mtls_authenticated.cc:19
// [http-filters-d9fa72a7] — "envoy.rbac.principals.mtls_authenticated did not have any configured validation. At
// least one configuration field must be set.".
func rbacMTLSAuthenticated(c *Context, m protoreflect.Message) {
	a, ok := m.Interface().(*mtlsv3.Config)
	if ok && a.GetSanMatcher() == nil && !a.GetAnyValidatedClientCertificate() && c.rbacRulesBuilt() {
		c.envoyf(c.Path(), "source/extensions/filters/common/rbac/principals/mtls_authenticated/mtls_authenticated.cc",
			"envoy.rbac.principals.mtls_authenticated did not have any configured validation. At least one configuration "+
				"field must be set (san_matcher or any_validated_client_certificate).")
	}
}

// rbacNeverInputs are data inputs of HTTP requests that the HTTP RBAC filter's allow list
// (ActionValidationVisitor::allowed_inputs_set_) leaves out and that RBAC, deciding on request headers, cannot
// use: response and trailer inputs. The allow list grows between releases, so inputs it might gain are not listed.
var rbacNeverInputs = staticSet[string]{
	"envoy.type.matcher.v3.HttpResponseHeaderMatchInput", "envoy.type.matcher.v3.HttpResponseTrailerMatchInput",
	"envoy.type.matcher.v3.HttpRequestTrailerMatchInput", "envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput",
	"envoy.type.matcher.v3.HttpResponseStatusCodeClassMatchInput", "envoy.type.matcher.v3.HttpResponseLocalReplyMatchInput",
}

// rbacMatcherTrees: the matcher trees of the RBAC filters do not keep matching after a match, and the HTTP
// filter's trees match on request data.
// Envoy: source/extensions/filters/common/rbac/engine_impl.cc:127 [http-filters-6f70649d] — "requirement violation
// while creating RBAC match tree: <problem>"; source/extensions/filters/http/rbac/rbac_filter.cc:67
// [http-filters-cf9c53a9] — "RBAC HTTP filter cannot match on '<type URL>'"; source/common/matcher/
// validation_visitor.h — "keep_matching is not supported in this context".
func rbacMatcherTrees(c *Context, m protoreflect.Message) {
	_, isHTTP := m.Interface().(*httprbacv3.RBAC)
	for _, field := range []protoreflect.Name{"matcher", "shadow_matcher"} {
		fd := m.Descriptor().Fields().ByName(field)
		if fd == nil || !m.Has(fd) {
			continue
		}
		c.matchTree(m.Get(fd).Message(), func() string { return c.at(string(field)) }, func(t matchTreeFinding) {
			switch {
			case t.keepMatching:
				c.envoyf(t.path(), rbacEngineSource, "requirement violation while creating RBAC match tree: keep_matching is "+
					"not supported in this context")
			case isHTTP && rbacNeverInputs.has(typeName(t.inputURL)):
				c.envoyf(t.path(), rbacFilterSource, "requirement violation while creating RBAC match tree: RBAC HTTP filter "+
					"cannot match on '%s' (RBAC decides on the request: headers, connection, TLS peer, metadata, filter "+
					"state, CEL)", t.inputURL)
			}
		})
	}
}
