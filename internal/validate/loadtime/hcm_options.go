package loadtime

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// More HTTP connection manager rules: its route source, header limits, header validation, the extensions it builds
// (request IDs, original IP detection, early header mutation), and the HTTP filter lists it builds with
// FilterChainHelper::processFilters (source/common/http/filter_chain_helper.h), which the router's and the
// clusters' upstream filter lists share.

const (
	filterChainHelperSource = "source/common/http/filter_chain_helper.h"
	// maxDefaultRequestHeadersKB is the largest default of max_request_headers_kb among the releases the validator
	// serves (60 KiB for long, raised since): a limit compared against the default uses it, so that no release's
	// default makes a valid file fail.
	maxDefaultRequestHeadersKB = 128
)

func init() {
	register("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
		hcmRDS, hcmHeaderFieldSize, hcmHeaderValidator, hcmExtensionTypes, hcmFilterLists)
	register("envoy.extensions.filters.http.router.v3.Router", routerFilterList)
	register("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", clusterFilterList)
}

// hcmRDS: RDS needs a config source unless the route table's name is an xDS-TP URL.
// Envoy: config.cc:218 [hcm-a4a73cba] (validateRds) — "An RDS config must have either a 'config_source' or an
// xDS-TP based 'route_config_name'. Error while parsing RDS config: ...".
func hcmRDS(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok || hcm.GetRds() == nil {
		return
	}
	if rds := hcm.GetRds(); rds.GetConfigSource() == nil && !strings.HasPrefix(rds.GetRouteConfigName(), "xdstp:") {
		c.envoyf(c.at("rds"), hcmSource, "An RDS config must have either a 'config_source' or an xDS-TP based "+
			"'route_config_name'. Error while parsing RDS config: route_config_name %q", rds.GetRouteConfigName())
	}
}

// hcmHeaderFieldSize: one HTTP/2 header field may not be larger than all request headers together.
// Envoy: config.cc:473 [hcm-34f78233] — "max_header_field_size_kb must not exceed max_request_headers_kb".
func hcmHeaderFieldSize(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok {
		return
	}
	field := hcm.GetHttp2ProtocolOptions().GetMaxHeaderFieldSizeKb()
	if field == nil {
		return
	}
	limit, how := uint64(maxDefaultRequestHeadersKB), "the default"
	if v, ok := c.runtimeNumber("envoy.reloadable_features.max_request_headers_size_kb"); ok {
		limit, how = uint64(v), "the runtime value"
	}
	if r := hcm.GetMaxRequestHeadersKb(); r != nil {
		limit, how = uint64(r.GetValue()), "max_request_headers_kb"
	}
	if uint64(field.GetValue()) > limit {
		c.envoyf(c.at("http2_protocol_options.max_header_field_size_kb"), hcmSource, "max_header_field_size_kb must not "+
			"exceed max_request_headers_kb (%d > %d, %s)", field.GetValue(), limit, how)
	}
}

// hcmHeaderValidator: official release builds leave the universal header validator out (it is compiled in with
// --define uhv=enabled only), so they refuse its config and its runtime switch; a build with it loads both, so
// this is a warning.
// Envoy: config.cc:196 (row hcm-0db16727, a warning), :204 (row hcm-c4c64721, a warning) (createHeaderValidatorFactory) — "This Envoy binary
// does not support header validator extensions.: '<name>'", "Header validator can not be enabled since this Envoy
// binary does not support it."
func hcmHeaderValidator(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok {
		return
	}
	if v := hcm.GetTypedHeaderValidationConfig(); v != nil {
		c.envoyWarnf(c.at("typed_header_validation_config"), hcmSource, "This Envoy binary does not support header "+
			"validator extensions.: '%s' (official release builds are made without the universal header validator; "+
			"only a build with --define uhv=enabled loads this)", v.GetName())
		return
	}
	if c.runtimeFlag("envoy.reloadable_features.enable_universal_header_validator", false) {
		c.envoyWarnf(c.Path(), hcmSource, "Header validator can not be enabled since this Envoy binary does not support "+
			"it. (runtime envoy.reloadable_features.enable_universal_header_validator is true; official release builds "+
			"lack the validator, only a build with --define uhv=enabled loads this)")
	}
}

