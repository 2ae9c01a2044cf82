//go:build !appnet_lean

package loadtime

import (
	"maps"
	"slices"
	"strings"

	asyncfilesv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/async_files/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cache/v3"
	cachev2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cache_v2/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	fscachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/cache/file_system_http_cache/v3"
	fscachev2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/cache_v2/file_system_http_cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Extensions that HTTP filters look up themselves by config type (compression libraries, caches), the cache
// filters' settings, and the shared instances Envoy keeps per key (async file managers by id, file system caches by
// path), which one bootstrap must configure alike.

const (
	compressorSource     = "source/extensions/filters/http/compressor/config.cc"
	cacheSource          = "source/extensions/filters/http/cache/config.cc"
	cacheV2Source        = "source/extensions/filters/http/cache_v2/config.cc"
	asyncFileSource      = "source/extensions/common/async_files/async_file_manager_factory.cc"
	fileCacheSource      = "source/extensions/http/cache/file_system_http_cache/config.cc"
	fileCacheV2Source    = "source/extensions/http/cache_v2/file_system_http_cache/config.cc"
	registeredTypeFormat = "Didn't find a registered implementation for type: '%s'"
)

// cacheSlotWordings join slotWordings (categories.go) for the slots of the filters below.
// Envoy: source/extensions/filters/http/compressor/config.cc:27, decompressor/config.cc:23, cache/config.cc:22,
// cache_v2/config.cc:24 [http-filters-51c9dba4] [http-filters-9bb822bf] [http-filters-more-a0dbd228]
// [http-filters-more-e50da723] — "Didn't find a registered implementation for type: '<type>'".
var cacheSlotWordings = map[protoreflect.FullName]map[protoreflect.Name]slotWording{
	"envoy.extensions.filters.http.compressor.v3.Compressor": {"compressor_library": {source: compressorSource, format: registeredTypeFormat}},
	"envoy.extensions.filters.http.decompressor.v3.Decompressor": {"decompressor_library": {
		source: "source/extensions/filters/http/decompressor/config.cc", format: registeredTypeFormat}},
	"envoy.extensions.filters.http.cache.v3.CacheConfig": {"typed_config": {source: cacheSource, format: registeredTypeFormat,
		skip: func(m protoreflect.Message) bool {
			return m.Interface().(*cachev3.CacheConfig).GetDisabled().GetValue()
		}}},
	"envoy.extensions.filters.http.cache_v2.v3.CacheV2Config": {"typed_config": {source: cacheV2Source, format: registeredTypeFormat,
		skip: func(m protoreflect.Message) bool {
			return m.Interface().(*cachev2v3.CacheV2Config).GetDisabled().GetValue()
		}}},
}

func init() {
	maps.Copy(slotWordings, cacheSlotWordings)
	register("envoy.extensions.filters.http.compressor.v3.CompressorPerRoute", compressorPerRouteLibrary)
	register("envoy.extensions.filters.http.cache.v3.CacheConfig", cacheStorage)
	register("envoy.extensions.filters.http.cache_v2.v3.CacheV2Config", cacheStorage)
	register("envoy.extensions.common.async_files.v3.AsyncFileManagerConfig", asyncFileManagerShared)
	register("envoy.extensions.http.cache.file_system_http_cache.v3.FileSystemHttpCacheConfig", fileCacheShared)
	register("envoy.extensions.http.cache_v2.file_system_http_cache.v3.FileSystemHttpCacheV2Config", fileCacheShared)
}

// compressorPerRouteLibrary: a route's compressor library override is a compression library.
// Envoy: source/extensions/filters/http/compressor/config.cc:56 [http-filters-8e47c2ec] — "Didn't find a registered
// implementation for per-route compressor type: '<type>'".
func compressorPerRouteLibrary(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*compressorv3.CompressorPerRoute)
	lib := p.GetOverrides().GetCompressorLibrary()
	if !ok || lib == nil {
		return
	}
	typ := extensionType(lib.GetTypedConfig().ProtoReflect())
	info, known := extensionOf(typ)
	if known && !slices.Contains(info.categories, "envoy.compression.compressor") {
		c.envoyf(c.at("overrides.compressor_library.typed_config"), compressorSource, "Didn't find a registered implementation "+
			"for per-route compressor type: '%s': that type configures %s, not a compression library", typ, info.name)
	}
}

