package loadtime

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Matchers and extension config sources: source/common/common/matchers.cc, the input matcher and string matcher
// extensions, and source/common/filter/config_discovery_impl.cc.

func init() {
	register("envoy.type.matcher.v3.StringMatcher", stringMatcherIgnoreCase)
	register("envoy.config.core.v3.ExtensionConfigSource", extensionConfigDefaultType)
}

// stringMatcherIgnoreCase: a regular expression has its own case-insensitivity ((?i)); ignore_case is refused.
// Envoy: source/common/common/matchers.cc:48 [core-f38b3a0e] (StringMatcherImpl::createVariant) — "ignore_case has
// no effect for safe_regex."
func stringMatcherIgnoreCase(c *Context, m protoreflect.Message) {
	if s, ok := m.Interface().(*matcherv3.StringMatcher); ok && s.GetIgnoreCase() && s.GetSafeRegex() != nil {
		c.envoyf(c.at("ignore_case"), "source/common/common/matchers.cc", "ignore_case has no effect for safe_regex. (use (?i) in the regex)")
	}
}

// extensionConfigDefaultType: an extension config source's default configuration is of one of the types it
// accepts.
// Envoy: source/common/filter/config_discovery_impl.cc:23 [core-4949e02f] (validateTypeUrlHelper) — "Error: filter
// config has type URL <t> but expect <types>."
func extensionConfigDefaultType(c *Context, m protoreflect.Message) {
	e, ok := m.Interface().(*corev3.ExtensionConfigSource)
	if !ok || e.GetDefaultConfig() == nil || len(e.GetTypeUrls()) == 0 || c.Ancestor("envoy.config.listener.v3.Listener") == nil {
		return
	}
	typ := extensionType(e.GetDefaultConfig().ProtoReflect())
	want := make([]string, 0, len(e.GetTypeUrls()))
	for _, u := range e.GetTypeUrls() {
		if typeName(u) == typ {
			return
		}
		want = append(want, typeName(u))
	}
	c.envoyf(c.at("default_config"), "source/common/filter/config_discovery_impl.cc",
		"Error: filter config has type URL %s but expect %s.", typ, strings.Join(want, ", "))
}
