package loadtime

import (
	"strconv"
	"strings"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Match tree rules of source/common/matcher and source/extensions/common/matcher: the domain (server name) custom
// matcher's domains, the data type an input hands to its matcher, and keep_matching where the tree's owner refuses
// it. The owners below build (instantiate) their trees while the configuration loads, so a tree that fails to
// build fails the load.

func init() {
	register("xds.type.matcher.v3.ServerNameMatcher", serverNameDomains)
	register("envoy.config.route.v3.VirtualHost", routeTableMatchTree)
}

// serverNameDomains: the domain matcher takes each domain once, as an exact name, "*" or "*.<suffix>".
// Envoy: source/extensions/common/matcher/domain_matcher.h:198 [core-f6a21c83], :218 [core-df1375b1], :226
// [core-696fdb20], :233 [core-c7d850f5] (validateConfiguration, validateDomainFormat) — "Duplicate domain in
// ServerNameMatcher: <domain>", "Empty domain in ServerNameMatcher", "Invalid wildcard domain format: <domain>. Only
// '*' and '*.domain' patterns are supported", "... Multiple wildcards are not supported". The check came with the
// matcher itself (envoyproxy/envoy#39884), so an Envoy without it refuses the type anyway.
func serverNameDomains(c *Context, m protoreflect.Message) {
	s, ok := m.Interface().(*xdsmatcherv3.ServerNameMatcher)
	if !ok {
		return
	}
	const src = "source/extensions/common/matcher/domain_matcher.h"
	seen := map[string]bool{}
	for i, dm := range s.GetDomainMatchers() {
		for j, d := range dm.GetDomains() {
			p := index(index(c.at("domain_matchers"), i)+".domains", j)
			msg := ""
			switch {
			case seen[d]:
				msg = "Duplicate domain in ServerNameMatcher: " + d
			case d == "*":
			case d == "":
				msg = "Empty domain in ServerNameMatcher"
			case strings.IndexByte(d, '*') > 0 || (strings.IndexByte(d, '*') == 0 && (len(d) < 3 || d[1] != '.')):
				msg = "Invalid wildcard domain format: " + d + ". Only '*' and '*.domain' patterns are supported"
			case strings.IndexByte(d, '*') == 0 && strings.IndexByte(d[1:], '*') >= 0:
				msg = "Invalid wildcard domain format: " + d + ". Multiple wildcards are not supported"
			}
			seen[d] = true
			if msg != "" {
				c.envoyf(p, src, "%s", msg) // Envoy stops at the first bad domain
				return
			}
		}
	}
}

// Data input types. Every input hands its matcher a string, except these (their dataInputType overrides in
// source/extensions/matching/http/cel_input and .../dynamic_modules), and every input matcher takes strings only,
// except these (supportsDataInputType in source/extensions/matching/input_matchers/{cel_matcher,dynamic_modules}).
var (
	nonStringInputs = staticTable[string, string]{
		{"xds.type.matcher.v3.HttpAttributesCelMatchInput", "cel_data_input"},
		{"envoy.extensions.matching.http.dynamic_modules.v3.HttpDynamicModuleMatchInput", "dynamic_module_data_input"},
	}
	nonStringMatchers = staticTable[string, string]{
		{"xds.type.matcher.v3.CelMatcher", "cel_data_input"},
		{"envoy.extensions.matching.input_matchers.dynamic_modules.v3.DynamicModuleMatcher", "dynamic_module_data_input"},
	}
)

// dataTypeOfInput returns the data type a data input of the given config type produces: "" when unknown.
func dataTypeOfInput(typ string) string {
	if t, ok := nonStringInputs.get(typ); ok {
		return t
	}
	if info, ok := extensionOf(typ); ok {
		for _, cat := range info.categories {
			if strings.HasSuffix(cat, ".input") || cat == "envoy.matching.common_inputs" {
				return "string"
			}
		}
	}
	return ""
}

// dataTypeOfMatcher returns the one data type an input matcher of the given config type accepts: "" when unknown.
func dataTypeOfMatcher(typ string) string {
	if t, ok := nonStringMatchers.get(typ); ok {
		return t
	}
	if info, ok := extensionOf(typ); ok {
		for _, cat := range info.categories {
			if cat == "envoy.matching.input_matchers" {
				return "string"
			}
		}
	}
	return ""
}

// matchInputTypes checks, in the xDS match tree at path, that each predicate's input hands its matcher data of the
// type the matcher takes, and that a matcher_tree's input is a string (maps, the domain and the IP range matcher
// take nothing else). Nested trees under on_match are checked too; a custom matcher's own subtrees are left alone.
// Envoy: source/common/matcher/field_matcher.h:130 [core-680703e7] (SingleFieldMatcher::create) — "Unsupported data
// input type: <type>"; map_matcher.h:49 [core-5162e47f]; source/extensions/common/matcher/domain_matcher.h:121
// [core-ccece5fb]; ip_range_matcher.h:68 [core-8620ac74] — "Unsupported data input type: <type>, currently only
// string type is supported in map|domain|IP range matcher".
func (c *Context) matchInputTypes(path func() string, m *xdsmatcherv3.Matcher) {
	if m == nil {
		return
	}
	onMatch := func(p func() string, om *xdsmatcherv3.Matcher_OnMatch) {
		c.matchInputTypes(func() string { return p() + ".matcher" }, om.GetMatcher())
	}
	for i, fm := range m.GetMatcherList().GetMatchers() {
		p := func() string { return index(path()+".matcher_list.matchers", i) }
		c.predicateInputTypes(func() string { return p() + ".predicate" }, fm.GetPredicate())
		onMatch(func() string { return p() + ".on_match" }, fm.GetOnMatch())
	}
	if tree := m.GetMatcherTree(); tree != nil {
		in := dataTypeOfInput(extensionType(tree.GetInput().GetTypedConfig().ProtoReflect()))
		if in != "" && in != "string" {
			const common = "source/common/matcher/map_matcher.h"
			src, what := common, "map matcher"
			switch extensionType(tree.GetCustomMatch().GetTypedConfig().ProtoReflect()) {
			case "xds.type.matcher.v3.ServerNameMatcher":
				src, what = "source/extensions/common/matcher/domain_matcher.h", "domain matcher"
			case "xds.type.matcher.v3.IPMatcher":
				src, what = "source/extensions/common/matcher/ip_range_matcher.h", "IP range matcher"
			case "":
			default:
				src = "" // another custom matcher: its own rules
			}
			if src != "" {
				c.envoyf(path()+".matcher_tree.input", src, "Unsupported data input type: %s, currently only string type "+
					"is supported in %s", in, what)
			}
		}
		for _, mm := range []struct {
			field string
			m     *xdsmatcherv3.Matcher_MatcherTree_MatchMap
		}{{"exact_match_map", tree.GetExactMatchMap()}, {"prefix_match_map", tree.GetPrefixMatchMap()}} {
			for _, key := range sortedKeys(mm.m.GetMap()) {
				onMatch(func() string { return path() + ".matcher_tree." + mm.field + ".map[" + strconv.Quote(key) + "]" }, mm.m.GetMap()[key])
			}
		}
	}
	onMatch(func() string { return path() + ".on_no_match" }, m.GetOnNoMatch())
}

func (c *Context) predicateInputTypes(path func() string, p *xdsmatcherv3.Matcher_MatcherList_Predicate) {
	if p == nil {
		return
	}
	if sp := p.GetSinglePredicate(); sp != nil {
		in := dataTypeOfInput(extensionType(sp.GetInput().GetTypedConfig().ProtoReflect()))
		takes := "string" // value_match: a string matcher
		if cm := sp.GetCustomMatch(); cm != nil {
			takes = dataTypeOfMatcher(extensionType(cm.GetTypedConfig().ProtoReflect()))
		}
		if in != "" && takes != "" && in != takes {
			c.envoyf(path()+".single_predicate.input", "source/common/matcher/field_matcher.h",
				"Unsupported data input type: %s (the predicate's matcher takes %s data)", in, takes)
		}
	}
	for i, sub := range p.GetOrMatcher().GetPredicate() {
		c.predicateInputTypes(func() string { return index(path()+".or_matcher.predicate", i) }, sub)
	}
	for i, sub := range p.GetAndMatcher().GetPredicate() {
		c.predicateInputTypes(func() string { return index(path()+".and_matcher.predicate", i) }, sub)
	}
	c.predicateInputTypes(func() string { return path() + ".not_matcher" }, p.GetNotMatcher())
}

// routeTableMatchTree: a virtual host's match tree is built with the route table (config_impl.cc:1782); its inputs
// must suit their matchers, and its branches do not keep matching.
// Envoy: source/common/matcher/validation_visitor.h:37 [core-4331077b] — "keep_matching is not supported in this
// context", reported by source/common/router/config_impl.cc:1786 as "requirement violation while creating route
// match tree: <it>".
func routeTableMatchTree(c *Context, m protoreflect.Message) {
	vh, ok := m.Interface().(*routev3.VirtualHost)
	if !ok || vh.GetMatcher() == nil {
		return
	}
	c.matchInputTypes(func() string { return c.at("matcher") }, vh.GetMatcher())
	c.matchTree(vh.GetMatcher().ProtoReflect(), func() string { return c.at("matcher") }, func(t matchTreeFinding) {
		if t.keepMatching {
			c.envoyf(t.path(), "source/common/matcher/validation_visitor.h", "requirement violation while creating "+
				"route match tree: keep_matching is not supported in this context")
		}
	})
}
