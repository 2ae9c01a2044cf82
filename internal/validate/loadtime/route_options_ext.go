//go:build !appnet_lean

package loadtime

import (
	"strings"

	exprv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/rate_limit_descriptors/expr/v3"
	clusterluav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/router/cluster_specifiers/lua/v3"
	"github.com/yuin/gopher-lua/parse"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.rate_limit_descriptors.expr.v3.Descriptor", exprDescriptor)
	register("envoy.extensions.router.cluster_specifiers.lua.v3.LuaConfig", luaClusterSpecifierHook)
}

// exprDescriptor: an expression descriptor has its expression.
// Envoy: source/extensions/rate_limit_descriptors/expr/config.cc:94 [routes-9ceea8f5] — "Rate limit descriptor
// extension failed: expression specifier is not set".
func exprDescriptor(c *Context, m protoreflect.Message) {
	if d, ok := m.Interface().(*exprv3.Descriptor); ok && d.GetExprSpecifier() == nil {
		c.envoyf(c.Path(), "source/extensions/rate_limit_descriptors/expr/config.cc",
			"Rate limit descriptor extension failed: expression specifier is not set (set text or parsed)")
	}
}

// luaClusterSpecifierHook: a Lua cluster specifier's code defines the global function envoy_on_route. Code that
// never names it cannot define it, unless it reaches the globals by other means (_G, setfenv, rawset, load...),
// which this rule leaves alone; code that does not parse is reported by the Lua rules.
// Envoy: source/extensions/router/cluster_specifiers/lua/lua_cluster_specifier.cc:21 [routes-a8109566] —
// "envoy_on_route() function not found. Lua will not hook cluster specifier."
func luaClusterSpecifierHook(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*clusterluav3.LuaConfig)
	if !ok {
		return
	}
	code, ok := inlineText(l.GetSourceCode())
	if !ok || strings.Contains(code, "envoy_on_route") {
		return
	}
	if _, err := parse.Parse(strings.NewReader(code), "script"); err != nil {
		return
	}
	for _, dynamic := range []string{"_G", "setfenv", "getfenv", "rawset", "load", "require", "dofile"} {
		if strings.Contains(code, dynamic) {
			return
		}
	}
	c.envoyf(c.at("source_code"), "source/extensions/router/cluster_specifiers/lua/lua_cluster_specifier.cc",
		"envoy_on_route() function not found. Lua will not hook cluster specifier.")
}
