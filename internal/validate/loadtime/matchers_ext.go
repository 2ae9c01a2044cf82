//go:build !appnet_lean

package loadtime

import (
	"strings"

	consistenthashingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/input_matchers/consistent_hashing/v3"
	luamatcherv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/string_matcher/lua/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.matching.input_matchers.consistent_hashing.v3.ConsistentHashing", consistentHashingThreshold)
	register("envoy.extensions.string_matcher.lua.v3.Lua", luaStringMatcherFunction)
}

// consistentHashingThreshold: the threshold is at most the modulo.
// Envoy: source/extensions/matching/input_matchers/consistent_hashing/config.cc:17 [core-efe124c3] — "threshold
// cannot be greater than modulo: <t> > <m>".
func consistentHashingThreshold(c *Context, m protoreflect.Message) {
	if h, ok := m.Interface().(*consistenthashingv3.ConsistentHashing); ok && h.GetThreshold() > h.GetModulo() {
		c.envoyf(c.at("threshold"), "source/extensions/matching/input_matchers/consistent_hashing/config.cc",
			"threshold cannot be greater than modulo: %d > %d", h.GetThreshold(), h.GetModulo())
	}
}

// luaStringMatcherFunction: the Lua string matcher calls the global function envoy_match, which inline code must
// define (code that never names it cannot).
// Envoy: source/extensions/string_matcher/lua/match.cc:32 [core-ab78e46e] (LuaStringMatcher) — "Lua code did not
// contain a global function named 'envoy_match'".
func luaStringMatcherFunction(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*luamatcherv3.Lua)
	if !ok {
		return
	}
	if code := l.GetSourceCode().GetInlineString(); code != "" && !strings.Contains(code, "envoy_match") {
		c.envoyf(c.at("source_code.inline_string"), "source/extensions/string_matcher/lua/match.cc",
			"Lua code did not contain a global function named 'envoy_match'")
	}
}
