package loadtime_test

import (
	"strings"
	"testing"
)

// Building blocks for the HTTP filter cases.

// httpFilter returns a bootstrap whose connection manager runs one HTTP filter of config type typ (a full message
// name) with the given fields (the body of a YAML flow mapping, may be empty), then the router.
func httpFilter(typ, fields string) string {
	return hcm("http_filters:\n- {name: f, typed_config: {'@type': type.googleapis.com/" + typ + withComma(fields) + "}}\n" + routerFilter)
}

// perRoute returns a bootstrap whose only route carries a per-filter config of type typ under the name "f".
func perRoute(typ, fields string) string {
	return routes("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}, " +
		"typed_per_filter_config: {f: {'@type': type.googleapis.com/" + typ + withComma(fields) + "}}}]}]\n")
}

func withComma(fields string) string {
	if fields == "" {
		return ""
	}
	return ", " + fields
}

// filterAt and perRouteAt are the paths of the configs httpFilter and perRoute build.
func filterAt(typ string) string {
	return hcmPath + ".http_filters[0].typed_config<" + typ[strings.LastIndexByte(typ, '.')+1:] + ">"
}

func perRouteAt(typ string) string {
	return routeCfg + ".virtual_hosts[0].routes[0].typed_per_filter_config[\"f\"]<" + typ[strings.LastIndexByte(typ, '.')+1:] + ">"
}

const (
	apiKeyAuth       = "envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth"
	apiKeyAuthRoute  = "envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuthPerRoute"
	basicAuth        = "envoy.extensions.filters.http.basic_auth.v3.BasicAuth"
	basicAuthRoute   = "envoy.extensions.filters.http.basic_auth.v3.BasicAuthPerRoute"
	admissionControl = "envoy.extensions.filters.http.admission_control.v3.AdmissionControl"
	adaptive         = "envoy.extensions.filters.http.adaptive_concurrency.v3.AdaptiveConcurrency"
	bandwidthLimit   = "envoy.extensions.filters.http.bandwidth_limit.v3.BandwidthLimit"
	healthCheck      = "envoy.extensions.filters.http.health_check.v3.HealthCheck"
	geoip            = "envoy.extensions.filters.http.geoip.v3.Geoip"
	ipTagging        = "envoy.extensions.filters.http.ip_tagging.v3.IPTagging"
	cdnLoop          = "envoy.extensions.filters.http.cdn_loop.v3.CdnLoopConfig"
	maxmind          = "provider: {name: mm, typed_config: {'@type': type.googleapis.com/envoy.extensions.geoip_providers.maxmind.v3.MaxMindConfig, common_provider_config: {geo_headers_to_add: {country: x-country}}"
	// sha is a valid {SHA} hash (of "test").
	sha = "{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M="
)

func TestAuthnRules(t *testing.T) { runRules(t, casesAuthnRules()) }

func casesAuthnRules() []ruleCase {
	users := func(lines string) string { return "users: {inline_string: \"" + lines + "\"}" }
	return []ruleCase{
		{"api key auth", httpFilter(apiKeyAuth, "key_sources: [{header: x-api-key}], credentials: [{key: k1, client: a}, {key: k2, client: a}]"), "", ""},
		{"api key auth source without place", httpFilter(apiKeyAuth, "key_sources: [{header: x-api-key}, {}]"),
			filterAt(apiKeyAuth) + ".key_sources[1]", "One of 'header'/'query'/'cookie' must be set."},
		{"api key auth duplicate key", httpFilter(apiKeyAuth, "credentials: [{key: k1, client: a}, {key: k1, client: b}]"),
			filterAt(apiKeyAuth) + ".credentials[1].key", "Duplicated credential key: 'k1'"},
		{"api key auth per route duplicate key", perRoute(apiKeyAuthRoute, "credentials: [{key: k, client: a}, {key: k, client: a}]"),
			perRouteAt(apiKeyAuthRoute) + ".credentials[1].key", "Duplicated credential key: 'k'"},
		{"basic auth", httpFilter(basicAuth, users("# admins\\n\\nuser1:"+sha+"\\nuser2:"+sha+"\\n")), "", ""},
		{"basic auth users in a file", httpFilter(basicAuth, "users: {filename: /etc/htpasswd}"), "", ""},
		{"basic auth line without colon", httpFilter(basicAuth, users("user1")),
			filterAt(basicAuth) + ".users.inline_string", "basic auth: invalid htpasswd format, username:password is expected"},
		{"basic auth empty password", httpFilter(basicAuth, users("user1:")),
			filterAt(basicAuth) + ".users.inline_string", "basic auth: empty user name or password"},
		{"basic auth duplicate user", httpFilter(basicAuth, users("u:"+sha+"\\nu:"+sha)),
			filterAt(basicAuth) + ".users.inline_string", "basic auth: duplicate users"},
		{"basic auth bcrypt", httpFilter(basicAuth, users("u:$2y$05$abcdefghijabcdefghijab")),
			filterAt(basicAuth) + ".users.inline_string", "basic auth: unsupported htpasswd format: please use {SHA}"},
		{"basic auth short hash", perRoute(basicAuthRoute, users("u:{SHA}abc")),
			perRouteAt(basicAuthRoute) + ".users.inline_string", "basic auth: invalid htpasswd format, invalid SHA hash length"},
	}
}