// hcmExtensionTypes: the request ID, original IP detection and early header mutation extensions are found by
// their config type. A type of another extension category is reported by the category layer (extensionSlots);
// this rule reports the messages that configure no extension at all.
// Envoy: source/common/http/request_id_extension_impl.cc:17 [hcm-015952f5] — "Didn't find a registered
// implementation for type: '<type>'"; config.cc:546 [hcm-7e4226c4], :567 [hcm-e18efb14] — "Original IP detection
// extension not found: '<name>'", "Early header mutation extension not found: '<name>'".
func hcmExtensionTypes(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok {
		return
	}
	if t := hcm.GetRequestIdExtension().GetTypedConfig(); t != nil {
		c.requestIDType(func() string { return c.at("request_id_extension.typed_config") }, t, "")
	}
	for i, e := range hcm.GetOriginalIpDetectionExtensions() {
		if typ := extensionType(e.GetTypedConfig().ProtoReflect()); nonExtension(typ) {
			c.envoyf(index(c.at("original_ip_detection_extensions"), i)+".typed_config", hcmSource,
				"Original IP detection extension not found: '%s' (%s configures no extension)", e.GetName(), typ)
		}
	}
	for i, e := range hcm.GetEarlyHeaderMutationExtensions() {
		if typ := extensionType(e.GetTypedConfig().ProtoReflect()); nonExtension(typ) {
			c.envoyf(index(c.at("early_header_mutation_extensions"), i)+".typed_config", hcmSource,
				"Early header mutation extension not found: '%s' (%s configures no extension)", e.GetName(), typ)
		}
	}
}

// nonExtension reports a config type that is no extension's (extension types of the wrong category are the
// category layer's to report).
func nonExtension(typ string) bool {
	_, known := extensionOf(typ)
	return typ != "" && !known && notAnExtension(typ)
}

// requestIDType reports a request ID extension config that configures no extension; prefix starts the message
// (tcp_proxy wraps the factory's message in its own).
func (c *Context) requestIDType(path func() string, a *anypb.Any, prefix string) {
	if typ := extensionType(a.ProtoReflect()); nonExtension(typ) {
		c.envoyf(path(), "source/common/http/request_id_extension_impl.cc", "%sDidn't find a registered implementation for "+
			"type: '%s' (request ID extensions: envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig)", prefix, typ)
	}
}

// hcmFilterLists checks the HTTP filters and each upgrade's filters.
func hcmFilterLists(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok {
		return
	}
	c.httpFilterList(func() string { return c.at("http_filters") }, hcm.GetHttpFilters())
	for i, u := range hcm.GetUpgradeConfigs() {
		c.httpFilterList(func() string { return index(c.at("upgrade_configs"), i) + ".filters" }, u.GetFilters())
	}
}

// routerFilterList checks the router's upstream HTTP filters.
func routerFilterList(c *Context, m protoreflect.Message) {
	if r, ok := m.Interface().(*routerv3.Router); ok {
		c.httpFilterList(func() string { return c.at("upstream_http_filters") }, r.GetUpstreamHttpFilters())
	}
}

// clusterFilterList checks a cluster's upstream HTTP filters.
func clusterFilterList(c *Context, m protoreflect.Message) {
	if o, ok := m.Interface().(*upstreamhttpv3.HttpProtocolOptions); ok {
		c.httpFilterList(func() string { return c.at("http_filters") }, o.GetHttpFilters())
	}
}

