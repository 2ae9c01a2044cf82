package envoychecks

import "strings"

// Skipped lists the directories and files of Envoy's source/ that never handle bootstrap configuration, so that
// none of their errors are rows: the command line and process start, hot restart, the event loop and buffers,
// threads, and per-request bookkeeping.
var Skipped = []string{
	"source/exe/",
	"source/server/options_impl",
	"source/server/hot_restart",
	"source/server/backtrace",
	"source/server/config_validation/",
	"source/common/api/",
	"source/common/buffer/",
	"source/common/event/",
	"source/common/html/",
	"source/common/profiler/",
	"source/common/signal/",
	"source/common/singleton/",
	"source/common/shared_pool/",
	"source/common/thread",
	"source/common/version/",
	"source/common/io/",
	"source/common/stream_info/",
}

// familyOf maps a path prefix under source/ to its family; the longest matching prefix wins.
var familyOf = map[string]string{
	"source/common/upstream/":                                      "clusters",
	"source/common/upstream/health_checker":                        "health-checks",
	"source/common/upstream/health_discovery":                      "health-checks",
	"source/common/conn_pool/":                                     "clusters",
	"source/common/orca/":                                          "clusters",
	"source/common/tcp/":                                           "clusters",
	"source/extensions/clusters/":                                  "clusters",
	"source/extensions/load_balancing_policies/":                   "clusters",
	"source/extensions/upstreams/":                                 "clusters",
	"source/extensions/local_address_selectors/":                   "clusters",
	"source/extensions/health_checkers/":                           "health-checks",
	"source/extensions/health_check/":                              "health-checks",
	"source/common/listener_manager/":                              "listeners",
	"source/extensions/listener_managers/":                         "listeners",
	"source/extensions/filters/listener/":                          "listeners",
	"source/common/network/":                                       "listeners",
	"source/common/network/dns_resolver/":                          "dns",
	"source/extensions/network/":                                   "listeners",
	"source/extensions/network/dns_resolver/":                      "dns",
	"source/extensions/common/dynamic_forward_proxy/":              "dns",
	"source/extensions/io_socket/":                                 "listeners",
	"source/extensions/udp_packet_writer/":                         "listeners",
	"source/extensions/quic/":                                      "listeners",
	"source/common/quic/":                                          "listeners",
	"source/extensions/api_listeners/":                             "listeners",
	"source/extensions/common/proxy_protocol/":                     "listeners",
	"source/server/active_":                                        "listeners",
	"source/server/connection_handler":                             "listeners",
	"source/extensions/filters/network/http_connection_manager/":   "hcm",
	"source/common/http/":                                          "hcm",
	"source/common/local_reply/":                                   "hcm",
	"source/common/websocket/":                                     "hcm",
	"source/extensions/http/original_ip_detection/":                "hcm",
	"source/extensions/http/header_formatters/":                    "hcm",
	"source/extensions/http/early_header_mutation/":                "hcm",
	"source/extensions/http/header_validators/":                    "hcm",
	"source/extensions/request_id/":                                "hcm",
	"source/common/router/":                                        "routes",
	"source/common/rds/":                                           "routes",
	"source/extensions/path/":                                      "routes",
	"source/extensions/router/":                                    "routes",
	"source/extensions/retry/":                                     "routes",
	"source/extensions/internal_redirect/":                         "routes",
	"source/extensions/rate_limit_descriptors/":                    "routes",
	"source/extensions/early_data/":                                "routes",
	"source/extensions/filters/http/":                              "http-filters",
	"source/extensions/filters/common/":                            "http-filters",
	"source/extensions/http/":                                      "http-filters",
	"source/extensions/compression/":                               "http-filters",
	"source/common/compression/":                                   "http-filters",
	"source/extensions/geoip_providers/":                           "http-filters",
	"source/extensions/wasm_runtime/":                              "http-filters",
	"source/extensions/common/wasm/":                               "http-filters",
	"source/extensions/common/aws/":                                "http-filters",
	"source/extensions/common/tap/":                                "http-filters",
	"source/common/jwt/":                                           "http-filters",
	"source/extensions/filters/http/proto_api_scrubber/":           "http-filters-more",
	"source/extensions/filters/http/ext_proc/":                     "http-filters-more",
	"source/extensions/filters/http/proto_message_extraction/":     "http-filters-more",
	"source/extensions/filters/http/composite/":                    "http-filters-more",
	"source/extensions/filters/http/grpc_json_reverse_transcoder/": "http-filters-more",
	"source/extensions/filters/http/grpc_field_extraction/":        "http-filters-more",
	"source/extensions/filters/http/grpc_json_transcoder/":         "http-filters-more",
	"source/extensions/filters/http/grpc_http1_bridge/":            "http-filters-more",
	"source/extensions/filters/http/grpc_http1_reverse_bridge/":    "http-filters-more",
	"source/extensions/filters/http/grpc_stats/":                   "http-filters-more",
	"source/extensions/filters/http/grpc_web/":                     "http-filters-more",
	"source/extensions/filters/http/mcp_json_rest_bridge/":         "http-filters-more",
	"source/extensions/filters/http/mcp_router/":                   "http-filters-more",
	"source/extensions/filters/http/mcp/":                          "http-filters-more",
	"source/extensions/filters/http/cache_v2/":                     "http-filters-more",
	"source/extensions/filters/http/cache/":                        "http-filters-more",
	"source/extensions/filters/http/dynamic_modules/":              "http-filters-more",
	"source/extensions/filters/http/json_to_metadata/":             "http-filters-more",
	"source/extensions/filters/http/thrift_to_metadata/":           "http-filters-more",
	"source/extensions/filters/http/match_delegate/":               "http-filters-more",
	"source/extensions/filters/http/file_server/":                  "http-filters-more",
	"source/extensions/filters/http/transform/":                    "http-filters-more",
	"source/extensions/filters/common/ext_proc/":                   "http-filters-more",
	"source/extensions/filters/common/mcp/":                        "http-filters-more",
	"source/extensions/http/cache/":                                "http-filters-more",
	"source/extensions/http/cache_v2/":                             "http-filters-more",
	"source/extensions/http/ext_proc/":                             "http-filters-more",
	"source/extensions/common/async_files/":                        "http-filters-more",
	"source/extensions/content_parsers/":                           "http-filters-more",
	"source/extensions/filters/network/":                           "network-filters",
	"source/extensions/filters/udp/":                               "network-filters",
	"source/extensions/common/redis/":                              "network-filters",
	"source/extensions/common/dubbo/":                              "network-filters",
	"source/common/tcp_proxy/":                                     "network-filters",
	"source/common/tls/":                                           "tls",
	"source/common/ssl/":                                           "tls",
	"source/common/secret/":                                        "tls",
	"source/common/crypto/":                                        "tls",
	"source/extensions/transport_sockets/":                         "tls",
	"source/common/stats/":                                         "stats",
	"source/extensions/stat_sinks/":                                "stats",
	"source/extensions/tracers/":                                   "tracers",
	"source/common/tracing/":                                       "tracers",
	"source/extensions/common/fluentd/":                            "access-logs",
	"source/extensions/access_loggers/":                            "access-logs",
	"source/common/access_log/":                                    "access-logs",
	"source/common/formatter/":                                     "access-logs",
	"source/extensions/formatter/":                                 "access-logs",
	"source/common/runtime/":                                       "runtime",
	"source/server/overload_manager":                               "overload",
	"source/server/resource_monitor":                               "overload",
	"source/extensions/resource_monitors/":                         "overload",
	"source/common/memory/":                                        "overload",
	"source/server/guarddog":                                       "watchdog",
	"source/server/watchdog":                                       "watchdog",
	"source/common/watchdog/":                                      "watchdog",
	"source/extensions/watchdog/":                                  "watchdog",
	"source/extensions/fatal_actions/":                             "watchdog",
	"source/server/":                                               "bootstrap",
	"source/common/local_info/":                                    "bootstrap",
	"source/common/init/":                                          "bootstrap",
	"source/extensions/bootstrap/":                                 "bootstrap",
	"source/common/config/":                                        "xds",
	"source/common/grpc/":                                          "xds",
	"source/extensions/config_subscription/":                       "xds",
	"source/extensions/config/":                                    "xds",
	"source/extensions/grpc_credentials/":                          "xds",
	"source/common/protobuf/":                                      "core",
	"source/common/json/":                                          "core",
	"source/common/common/":                                        "core",
	"source/common/filesystem/":                                    "core",
	"source/common/matcher/":                                       "core",
	"source/common/filter/":                                        "core",
	"source/extensions/matching/":                                  "core",
	"source/extensions/common/matcher/":                            "core",
	"source/extensions/string_matcher/":                            "core",
	"source/extensions/key_value/":                                 "core",
	"source/extensions/dynamic_modules/":                           "core",
}