// cacheStorage: an enabled cache filter names its cache.
// Envoy: source/extensions/filters/http/cache/config.cc:16, cache_v2/config.cc:18 [http-filters-more-e1ff3cfe]
// [http-filters-more-54323122] — "at least one of typed_config or disabled must be set".
func cacheStorage(c *Context, m protoreflect.Message) {
	source := cacheSource
	var disabled, typed bool
	switch f := m.Interface().(type) {
	case *cachev3.CacheConfig:
		disabled, typed = f.GetDisabled().GetValue(), f.GetTypedConfig() != nil
	case *cachev2v3.CacheV2Config:
		disabled, typed, source = f.GetDisabled().GetValue(), f.GetTypedConfig() != nil, cacheV2Source
	default:
		return
	}
	if !disabled && !typed {
		c.envoyf(c.Path(), source, "at least one of typed_config or disabled must be set")
	}
}

// asyncFileManagerShared: Envoy keeps one async file manager per id, so every config of an id is the same
// (compared as protobuf's MessageDifferencer::Equivalent does).
// Envoy: source/extensions/common/async_files/async_file_manager_factory.cc:70 [http-filters-more-4be1de07] —
// "AsyncFileManager mismatched config".
func asyncFileManagerShared(c *Context, m protoreflect.Message) {
	a, ok := m.Interface().(*asyncfilesv3.AsyncFileManagerConfig)
	if !ok || cacheDisabled(c.Ancestor("envoy.extensions.filters.http.cache.v3.CacheConfig")) ||
		cacheDisabled(c.Ancestor("envoy.extensions.filters.http.cache_v2.v3.CacheV2Config")) {
		return // a disabled cache filter creates no cache, and so no file manager
	}
	s := &c.http
	first, seen := s.fileManagers[a.GetId()]
	if !seen {
		if s.fileManagers == nil {
			s.fileManagers = map[string]protoreflect.Message{}
		}
		s.fileManagers[a.GetId()] = m
		return
	}
	if !equivalent(first, m) {
		c.envoyf(c.Path(), asyncFileSource, "AsyncFileManager mismatched config: async file manager '%s' is configured "+
			"differently elsewhere (one id, one config)", a.GetId())
	}
}

// fileCacheShared: Envoy keeps one file system cache per cache_path (with a trailing "/"), so every enabled cache
// filter using a path configures it the same way.
// Envoy: source/extensions/http/cache/file_system_http_cache/config.cc:69, cache_v2/file_system_http_cache/
// config.cc:75 [http-filters-more-edd6f7c7] [http-filters-more-2a0f5714] — "mismatched FileSystemHttpCacheConfig
// with same path <config> vs. <config>" (V2 likewise).
func fileCacheShared(c *Context, m protoreflect.Message) {
	var normalized proto.Message
	var path, kind, source string
	switch f := m.Interface().(type) {
	case *fscachev3.FileSystemHttpCacheConfig:
		if cacheDisabled(c.Ancestor("envoy.extensions.filters.http.cache.v3.CacheConfig")) {
			return
		}
		n := proto.Clone(f).(*fscachev3.FileSystemHttpCacheConfig)
		n.CachePath = withTrailingSlash(n.GetCachePath())
		normalized, path, kind, source = n, n.GetCachePath(), "FileSystemHttpCacheConfig", fileCacheSource
	case *fscachev2v3.FileSystemHttpCacheV2Config:
		if cacheDisabled(c.Ancestor("envoy.extensions.filters.http.cache_v2.v3.CacheV2Config")) {
			return
		}
		n := proto.Clone(f).(*fscachev2v3.FileSystemHttpCacheV2Config)
		n.CachePath = withTrailingSlash(n.GetCachePath())
		normalized, path, kind, source = n, n.GetCachePath(), "FileSystemHttpCacheV2Config", fileCacheV2Source
	default:
		return
	}
	s := &c.http
	key := kind + "\x00" + path
	first, seen := s.fileCaches[key]
	if !seen {
		if s.fileCaches == nil {
			s.fileCaches = map[string]proto.Message{}
		}
		s.fileCaches[key] = normalized
		return
	}
	if !proto.Equal(first, normalized) {
		c.envoyf(c.Path(), source, "mismatched %s with same path %s: another cache filter configures this cache_path "+
			"differently (one path, one config)", kind, path)
	}
}

// cacheDisabled reports whether the cache filter holding a cache config turns it off (Envoy then creates no cache).
func cacheDisabled(filter protoreflect.Message) bool {
	if filter == nil {
		return false
	}
	d, ok := filter.Interface().(interface{ GetDisabled() *wrapperspb.BoolValue })
	return ok && d.GetDisabled().GetValue()
}

func withTrailingSlash(p string) string {
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "\\") {
		return p
	}
	return p + "/"
}
