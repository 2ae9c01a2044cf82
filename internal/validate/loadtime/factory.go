package loadtime

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"
)

// Extension lookups by config type. Envoy finds an extension's factory by the type its typed_config names
// (Registry::FactoryRegistry::getFactoryByType), in the registry of one category only: a type of another category,
// or a message that configures no extension at all, finds nothing. The category layer (categories.go) checks the
// annotated slots; the helpers here serve the lookups the API does not annotate, or whose message is the caller's.

// noFactory reports whether Envoy finds no factory of the categories cats for the config type typ (a full message
// name). It answers true only when sure: the type configures extensions of other categories, or it is one of
// protobuf's own messages, which configure no extension. A type the extension table does not know otherwise
// (contrib, or an extension newer than the table) gets the benefit of the doubt.
func noFactory(typ string, cats ...string) bool {
	if info, ok := extensionOf(typ); ok {
		categories := info.categories
		if narrow, ok := directionalTypes.get(typ); ok {
			categories = narrow
		}
		for _, cat := range categories {
			if slices.Contains(cats, cat) {
				return false
			}
		}
		return true
	}
	return notAnExtension(typ)
}

// notAnExtension reports messages that configure no extension although they decode: protobuf's well-known types
// and the TypedStruct wrappers (when a lookup does not look through them). Envoy's own API messages are not
// listed: some are extension configs without an extension of their own (envoy.config.route.v3.CorsPolicy is the
// CORS filter's per-route config).
func notAnExtension(typ string) bool {
	return strings.HasPrefix(typ, "google.protobuf.") || typ == "xds.type.v3.TypedStruct" || typ == "udpa.type.v1.TypedStruct"
}

// typedNoFactory is noFactory for an Any, looking through a TypedStruct as Config::Utility::getFactoryByType does.
func typedNoFactory(a *anypb.Any, cats ...string) (typ string, missing bool) {
	if a == nil {
		return "", false
	}
	typ = extensionType(a.ProtoReflect())
	return typ, noFactory(typ, cats...)
}

// rawNoFactory is noFactory for a type URL looked up as it is (TypeUtil::typeUrlToDescriptorFullName), without
// looking through a TypedStruct: config_discovery's type_urls and the connection balancer's typed_config.
func rawNoFactory(url string, cats ...string) (typ string, missing bool) {
	typ = typeName(url)
	return typ, noFactory(typ, cats...)
}
