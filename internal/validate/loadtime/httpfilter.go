//go:build !appnet_lean

package loadtime

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Helpers shared by the HTTP filter rules (source/extensions/filters/http and the libraries they use). Each filter
// builds its configuration when Envoy creates the listener's filter chain factories at load, and a per-route config
// when Envoy builds the route table, so the rules are registered on the filters' config messages.
// Every user of these is an extension rule, so the lean build (appnet_lean) leaves this file out with them.

// httpFilterState is what the HTTP filter rules remember across the walk.
type httpFilterState struct {
	genericSecrets map[string]bool // names of the bootstrap's static generic secrets, computed on first use
	// fileManagers and fileCaches hold the first config met of each async file manager id and file system cache
	// path: Envoy shares one instance per key and refuses a second, different config for it.
	fileManagers map[string]protoreflect.Message
	fileCaches   map[string]proto.Message
}

// perRouteConfig reports whether the message being checked is a per-route filter config (a value of a
// typed_per_filter_config map, directly or inside a route FilterConfig): filters whose per-route config has the
// type of their filter config ask more of it there. It renders the path, so callers ask only when it matters.
func (c *Context) perRouteConfig() bool {
	p := c.Path()
	cut := func() bool { // drops the trailing "<Type>" of an unpacked payload
		i := strings.LastIndexByte(p, '<')
		if i < 0 || !strings.HasSuffix(p, ">") {
			return false
		}
		p = p[:i]
		return true
	}
	if !cut() {
		return false
	}
	if strings.HasSuffix(p, ".config") { // envoy.config.route.v3.FilterConfig wraps the payload
		p = strings.TrimSuffix(p, ".config")
		if !cut() {
			return false
		}
	}
	const field = "typed_per_filter_config["
	i := strings.LastIndex(p, field)
	if i < 0 {
		return false
	}
	key, err := strconv.QuotedPrefix(p[i+len(field):])
	return err == nil && p[i+len(field)+len(key):] == "]"
}

// staticGenericSecret reports whether the bootstrap's static_resources.secrets holds a generic secret of that
// name: a filter naming a secret without sds_config finds it there (SecretManagerImpl::findStaticGenericSecretProvider)
// or nowhere.
func (c *Context) staticGenericSecret(name string) bool {
	s := &c.http
	if s.genericSecrets == nil {
		s.genericSecrets = map[string]bool{}
		for _, sec := range c.bootstrap().GetStaticResources().GetSecrets() {
			if sec.GetGenericSecret() != nil {
				s.genericSecrets[sec.GetName()] = true
			}
		}
	}
	return s.genericSecrets[name]
}

// malformedIP returns Envoy's complaint about an address that is not an IP literal, or "" when Envoy parses it
// (Network::Utility::parseInternetAddressNoThrow: inet_pton for IPv4, numeric getaddrinfo for IPv6). An IPv6 scope
// ("%eth0") depends on the host's interfaces and is left alone.
func malformedIP(address string) string {
	if strings.Contains(address, "%") {
		return ""
	}
	if _, err := netip.ParseAddr(address); err != nil {
		return "malformed IP address: " + address
	}
	return ""
}

// cidrProblem returns what Network::Address::CidrRange::create says of a CidrRange, or "".
func cidrProblem(r *corev3.CidrRange) string {
	return malformedIP(r.GetAddressPrefix())
}

// dataSourceText returns a DataSource's inline content and the field holding it, or ok false when the content
// is elsewhere (a file or an environment variable: the host's).
func dataSourceText(ds *corev3.DataSource) (text, field string, ok bool) {
	switch s := ds.GetSpecifier().(type) {
	case *corev3.DataSource_InlineString:
		return s.InlineString, "inline_string", true
	case *corev3.DataSource_InlineBytes:
		return string(s.InlineBytes), "inline_bytes", true
	}
	return "", "", false
}

// msTruncated converts a duration to whole milliseconds as DurationUtil::durationToMilliseconds and
// PROTOBUF_GET_MS_OR_DEFAULT do (toward zero); an unset duration is 0.
func msTruncated(d *durationpb.Duration) int64 {
	if d == nil {
		return 0
	}
	return d.AsDuration().Milliseconds()
}

// absoluteURLProblem says why Envoy's Http::Utility::Url::initialize (http_parser_parse_url, then a host or a
// scheme) refuses an absolute URL, or returns "". It checks what the parser certainly refuses: a URL must start
// with a scheme of letters, then "://" and a non-empty host. Finer points of the parser's grammar are left alone.
func absoluteURLProblem(u string) string {
	scheme, rest, found := strings.Cut(u, "://")
	switch {
	case u == "":
		return "it is empty"
	case !found:
		return "it has no scheme and host (<scheme>://<host>[:<port>][/<path>])"
	case scheme == "" || strings.IndexFunc(scheme, func(r rune) bool { return (r|0x20) < 'a' || (r|0x20) > 'z' }) >= 0:
		return "its scheme is not letters only"
	case rest == "" || strings.ContainsRune("/?#", rune(rest[0])):
		return "it has no host"
	}
	return ""
}

var sprintf = fmt.Sprintf