// httpFilterList: the last filter of a list cannot be disabled by default, and a filter configured by discovery
// has a default config to apply without warming and accepts only types of HTTP filters. (Whether a filter may run
// upstream or downstream changes between releases, compressor became an upstream filter in 1.40, so either
// kind is accepted in either list.)
// Envoy: source/common/http/filter_chain_helper.h:122 [hcm-dec46962], :177 [hcm-e75de514], :185 [hcm-ba527cc0]
// (processFilter, processDynamicFilterConfig) — "Error: the last (terminal) filter (<n>) in the chain cannot be
// disabled by default.", "Error: filter config <n> applied without warming but has no default config.", "Error: no
// factory found for a required type URL <type>."
func (c *Context) httpFilterList(path func() string, filters []*hcmv3.HttpFilter) {
	for i, f := range filters {
		p := func(leaf string) string { return index(path(), i) + leaf }
		if i == len(filters)-1 && f.GetDisabled() {
			c.envoyf(p(".disabled"), filterChainHelperSource, "Error: the last (terminal) filter (%s) in the chain cannot be "+
				"disabled by default.", f.GetName())
		}
		cd := f.GetConfigDiscovery()
		if cd == nil {
			continue
		}
		if cd.GetApplyDefaultConfigWithoutWarming() && cd.GetDefaultConfig() == nil {
			c.envoyf(p(".config_discovery.apply_default_config_without_warming"), filterChainHelperSource,
				"Error: filter config %s applied without warming but has no default config.", f.GetName())
		}
		for j, url := range cd.GetTypeUrls() {
			if typ, missing := rawNoFactory(url, "envoy.filters.http", "envoy.filters.http.upstream"); missing {
				c.envoyf(index(p(".config_discovery.type_urls"), j), filterChainHelperSource,
					"Error: no factory found for a required type URL %s. (not an HTTP filter's config)", typ)
			}
		}
	}
}

// HTTP/2 SETTINGS identifiers that Envoy treats specially (RFC 9113 section 6.5.2, RFC 8441).
const (
	settingsHeaderTableSize     = 1
	settingsEnablePush          = 2
	settingsMaxConcurrentStream = 3
	settingsInitialWindowSize   = 4
	settingsEnableConnect       = 8
)

// http2Settings: custom SETTINGS parameters cannot enable server push or CONNECT, give one identifier two values,
// or set what a named field sets. Envoy checks every HTTP/2 options message it builds a codec from (connection
// managers, clusters), at load.
// Envoy: source/common/http/utility.cc:126 [hcm-aeb5b3b8], :134 [hcm-36ee50d3], :159 [hcm-c54784cf], :164
// [hcm-d94d55ae] (validateCustomSettingsParameters) — "server push is not supported by Envoy and can not be enabled
// via a SETTINGS parameter.", "the "allow_connect" SETTINGS parameter must only be configured through the named
// field", "inconsistent HTTP/2 custom SETTINGS parameter(s) detected; identifiers = {0x..}", "the {<fields>} HTTP/2
// SETTINGS parameter(s) can not be configured through both named and custom parameters".
func http2Settings(c *Context, m protoreflect.Message) {
	o, ok := m.Interface().(*corev3.Http2ProtocolOptions)
	if !ok || len(o.GetCustomSettingsParameters()) == 0 {
		return
	}
	const src = "source/common/http/utility.cc"
	at := func() string { return c.at("custom_settings_parameters") }
	values := map[uint32]uint32{}
	var inconsistent, collisions []string
	for i, p := range o.GetCustomSettingsParameters() {
		id, v := p.GetIdentifier().GetValue(), p.GetValue().GetValue()
		if prev, seen := values[id]; seen && prev != v {
			inconsistent = append(inconsistent, fmt.Sprintf("0x%02x", id))
		} else if !seen {
			values[id] = v
		}
		switch {
		case id == settingsEnablePush && v == 1:
			c.envoyf(index(at(), i), src, "server push is not supported by Envoy and can not be enabled via a SETTINGS parameter.")
			return
		case id == settingsEnableConnect:
			c.envoyf(index(at(), i), src, "the \"allow_connect\" SETTINGS parameter must only be configured through the named field")
			return
		case id == settingsHeaderTableSize && o.GetHpackTableSize() != nil:
			collisions = append(collisions, "hpack_table_size")
		case id == settingsMaxConcurrentStream && o.GetMaxConcurrentStreams() != nil:
			collisions = append(collisions, "max_concurrent_streams")
		case id == settingsInitialWindowSize && o.GetInitialStreamWindowSize() != nil:
			collisions = append(collisions, "initial_stream_window_size")
		}
	}
	switch {
	case len(inconsistent) > 0:
		c.envoyf(at(), src, "inconsistent HTTP/2 custom SETTINGS parameter(s) detected; identifiers = {%s}", strings.Join(inconsistent, ","))
	case len(collisions) > 0:
		c.envoyf(at(), src, "the {%s} HTTP/2 SETTINGS parameter(s) can not be configured through both named and custom parameters",
			strings.Join(collisions, ","))
	}
}

func init() { register("envoy.config.core.v3.Http2ProtocolOptions", http2Settings) }
