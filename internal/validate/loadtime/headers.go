package loadtime

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Header mutation rules: source/common/router/header_parser.cc, used by routes, virtual hosts, route tables,
// weighted clusters and health checks.

const headerParserSource = "source/common/router/header_parser.cc"

func init() {
	for _, name := range []protoreflect.FullName{
		"envoy.config.route.v3.RouteConfiguration",
		"envoy.config.route.v3.VirtualHost",
		"envoy.config.route.v3.Route",
		"envoy.config.route.v3.WeightedCluster.ClusterWeight",
	} {
		register(name, headerMutations)
	}
}

// headerMutator is what route tables, virtual hosts, routes and weighted clusters share: headers to add to and
// remove from requests and responses.
type headerMutator interface {
	GetRequestHeadersToAdd() []*corev3.HeaderValueOption
	GetResponseHeadersToAdd() []*corev3.HeaderValueOption
	GetRequestHeadersToRemove() []string
	GetResponseHeadersToRemove() []string
}

// headerMutations applies the header rules below to the four lists.
func headerMutations(c *Context, m protoreflect.Message) {
	if h, ok := m.Interface().(headerMutator); ok {
		c.headersToAdd("request_headers_to_add", h.GetRequestHeadersToAdd())
		c.headersToAdd("response_headers_to_add", h.GetResponseHeadersToAdd())
		c.headersToRemove("request_headers_to_remove", h.GetRequestHeadersToRemove())
		c.headersToRemove("response_headers_to_remove", h.GetResponseHeadersToRemove())
	}
}

// modifiableHeader mirrors Http::HeaderUtility::isModifiableHeader and isRemovableHeader: not a pseudo-header and
// not host.
func modifiableHeader(key string) bool {
	return !strings.HasPrefix(key, ":") && !strings.EqualFold(key, "host")
}

// headersToAdd: pseudo-headers and host are set elsewhere (rewrites), append and append_action are exclusive, and
// header values are substitution format strings.
// Envoy: source/common/router/header_parser.cc — ":-prefixed or host headers may not be modified", "Both append
// and append_action are set and it's not allowed".
// field is the list's field in the message being checked.
func (c *Context) headersToAdd(field string, opts []*corev3.HeaderValueOption) {
	for i, o := range opts {
		p := func(leaf string) string { return index(c.at(field), i) + leaf }
		if key := o.GetHeader().GetKey(); key != "" && !modifiableHeader(key) {
			c.envoyf(p(".header.key"), headerParserSource, ":-prefixed or host headers may not be modified (%q)", key)
		}
		if o.GetAppend() != nil && o.GetAppendAction() != corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD {
			c.envoyf(p(".append"), headerParserSource, "Both append and append_action are set and it's not allowed")
		}
		c.formatString(func() string { return p(".header.value") }, o.GetHeader().GetValue(), nil)
	}
}

// headersToRemove: pseudo-headers and host cannot be removed.
// Envoy: source/common/router/header_parser.cc — ":-prefixed or host headers may not be removed".
func (c *Context) headersToRemove(field string, names []string) {
	for i, h := range names {
		if !modifiableHeader(h) {
			c.envoyf(index(c.at(field), i), headerParserSource, ":-prefixed or host headers may not be removed (%q)", h)
		}
	}
}