func init() { registerCases(casesAuthnRules) }

const (
	rateLimit      = "envoy.extensions.filters.http.ratelimit.v3.RateLimit"
	rateLimitRoute = "envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute"
	localRateLimit = "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
	rlService      = "domain: d, rate_limit_service: {transport_api_version: V3, grpc_service: {envoy_grpc: {cluster_name: app}}}"
	tokenBucket    = "token_bucket: {max_tokens: 10, fill_interval: 1s}"
)

const (
	extAuthz      = "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz"
	extAuthzRoute = "envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute"
	jwtAuthn      = "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
	oauth2        = "envoy.extensions.filters.http.oauth2.v3.OAuth2"
	awsSigning    = "envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning"
	awsLambda     = "envoy.extensions.filters.http.aws_lambda.v3.Config"
	awsLambdaPer  = "envoy.extensions.filters.http.aws_lambda.v3.PerRouteConfig"
	injector      = "envoy.extensions.filters.http.credential_injector.v3.CredentialInjector"
)

const (
	headerMutation   = "envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
	headerToMetadata = "envoy.extensions.filters.http.header_to_metadata.v3.Config"
	jsonToMetadata   = "envoy.extensions.filters.http.json_to_metadata.v3.JsonToMetadata"
	thriftToMetadata = "envoy.extensions.filters.http.thrift_to_metadata.v3.ThriftToMetadata"
	sseToMetadata    = "envoy.extensions.filters.http.sse_to_metadata.v3.SseToMetadata"
	customResponse   = "envoy.extensions.filters.http.custom_response.v3.CustomResponse"
	fileServer       = "envoy.extensions.filters.http.file_server.v3.FileServerConfig"
	transform        = "envoy.extensions.filters.http.transform.v3.TransformConfig"
)

const (
	tapFilter    = "envoy.extensions.filters.http.tap.v3.Tap"
	wasmFilter   = "envoy.extensions.filters.http.wasm.v3.Wasm"
	luaFilter    = "envoy.extensions.filters.http.lua.v3.Lua"
	compressor   = "envoy.extensions.filters.http.compressor.v3.Compressor"
	compressorPR = "envoy.extensions.filters.http.compressor.v3.CompressorPerRoute"
	decompressor = "envoy.extensions.filters.http.decompressor.v3.Decompressor"
	cacheFilter  = "envoy.extensions.filters.http.cache.v3.CacheConfig"
	cacheV2      = "envoy.extensions.filters.http.cache_v2.v3.CacheV2Config"
	gzipLib      = "{name: gzip, typed_config: {'@type': type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip}}"
)

// twoFilters returns a bootstrap whose connection manager runs two HTTP filters (types and fields) before the router.
func twoFilters(typ1, fields1, typ2, fields2 string) string {
	return hcm("http_filters:\n- {name: f1, typed_config: {'@type': type.googleapis.com/" + typ1 + withComma(fields1) + "}}\n" +
		"- {name: f2, typed_config: {'@type': type.googleapis.com/" + typ2 + withComma(fields2) + "}}\n" + routerFilter)
}

const (
	extProc       = "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor"
	composite     = "envoy.extensions.filters.http.composite.v3.Composite"
	dynamicModule = "envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter"
	matcherRoute  = "envoy.extensions.common.matching.v3.ExtensionWithMatcherPerRoute"
	grpcApp       = "grpc_service: {envoy_grpc: {cluster_name: app}}"
)

// composed returns a match tree (xds_matcher fields) whose one header match runs the given ExecuteFilterAction
// fields.
func composed(action string) string {
	return "xds_matcher: {matcher_list: {matchers: [{predicate: {single_predicate: {input: {name: i, typed_config: {'@type': type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput, header_name: x}}, " +
		"value_match: {exact: a}}}, on_match: {action: {name: a, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.composite.v3.ExecuteFilterAction, " + action + "}}}}]}}"
}
