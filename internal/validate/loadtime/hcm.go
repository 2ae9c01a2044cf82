package loadtime

import (
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// HTTP connection manager rules: source/extensions/filters/network/http_connection_manager/config.cc.

const hcmSource = "source/extensions/filters/network/http_connection_manager/config.cc"

func init() {
	register("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
		hcmUpgrades, hcmCodec, hcmIPDetection, hcmAccessLogOptions, hcmHostPort, hcmResponseHeadersKB)
}

func asHCM(m protoreflect.Message) (*hcmv3.HttpConnectionManager, bool) {
	hcm, ok := m.Interface().(*hcmv3.HttpConnectionManager)
	return hcm, ok
}

// hcmUpgrades: one config per upgrade type, compared without case.
// Envoy: config.cc — "Error: multiple upgrade configs with the same name: '<type>'".
func hcmUpgrades(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok {
		return
	}
	seen := map[string]bool{}
	for i, u := range hcm.GetUpgradeConfigs() {
		t := strings.ToLower(u.GetUpgradeType())
		if seen[t] {
			c.envoyf(index(c.at("upgrade_configs"), i)+".upgrade_type", hcmSource,
				"Error: multiple upgrade configs with the same name: '%s'", u.GetUpgradeType())
		}
		seen[t] = true
	}
}

// hcmCodec: HTTP/3 runs on QUIC listeners and only there.
// Envoy: config.cc — "HTTP/3 codec configured on non-QUIC listener.", "Non-HTTP/3 codec configured on QUIC listener."
func hcmCodec(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok {
		return
	}
	anc := c.Ancestor("envoy.config.listener.v3.Listener")
	if anc == nil {
		return // an HCM delivered elsewhere (LDS is checked by Envoy on arrival)
	}
	l, ok := anc.Interface().(*listenerv3.Listener)
	if !ok {
		return
	}
	http3 := hcm.GetCodecType() == hcmv3.HttpConnectionManager_HTTP3
	switch quic := isQUIC(l); {
	case http3 && !quic:
		c.envoyf(c.at("codec_type"), hcmSource, "HTTP/3 codec configured on non-QUIC listener.")
	case !http3 && quic:
		c.envoyf(c.at("codec_type"), hcmSource, "Non-HTTP/3 codec configured on QUIC listener.")
	}
}

// hcmIPDetection: original IP detection extensions replace use_remote_address and xff_num_trusted_hops.
// Envoy: config.cc — "Original IP detection extensions and use_remote_address may not be mixed", "Original IP
// detection extensions and xff_num_trusted_hops may not be mixed".
func hcmIPDetection(c *Context, m protoreflect.Message) {
	hcm, ok := asHCM(m)
	if !ok || len(hcm.GetOriginalIpDetectionExtensions()) == 0 {
		return
	}
	if hcm.GetUseRemoteAddress().GetValue() {
		c.envoyf(c.at("use_remote_address"), hcmSource, "Original IP detection extensions and use_remote_address may not be mixed")
	}
	if hcm.GetXffNumTrustedHops() > 0 {
		c.envoyf(c.at("xff_num_trusted_hops"), hcmSource, "Original IP detection extensions and xff_num_trusted_hops may not be mixed")
	}
}

// hcmAccessLogOptions: access_log_options replaces the two older access log flush fields.
// Envoy: config.cc — "Only one of flush_access_log_on_new_request or access_log_options can be specified.",
// "Only one of access_log_flush_interval or access_log_options can be specified."
func hcmAccessLogOptions(c *Context, m protoreflect.Message) {
	if hcm, ok := asHCM(m); ok && hcm.GetAccessLogOptions() != nil {
		c.olderAccessLogFields(hcmSource, "flush_access_log_on_new_request", hcm.GetFlushAccessLogOnNewRequest(),
			hcm.GetAccessLogFlushInterval() != nil)
	}
}

// olderAccessLogFields reports the deprecated access log flush fields next to access_log_options (in the HTTP
// connection manager and tcp_proxy, whose flush-on-start field is named flushField).
func (c *Context) olderAccessLogFields(source, flushField string, flush, interval bool) {
	if flush {
		c.envoyf(c.at(flushField), source, "Only one of %s or access_log_options can be specified.", flushField)
	}
	if interval {
		c.envoyf(c.at("access_log_flush_interval"), source, "Only one of access_log_flush_interval or access_log_options can be specified.")
	}
}

// hcmHostPort: the host port is stripped either when it matches or always.
// Envoy: config.cc — "Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set."
func hcmHostPort(c *Context, m protoreflect.Message) {
	if hcm, ok := asHCM(m); ok && hcm.GetStripAnyHostPort() && hcm.GetStripMatchingHostPort() {
		c.envoyf(c.at("strip_matching_host_port"), hcmSource,
			"Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set.")
	}
}

// hcmResponseHeadersKB: the response header limit belongs to the cluster's protocol options.
// Envoy: config.cc — "Error: max_response_headers_kb cannot be set on http_connection_manager."
func hcmResponseHeadersKB(c *Context, m protoreflect.Message) {
	if hcm, ok := asHCM(m); ok && hcm.GetCommonHttpProtocolOptions().GetMaxResponseHeadersKb() != nil {
		c.envoyf(c.at("common_http_protocol_options.max_response_headers_kb"), hcmSource,
			"Error: max_response_headers_kb cannot be set on http_connection_manager.")
	}
}
