package validate

import (
	"strings"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

const hcmName = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

// HTTP filters by extension short name (the <x> of envoy.filters.http.<x> and of the type
// envoy.extensions.filters.http.<x>.v3.*). Only filters whose nature is certain are listed: an unknown filter is
// never reported, so custom or new terminal filters cannot cause false errors.
var (
	terminalHTTPFilters = map[string]bool{"router": true}

	nonTerminalHTTPFilters = map[string]bool{
		"adaptive_concurrency": true, "admission_control": true, "api_key_auth": true, "aws_request_signing": true,
		"bandwidth_limit": true, "basic_auth": true, "buffer": true, "cdn_loop": true, "compressor": true,
		"cors": true, "credential_injector": true, "csrf": true, "custom_response": true, "decompressor": true,
		"ext_authz": true, "ext_proc": true, "fault": true, "gcp_authn": true, "grpc_http1_bridge": true,
		"grpc_http1_reverse_bridge": true, "grpc_json_transcoder": true, "grpc_stats": true, "grpc_web": true,
		"header_mutation": true, "header_to_metadata": true, "health_check": true, "ip_tagging": true,
		"json_to_metadata": true, "jwt_authn": true, "local_ratelimit": true, "lua": true, "oauth2": true,
		"on_demand": true, "original_src": true, "rate_limit_quota": true, "ratelimit": true, "rbac": true,
		"set_metadata": true, "stateful_session": true, "tap": true,
	}
)

// httpFilterKind returns the short name of an HTTP filter, from its typed_config type or else its name.
func httpFilterKind(f *hcmv3.HttpFilter) string {
	if url := f.GetTypedConfig().GetTypeUrl(); url != "" {
		name := url[strings.LastIndexByte(url, '/')+1:]
		if rest, ok := strings.CutPrefix(name, "envoy.extensions.filters.http."); ok {
			short, _, _ := strings.Cut(rest, ".")
			return short
		}
		return ""
	}
	if f.GetConfigDiscovery() != nil {
		return ""
	}
	short, _ := strings.CutPrefix(f.GetName(), "envoy.filters.http.")
	return short
}

// httpFilterOrder: a terminal filter (the router) must be last, and the last filter must be terminal. An HCM
// without http_filters gets Envoy's default router, so it is fine.
func (c *checker) httpFilterOrder(w *walker, m protoreflect.Message) {
	hcm, ok := m.Interface().(*hcmv3.HttpConnectionManager)
	if !ok {
		return
	}
	filters := hcm.GetHttpFilters()
	for i, f := range filters {
		kind := httpFilterKind(f)
		switch {
		case terminalHTTPFilters[kind] && i < len(filters)-1:
			w.report(indexPath(w.pathTo("http_filters"), i),
				"terminal filter "+f.GetName()+" must be the last HTTP filter")
		case nonTerminalHTTPFilters[kind] && i == len(filters)-1:
			w.report(indexPath(w.pathTo("http_filters"), i),
				"the last HTTP filter must be a terminal filter such as envoy.filters.http.router, not "+f.GetName())
		}
	}
}
