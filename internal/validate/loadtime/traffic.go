//go:build !appnet_lean

package loadtime

import (
	"math"

	adaptivev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/adaptive_concurrency/v3"
	admissionv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/admission_control/v3"
	bandwidthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/bandwidth_limit/v3"
	cdnloopv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cdn_loop/v3"
	geoipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/geoip/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	iptaggingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ip_tagging/v3"
	maxmindv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/geoip_providers/maxmind/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Traffic management and request classification filters: admission_control, adaptive_concurrency,
// bandwidth_limit, health_check, geoip (and its MaxMind provider), ip_tagging and cdn_loop.

const (
	admissionSource   = "source/extensions/filters/http/admission_control/config.cc"
	admissionCriteria = "source/extensions/filters/http/admission_control/evaluators/success_criteria_evaluator.cc"
	adaptiveSource    = "source/extensions/filters/http/adaptive_concurrency/controller/gradient_controller.cc"
	bandwidthSource   = "source/extensions/filters/http/bandwidth_limit/bandwidth_limit.cc"
	healthCheckSource = "source/extensions/filters/http/health_check/config.cc"
	geoipSource       = "source/extensions/filters/http/geoip/config.cc"
	maxmindSource     = "source/extensions/geoip_providers/maxmind/geoip_provider.cc"
	ipTaggingSource   = "source/extensions/filters/http/ip_tagging/ip_tagging_filter.cc"
	cdnLoopSource     = "source/extensions/filters/http/cdn_loop/config.cc"
	grpcMaxStatus     = 16 // UNAUTHENTICATED, the last gRPC status code
)

func init() {
	register("envoy.extensions.filters.http.admission_control.v3.AdmissionControl", admissionControlConfig)
	register("envoy.extensions.filters.http.adaptive_concurrency.v3.GradientControllerConfig", adaptiveMinRTT)
	register("envoy.extensions.filters.http.bandwidth_limit.v3.BandwidthLimit", bandwidthLimitPerRoute)
	register("envoy.extensions.filters.http.health_check.v3.HealthCheck", healthCheckFilterConfig)
	register("envoy.extensions.filters.http.geoip.v3.Geoip", geoipClientAddress)
	register("envoy.extensions.geoip_providers.maxmind.v3.MaxMindConfig", maxmindDatabases)
	register("envoy.extensions.filters.http.ip_tagging.v3.IPTagging", ipTaggingTags)
	register("envoy.extensions.filters.http.cdn_loop.v3.CdnLoopConfig", cdnLoopID)
}

// admissionControlConfig: the success rate threshold is at least 1%, and the success criteria name HTTP status
// ranges within [100, 600] and gRPC status codes.
// Envoy: source/extensions/filters/http/admission_control/config.cc:42 [http-filters-d6cb6d26] — "Success rate
// threshold cannot be less than 1.0%."; evaluators/success_criteria_evaluator.cc:31, :50 [http-filters-1867b4d3]
// [http-filters-08270413] — "invalid HTTP range: [<start>, <end>)", "invalid gRPC code <code>".
func admissionControlConfig(c *Context, m protoreflect.Message) {
	ac, ok := m.Interface().(*admissionv3.AdmissionControl)
	if !ok {
		return
	}
	if t := ac.GetSrThreshold(); t != nil && t.GetDefaultValue().GetValue() < 1.0 {
		c.envoyf(c.at("sr_threshold.default_value.value"), admissionSource, "Success rate threshold cannot be less than 1.0%%.")
		return
	}
	sc := ac.GetSuccessCriteria()
	for i, r := range sc.GetHttpCriteria().GetHttpSuccessStatus() {
		s, e := r.GetStart(), r.GetEnd()
		if !(s <= e && s >= 100 && s < 600 && e >= 100 && e <= 600) {
			c.envoyf(index(c.at("success_criteria.http_criteria.http_success_status"), i), admissionCriteria,
				"invalid HTTP range: [%d, %d) (a range within [100, 600] whose start is not above its end)", s, e)
			return
		}
	}
	for i, code := range sc.GetGrpcCriteria().GetGrpcSuccessStatus() {
		if code > grpcMaxStatus {
			c.envoyf(index(c.at("success_criteria.grpc_criteria.grpc_success_status"), i), admissionCriteria,
				"invalid gRPC code %d (gRPC status codes are 0 to 16)", code)
			return
		}
	}
}

// adaptiveMinRTT: the minimum RTT is either measured at an interval or fixed (both count in whole milliseconds).
// Envoy: source/extensions/filters/http/adaptive_concurrency/controller/gradient_controller.cc:51
// [http-filters-0d70d490] — "adaptive_concurrency: neither `concurrency_update_interval` nor `fixed_value` set".
func adaptiveMinRTT(c *Context, m protoreflect.Message) {
	g, ok := m.Interface().(*adaptivev3.GradientControllerConfig)
	if !ok {
		return
	}
	p := g.GetMinRttCalcParams()
	if msTruncated(p.GetInterval()) < 1 && msTruncated(p.GetFixedValue()) <= 0 {
		c.envoyf(c.at("min_rtt_calc_params"), adaptiveSource, "adaptive_concurrency: neither `concurrency_update_interval` "+
			"nor `fixed_value` set (set min_rtt_calc_params.interval or fixed_value, of at least 1ms)")
	}
}

// bandwidthLimitPerRoute: a per-route bandwidth limit sets its limit.
// Envoy: source/extensions/filters/http/bandwidth_limit/bandwidth_limit.cc:73 [http-filters-bad55085] — "limit
// must be set for per route filter config".
func bandwidthLimitPerRoute(c *Context, m protoreflect.Message) {
	if b, ok := m.Interface().(*bandwidthv3.BandwidthLimit); ok && b.GetLimitKbps() == nil && c.perRouteConfig() {
		c.envoyf(c.at("limit_kbps"), bandwidthSource, "limit must be set for per route filter config")
	}
}

// healthCheckFilterConfig: without pass-through mode the filter answers from cluster health, so it caches nothing,
// and the minimum healthy percentages are numbers.
// Envoy: source/extensions/filters/http/health_check/config.cc:33, :47 [http-filters-89c90105]
// [http-filters-cba9072c] — "cache_time_ms must not be set when path_through_mode is disabled",
// "cluster_min_healthy_percentages contains a NaN value for cluster: <name>".
func healthCheckFilterConfig(c *Context, m protoreflect.Message) {
	hc, ok := m.Interface().(*healthcheckv3.HealthCheck)
	if !ok || hc.GetPassThroughMode().GetValue() {
		return
	}
	if msTruncated(hc.GetCacheTime()) != 0 {
		c.envoyf(c.at("cache_time"), healthCheckSource, "cache_time_ms must not be set when path_through_mode is disabled")
		return
	}
	for _, name := range sortedKeys(hc.GetClusterMinHealthyPercentages()) {
		if math.IsNaN(hc.GetClusterMinHealthyPercentages()[name].GetValue()) {
			c.envoyf(c.at("cluster_min_healthy_percentages")+"["+quote(name)+"].value", healthCheckSource,
				"cluster_min_healthy_percentages contains a NaN value for cluster: %s", name)
			return
		}
	}
}

// geoipClientAddress: the client address comes from XFF or from a custom header, not both.
// Envoy: source/extensions/filters/http/geoip/config.cc:18 [http-filters-827bdaa0] — "Only one of xff_config or
// custom_header_config can be set in the geoip filter configuration".
func geoipClientAddress(c *Context, m protoreflect.Message) {
	if g, ok := m.Interface().(*geoipv3.Geoip); ok && g.GetXffConfig() != nil && g.GetCustomHeaderConfig() != nil {
		c.envoyf(c.at("custom_header_config"), geoipSource,
			"Only one of xff_config or custom_header_config can be set in the geoip filter configuration")
	}
}

// maxmindDatabases: the MaxMind provider reads at least one database.
// Envoy: source/extensions/geoip_providers/maxmind/geoip_provider.cc:83 [http-filters-5944c4d8] — "At least one
// geolocation database path needs to be configured: city_db_path, isp_db_path, asn_db_path, anon_db_path or
// country_db_path".
func maxmindDatabases(c *Context, m protoreflect.Message) {
	mm, ok := m.Interface().(*maxmindv3.MaxMindConfig)
	if ok && mm.GetCityDbPath() == "" && mm.GetIspDbPath() == "" && mm.GetAsnDbPath() == "" && mm.GetAnonDbPath() == "" &&
		mm.GetCountryDbPath() == "" {
		c.envoyf(c.Path(), maxmindSource, "At least one geolocation database path needs to be configured: "+
			"city_db_path, isp_db_path, asn_db_path, anon_db_path or country_db_path")
	}
}

// ipTaggingTags: the filter has tags (unless they come from ip_tags_datasource, which newer Envoys read), and each
// tag's ranges are IP ranges.
// Envoy: source/extensions/filters/http/ip_tagging/ip_tagging_filter.cc:47, :63 [http-filters-d2c06a80]
// [http-filters-56663702] — "HTTP IP Tagging Filter requires ip_tags to be specified.", "invalid ip/mask combo
// '<ip>/<len>' (format is <ip>/<# mask bits>)".
func ipTaggingTags(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*iptaggingv3.IPTagging)
	if !ok {
		return
	}
	if len(t.GetIpTags()) == 0 && t.GetIpTagsDatasource() == nil {
		c.envoyf(c.at("ip_tags"), ipTaggingSource, "HTTP IP Tagging Filter requires ip_tags to be specified.")
		return
	}
	for i, tag := range t.GetIpTags() {
		for j, r := range tag.GetIpList() {
			if cidrProblem(r) != "" {
				c.envoyf(index(index(c.at("ip_tags"), i)+".ip_list", j)+".address_prefix", ipTaggingSource,
					"invalid ip/mask combo '%s/%d' (format is <ip>/<# mask bits>)", r.GetAddressPrefix(), r.GetPrefixLen().GetValue())
				return
			}
		}
	}
}

