//go:build !appnet_lean

package loadtime

import (
	"maps"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	clusterluav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/router/cluster_specifiers/lua/v3"
	matcherluav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/string_matcher/lua/v3"
	"github.com/yuin/gopher-lua/parse"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Lua rules: inline Lua code must parse. Envoy loads every script when it builds the filter (luaL_dostring), so a
// syntax error stops the configuration. gopher-lua's parser reads Lua 5.1, the language of Envoy's LuaJIT (LuaJIT's
// own literal extensions, such as 1LL, are not understood by it and would be reported).
// Envoy: source/extensions/filters/common/lua/lua.cc — "script load error: <Lua's message>".

const luaSource = "source/extensions/filters/common/lua/lua.cc"

func init() {
	register("envoy.extensions.filters.http.lua.v3.Lua", luaFilterCode)
	register("envoy.extensions.filters.http.lua.v3.LuaPerRoute", luaPerRouteCode)
	register("envoy.extensions.router.cluster_specifiers.lua.v3.LuaConfig", luaClusterSpecifierCode)
	register("envoy.extensions.string_matcher.lua.v3.Lua", luaStringMatcherCode)
}

// luaSyntax is how a Lua syntax error is reported: where Envoy loads the code and the text it puts before Lua's
// message.
type luaSyntax struct{ source, prefix string }

var (
	luaScript = luaSyntax{luaSource, "script load error: "}
	// Envoy: source/extensions/string_matcher/lua/match.cc:26 [core-b951612a] — "Failed to load lua code in Lua
	// StringMatcher:<Lua's message>".
	luaMatcher = luaSyntax{"source/extensions/string_matcher/lua/match.cc", "Failed to load lua code in Lua StringMatcher:"}
)

func (c *Context) luaCode(path, code string, how luaSyntax) {
	if strings.TrimSpace(code) == "" {
		return
	}
	if line := luaTooDeep(code, luaMaxLevels-2); line > 0 {
		c.envoyf(path, luaSource, "script load error: line %d: chunk has too many syntax levels (LuaJIT nests at most %d expressions and blocks)", line, luaMaxLevels)
		return
	}
	if _, err := parse.Parse(strings.NewReader(code), "script"); err != nil {
		c.envoyf(path, how.source, "%s%s", how.prefix, strings.TrimSpace(err.Error()))
	}
}

func (c *Context) luaSource(path string, ds *corev3.DataSource, how luaSyntax) {
	if s := ds.GetInlineString(); s != "" {
		c.luaCode(path+".inline_string", s, how)
	} else if b := ds.GetInlineBytes(); len(b) > 0 {
		c.luaCode(path+".inline_bytes", string(b), how)
	}
}

// luaFilterCode: the filter's default code is inline_code or default_source_code, not both, and every script
// parses.
// Envoy: source/extensions/filters/http/lua/lua_filter.cc:839 [http-filters-fe843d3b] — "Error: Only one of
// `inline_code` or `default_source_code` can be set for the Lua filter.".
func luaFilterCode(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*luav3.Lua)
	if !ok {
		return
	}
	if l.GetInlineCode() != "" && l.GetDefaultSourceCode() != nil {
		c.envoyf(c.at("default_source_code"), "source/extensions/filters/http/lua/lua_filter.cc",
			"Error: Only one of `inline_code` or `default_source_code` can be set for the Lua filter.")
	}
	c.luaCode(c.at("inline_code"), l.GetInlineCode(), luaScript)
	c.luaSource(c.at("default_source_code"), l.GetDefaultSourceCode(), luaScript)
	for _, name := range slices.Sorted(maps.Keys(l.GetSourceCodes())) {
		c.luaSource(c.at("source_codes")+"[\""+name+"\"]", l.GetSourceCodes()[name], luaScript)
	}
}

func luaPerRouteCode(c *Context, m protoreflect.Message) {
	if l, ok := m.Interface().(*luav3.LuaPerRoute); ok {
		c.luaSource(c.at("source_code"), l.GetSourceCode(), luaScript)
	}
}

func luaClusterSpecifierCode(c *Context, m protoreflect.Message) {
	if l, ok := m.Interface().(*clusterluav3.LuaConfig); ok {
		c.luaSource(c.at("source_code"), l.GetSourceCode(), luaScript)
	}
}

func luaStringMatcherCode(c *Context, m protoreflect.Message) {
	if l, ok := m.Interface().(*matcherluav3.Lua); ok {
		c.luaSource(c.at("source_code"), l.GetSourceCode(), luaMatcher)
	}
}
