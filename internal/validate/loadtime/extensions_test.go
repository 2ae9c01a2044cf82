package loadtime_test

import "testing"

func TestExtensionRules(t *testing.T) { runRules(t, casesExtensionRules()) }

func casesExtensionRules() []ruleCase {
	tap := func(sink, match string) string {
		return "common_config: {static_config: {" + match + "output_config: {sinks: [{" + sink + "}]}}}"
	}
	const file = "file_per_tap: {path_prefix: /tmp/tap}"
	wasm := func(fields string) string {
		return "config: {name: p, vm_config: {runtime: envoy.wasm.runtime.v8, code: {local: {filename: /p.wasm}}}" + withComma(fields) + "}"
	}
	const env = "vm_config: {runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.filter}}, environment_variables: "
	fsCache := func(path, fields string) string {
		return "typed_config: {'@type': type.googleapis.com/envoy.extensions.http.cache.file_system_http_cache.v3.FileSystemHttpCacheConfig, " +
			"manager_config: {id: m, thread_pool: {thread_count: 1}}, cache_path: " + path + withComma(fields) + "}"
	}
	fsCacheV2 := func(path, fields string) string {
		return "typed_config: {'@type': type.googleapis.com/envoy.extensions.http.cache_v2.file_system_http_cache.v3.FileSystemHttpCacheV2Config, " +
			"manager_config: {id: m, thread_pool: {thread_count: 1}}, cache_path: " + path + withComma(fields) + "}"
	}
	const celInput = "{name: cel, typed_config: {'@type': type.googleapis.com/xds.type.matcher.v3.HttpAttributesCelMatchInput}}"
	cel := func(expr string) string {
		return "matcher: {matcher_list: {matchers: [{predicate: {single_predicate: {input: " + celInput + ", custom_match: {name: m, typed_config: {'@type': type.googleapis.com/xds.type.matcher.v3.CelMatcher, expr_match: {" + expr + "}}}}}, on_match: {" + rbacAction + "}}]}}"
	}
	return []ruleCase{
		{"tap to a file", httpFilter(tapFilter, tap(file, "match: {any_match: true}, ")), "", ""},
		{"tap through admin", httpFilter(tapFilter, "common_config: {admin_config: {config_id: t}}"), "", ""},
		{"tap to a file (Envoy's docs)", httpFilter(tapFilter, "common_config: {static_config: {match: {http_response_headers_match: {headers: [{name: bar, string_match: {exact: baz}}]}}, output_config: {streaming: true, sinks: [{format: PROTO_BINARY_LENGTH_DELIMITED, file_per_tap: {path_prefix: /tmp/}}]}}}"), "", ""},
		{"static tap streaming to admin", httpFilter(tapFilter, tap("streaming_admin: {}", "match: {any_match: true}, ")),
			filterAt(tapFilter) + ".common_config.static_config.output_config.sinks[0].streaming_admin", "Error: Specifying admin streaming output without configuring admin."},
		{"static tap buffered to admin", httpFilter(tapFilter, tap("buffered_admin: {max_traces: 1}", "match: {any_match: true}, ")),
			filterAt(tapFilter) + ".common_config.static_config.output_config.sinks[0].buffered_admin", "Output sink type BufferedAdmin requires that the admin output will be configured via admin"},
		{"static tap without match", httpFilter(tapFilter, tap(file, "")),
			filterAt(tapFilter) + ".common_config.static_config", "Neither match nor match_config is set in TapConfig"},
		{"wasm", httpFilter(wasmFilter, wasm("failure_policy: FAIL_RELOAD")), "", ""},
		{"wasm fail open and policy", httpFilter(wasmFilter, wasm("fail_open: true, failure_policy: FAIL_CLOSED")),
			filterAt(wasmFilter) + ".config.failure_policy", "only one of fail_open or failure_policy can be set"},
		{"wasm unknown failure policy", httpFilter(wasmFilter, wasm("failure_policy: 9")),
			filterAt(wasmFilter) + ".config.failure_policy", "unknown failure policy 9"},
		{"wasm environment", httpFilter(wasmFilter, "config: {name: p, "+env+"{host_env_keys: [HOME]}}}"), "", ""},
		{"wasm null vm key values", httpFilter(wasmFilter, "config: {name: p, "+env+"{key_values: {A: b}}}}"),
			filterAt(wasmFilter) + ".config.vm_config.environment_variables.key_values", "envoy.extensions.wasm.v3.VmConfig.EnvironmentVariables.key_values must not be set for NullVm."},
		{"wasm duplicate environment key", httpFilter(wasmFilter, "config: {name: p, vm_config: {runtime: envoy.wasm.runtime.v8, code: {local: {filename: /p.wasm}}, environment_variables: {host_env_keys: [HOME], key_values: {HOME: /root}}}}"),
			filterAt(wasmFilter) + ".config.vm_config.environment_variables.host_env_keys[0]", "Key HOME is duplicated in envoy.extensions.wasm.v3.VmConfig.environment_variables for p. All the keys must be unique."},
		{"lua default source code", httpFilter(luaFilter, "default_source_code: {inline_string: 'function envoy_on_request(h) end'}"), "", ""},
		{"lua inline and default code", httpFilter(luaFilter, "inline_code: 'function envoy_on_request(h) end', default_source_code: {inline_string: 'function envoy_on_request(h) end'}"),
			filterAt(luaFilter) + ".default_source_code", "Error: Only one of `inline_code` or `default_source_code` can be set for the Lua filter."},
		{"compressor", httpFilter(compressor, "compressor_library: "+gzipLib), "", ""},
		{"compressor with a decompressor library", httpFilter(compressor, "compressor_library: {name: gzip, typed_config: {'@type': type.googleapis.com/envoy.extensions.compression.gzip.decompressor.v3.Gzip}}"),
			filterAt(compressor) + ".compressor_library.typed_config", "Didn't find a registered implementation for type: 'envoy.extensions.compression.gzip.decompressor.v3.Gzip'"},
		{"decompressor with a compressor library", httpFilter(decompressor, "decompressor_library: "+gzipLib),
			filterAt(decompressor) + ".decompressor_library.typed_config", "Didn't find a registered implementation for type: 'envoy.extensions.compression.gzip.compressor.v3.Gzip'"},
		{"compressor per route", perRoute(compressorPR, "overrides: {compressor_library: "+gzipLib+"}"), "", ""},
		{"compressor per route with a decompressor library", perRoute(compressorPR, "overrides: {compressor_library: {name: gzip, typed_config: {'@type': type.googleapis.com/envoy.extensions.compression.zstd.decompressor.v3.Zstd}}}"),
			perRouteAt(compressorPR) + ".overrides.compressor_library.typed_config", "Didn't find a registered implementation for per-route compressor type: 'envoy.extensions.compression.zstd.decompressor.v3.Zstd'"},
		{"credential injector with a compressor", httpFilter(injector, "credential: "+gzipLib),
			filterAt(injector) + ".credential.typed_config", "Didn't find a registered implementation for 'gzip' with type URL: 'envoy.extensions.compression.gzip.compressor.v3.Gzip'"},
		{"cache", httpFilter(cacheFilter, "typed_config: {'@type': type.googleapis.com/envoy.extensions.http.cache.simple_http_cache.v3.SimpleHttpCacheConfig}"), "", ""},
		{"cache disabled", httpFilter(cacheFilter, "disabled: true, typed_config: {'@type': type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip}"), "", ""},
		{"cache without storage", httpFilter(cacheFilter, "allowed_vary_headers: [{exact: accept}]"),
			filterAt(cacheFilter), "at least one of typed_config or disabled must be set"},
		{"cache v2 without storage", httpFilter(cacheV2, "disabled: false"),
			filterAt(cacheV2), "at least one of typed_config or disabled must be set"},
		{"cache with a compressor", httpFilter(cacheFilter, "typed_config: {'@type': type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip}"),
			filterAt(cacheFilter) + ".typed_config", "Didn't find a registered implementation for type: 'envoy.extensions.compression.gzip.compressor.v3.Gzip'"},
		{"cache v2 with a compressor", httpFilter(cacheV2, "typed_config: {'@type': type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip}"),
			filterAt(cacheV2) + ".typed_config", "Didn't find a registered implementation for type: 'envoy.extensions.compression.gzip.compressor.v3.Gzip'"},
		{"file caches alike", twoFilters(cacheFilter, fsCache("/tmp/appnet-c", ""), cacheFilter, fsCache("/tmp/appnet-c/", "")), "", ""},
		{"file caches differ", twoFilters(cacheFilter, fsCache("/tmp/appnet-c", ""), cacheFilter, fsCache("/tmp/appnet-c/", "max_cache_size_bytes: 1024")),
			hcmPath + ".http_filters[1].typed_config<CacheConfig>.typed_config<FileSystemHttpCacheConfig>", "mismatched FileSystemHttpCacheConfig with same path /tmp/appnet-c/"},
		{"file v2 caches differ", twoFilters(cacheV2, fsCacheV2("/tmp/appnet-c", ""), cacheV2, fsCacheV2("/tmp/appnet-c", "max_cache_size_bytes: 1024")),
			hcmPath + ".http_filters[1].typed_config<CacheV2Config>.typed_config<FileSystemHttpCacheV2Config>", "mismatched FileSystemHttpCacheV2Config with same path /tmp/appnet-c/"},
		{"file managers differ", twoFilters(cacheFilter, fsCache("/tmp/appnet-a", ""), "envoy.extensions.filters.http.file_system_buffer.v3.FileSystemBufferFilterConfig",
			"manager_config: {id: m, thread_pool: {thread_count: 2}}"),
			hcmPath + ".http_filters[1].typed_config<FileSystemBufferFilterConfig>.manager_config", "AsyncFileManager mismatched config"},
		{"cel matcher", httpFilter(httpRBAC, cel("cel_expr_parsed: {expr: {const_expr: {bool_value: true}}}")), "", ""},
		{"cel matcher without expression", httpFilter(httpRBAC, cel("")),
			filterAt(httpRBAC) + ".matcher.matcher_list.matchers[0].predicate.single_predicate.custom_match.typed_config<CelMatcher>.expr_match",
			"failed to create an expression: CEL expression not set."},
	}
}

func init() { registerCases(casesExtensionRules) }