// cdnLoopID: cdn_id is a cdn-id of RFC 8586: a token or a bracketed IPv6 literal, optionally followed by ':' and
// a port.
// Envoy: source/extensions/filters/http/cdn_loop/config.cc:29 [http-filters-ccf4d939] — "Provided cdn_id \"<id>\"
// is not a valid CDN identifier: <parser's message>"; parser.cc:165, :199, :205 (parseToken, parsePlausibleIpV6)
// [http-filters-37f053d1] [http-filters-bcdd3597] [http-filters-6c802016] — "expected token starting at position
// <n>; found '<c>'", "expected closing ']' of IPv6 literal at position <n> found end-of-input", "expected closing
// ']' of IPv6 literal at position <n>; found '<c>'".
func cdnLoopID(c *Context, m protoreflect.Message) {
	cl, ok := m.Interface().(*cdnloopv3.CdnLoopConfig)
	if !ok || cl.GetCdnId() == "" {
		return
	}
	if problem, bad := cdnIDProblem(cl.GetCdnId()); bad {
		c.envoyf(c.at("cdn_id"), cdnLoopSource, "Provided cdn_id \"%s\" is not a valid CDN identifier: %s",
			cl.GetCdnId(), problem)
	}
}

// cdnIDProblem parses a non-empty cdn-id as Parser::parseCdnId does and returns its message; a cdn-id followed by
// anything else is refused with an empty message, as in Envoy.
func cdnIDProblem(id string) (string, bool) {
	i := 0
	if id[0] == '[' {
		i = 1
		for i < len(id) && (isHexDigit(id[i]) || id[i] == ':' || id[i] == '.') {
			i++
		}
		switch {
		case i == len(id):
			return sprintf("expected closing ']' of IPv6 literal at position %d found end-of-input", i), true
		case id[i] != ']':
			return sprintf("expected closing ']' of IPv6 literal at position %d; found '%c'", i, id[i]), true
		}
		i++
	} else {
		for i < len(id) && isTokenChar(id[i]) {
			i++
		}
		if i == 0 {
			return sprintf("expected token starting at position 0; found '%c'", id[0]), true
		}
	}
	if i < len(id) && id[i] == ':' {
		i++
		for i < len(id) && id[i] >= '0' && id[i] <= '9' {
			i++
		}
	}
	return "", i != len(id)
}

func isHexDigit(b byte) bool { return b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'f' }