// FamilyOf returns the family of an Envoy source file (a path starting "source/"), "" when it is skipped, and
// "other" when no prefix claims it.
func FamilyOf(path string) string {
	for _, s := range Skipped {
		if strings.HasPrefix(path, s) {
			return ""
		}
	}
	best, fam := -1, "other"
	for prefix, f := range familyOf {
		if strings.HasPrefix(path, prefix) && len(prefix) > best {
			best, fam = len(prefix), f
		}
	}
	return fam
}

// coreMessages names the API message that the core (non-extension) files configure, by path prefix (the longest
// match wins); extension files are named by their extension instead.
var coreMessages = map[string]string{
	"source/common/upstream/":                         "envoy.config.cluster.v3.Cluster",
	"source/common/upstream/health_checker":           "envoy.config.core.v3.HealthCheck",
	"source/common/upstream/outlier_detection":        "envoy.config.cluster.v3.OutlierDetection",
	"source/common/upstream/cluster_manager":          "envoy.config.bootstrap.v3.ClusterManager",
	"source/common/listener_manager/":                 "envoy.config.listener.v3.Listener",
	"source/common/listener_manager/filter_chain":     "envoy.config.listener.v3.FilterChain",
	"source/common/network/address":                   "envoy.config.core.v3.Address",
	"source/common/network/resolver":                  "envoy.config.core.v3.SocketAddress",
	"source/common/network/cidr":                      "envoy.config.core.v3.CidrRange",
	"source/common/network/socket_option":             "envoy.config.core.v3.SocketOption",
	"source/common/http/":                             "envoy.config.core.v3.HttpProtocolOptions",
	"source/common/http/conn_manager":                 "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
	"source/common/router/":                           "envoy.config.route.v3.RouteConfiguration",
	"source/common/router/header_parser":              "envoy.config.core.v3.HeaderValueOption",
	"source/common/router/retry":                      "envoy.config.route.v3.RetryPolicy",
	"source/common/tls/":                              "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext",
	"source/common/tls/server_context":                "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
	"source/common/tls/client_context":                "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
	"source/common/ssl/":                              "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext",
	"source/common/secret/":                           "envoy.extensions.transport_sockets.tls.v3.Secret",
	"source/common/stats/":                            "envoy.config.metrics.v3.StatsConfig",
	"source/common/tracing/":                          "envoy.config.trace.v3.Tracing",
	"source/common/access_log/":                       "envoy.config.accesslog.v3.AccessLog",
	"source/common/formatter/":                        "envoy.config.core.v3.SubstitutionFormatString",
	"source/common/runtime/":                          "envoy.config.bootstrap.v3.LayeredRuntime",
	"source/server/overload_manager":                  "envoy.config.overload.v3.OverloadManager",
	"source/server/guarddog":                          "envoy.config.bootstrap.v3.Watchdog",
	"source/server/":                                  "envoy.config.bootstrap.v3.Bootstrap",
	"source/server/admin/":                            "envoy.config.bootstrap.v3.Admin",
	"source/common/config/":                           "envoy.config.core.v3.ConfigSource",
	"source/common/config/datasource":                 "envoy.config.core.v3.DataSource",
	"source/common/grpc/":                             "envoy.config.core.v3.GrpcService",
	"source/common/protobuf/":                         "(any message)",
	"source/common/common/regex":                      "envoy.type.matcher.v3.RegexMatcher",
	"source/common/common/matchers":                   "envoy.type.matcher.v3.StringMatcher",
	"source/common/matcher/":                          "xds.type.matcher.v3.Matcher",
	"source/common/tcp_proxy/":                        "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
	"source/common/local_reply/":                      "envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig",
	"source/common/local_info/":                       "envoy.config.core.v3.Node",
	"source/common/orca/":                             "envoy.config.cluster.v3.Cluster (ORCA)",
	"source/extensions/common/dynamic_forward_proxy/": "envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig",
}

// CoreMessage returns the API message a core file configures, or "".
func CoreMessage(path string) string {
	best, msg := -1, ""
	for prefix, m := range coreMessages {
		if strings.HasPrefix(path, prefix) && len(prefix) > best {
			best, msg = len(prefix), m
		}
	}
	return msg
}

// AssignedFamilies lists the families FamilyOf can return.
func AssignedFamilies() []string {
	seen := map[string]bool{"other": true}
	out := []string{"other"}
	for _, f := range familyOf {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
