package validate

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// resolveType finds the message type an Any or TypedStruct names. Besides types this binary does not know, it
// refuses types of Envoy's v2 API: go-control-plane still ships them, but Envoy removed v2 support in 1.18 and
// rejects them in a typed_config (no extension accepts them).
func resolveType(url string) (protoreflect.MessageType, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		if legacyEnvoyName(url[strings.LastIndexByte(url, '/')+1:]) {
			return nil, fmt.Errorf("unknown type %q: it belongs to Envoy's removed v2 API; use the v3 type", url)
		}
		return nil, fmt.Errorf("unknown type %q: not in the Envoy API this build knows "+
			"(removed, misspelt, or a contrib-only extension)", url)
	}
	if legacyEnvoyType(mt.Descriptor()) {
		return nil, fmt.Errorf("unknown type %q: it belongs to Envoy's removed v2 API; use the v3 type", url)
	}
	return mt, nil
}

// legacyEnvoyType reports a message of a pre-v3 Envoy API package: every current Envoy package ends in a v3
// version segment (v3, v3alpha); v2, v2alpha, v1alpha1 and unversioned ones (envoy.api.v2.core, envoy.type) are
// the old API.
func legacyEnvoyType(md protoreflect.MessageDescriptor) bool {
	return legacyEnvoyName(string(md.ParentFile().Package()) + ".")
}

// legacyEnvoyName applies legacyEnvoyType's rule to a full message name; the v2 packages are not
// even linked (scripts/gen-extensions.sh), so unknown names are classified by their spelling.
func legacyEnvoyName(full string) bool {
	pkg := full
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		pkg = full[:i]
	}
	if !strings.HasPrefix(pkg, "envoy.") {
		return false
	}
	last := pkg[strings.LastIndexByte(pkg, '.')+1:]
	return !strings.HasPrefix(last, "v3")
}
