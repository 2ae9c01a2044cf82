package loadtime

import (
	"slices"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
)

// Match trees (xds.type.matcher.v3.Matcher and envoy.config.common.matcher.v3.Matcher): Envoy's MatchTreeFactory
// (source/common/matcher/matcher.h) builds them when the filter that holds them is built, and the filter's
// validation visitor vets each data input and each on_match on the way.

// matchTreeFinding is something a filter's validation visitor looks at: a data input, or an on_match that keeps
// matching.
type matchTreeFinding struct {
	path         func() string
	inputURL     string // the type URL of a data input's typed_config
	keepMatching bool
}

// matchTree visits the tree rooted at m (whose path is path) without entering its Anys: actions and inputs are
// extensions with their own rules, and a filter nested in an action has its own tree and visitor.
func (c *Context) matchTree(m protoreflect.Message, path func() string, found func(matchTreeFinding)) {
	md := m.Descriptor()
	if md.Name() == "OnMatch" {
		if fd := md.Fields().ByName("keep_matching"); fd != nil && m.Get(fd).Bool() {
			found(matchTreeFinding{path: func() string { return join(path(), "keep_matching") }, keepMatching: true})
		}
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ { // in declaration order: reports come out in a stable order
		fd := fields.Get(i)
		if fd.Message() == nil || fd.Message().FullName() == "google.protobuf.Any" || !m.Has(fd) {
			continue
		}
		v, name := m.Get(fd), string(fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				continue
			}
			mp := v.Map()
			keys := make([]string, 0, mp.Len())
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k.String())
				return true
			})
			slices.Sort(keys)
			for _, k := range keys {
				c.matchTree(mp.Get(protoreflect.ValueOfString(k).MapKey()).Message(),
					func() string { return join(path(), name) + "[" + quote(k) + "]" }, found)
			}
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				c.matchTree(l.Get(j).Message(), func() string { return index(join(path(), name), j) }, found)
			}
		case name == "input" && fd.Message().Name() == "TypedExtensionConfig":
			if a, ok := v.Message().Get(fd.Message().Fields().ByName("typed_config")).Message().Interface().(*anypb.Any); ok {
				found(matchTreeFinding{path: func() string { return join(path(), name) }, inputURL: a.GetTypeUrl()})
			}
		default:
			c.matchTree(v.Message(), func() string { return join(path(), name) }, found)
		}
	}
}

func init() {
	register("envoy.extensions.common.matching.v3.ExtensionWithMatcher", extensionMatcherTree)
}

// extensionMatcherTree: the match tree wrapped around a filter (the match delegate, HTTP or network) does not keep
// matching after a match. Envoy builds xds_matcher, or for HTTP filters the older matcher when xds_matcher is unset.
// Envoy: source/extensions/filters/http/match_delegate/config.cc:306 [http-filters-more-68e502d3] — "requirement
// violation while creating match tree: <problem>"; source/common/matcher/validation_visitor.h — "keep_matching is
// not supported in this context".
func extensionMatcherTree(c *Context, m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	field := fields.ByName("xds_matcher")
	if !m.Has(field) {
		if c.Ancestor("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager") == nil {
			return // a network filter: the network match delegate builds xds_matcher only
		}
		field = fields.ByName("matcher")
		if !m.Has(field) {
			return
		}
	}
	c.matchTree(m.Get(field).Message(), func() string { return c.at(string(field.Name())) }, func(t matchTreeFinding) {
		if t.keepMatching {
			c.envoyf(t.path(), "source/extensions/filters/http/match_delegate/config.cc",
				"requirement violation while creating match tree: keep_matching is not supported in this context")
		}
	})
}

func init() {
	register("xds.type.matcher.v3.CelMatcher", celMatcherExpression)
}

// celMatcherExpression: a CEL matcher has an expression (compiled when its match tree is built).
// Envoy: source/extensions/filters/common/expr/evaluator.cc:241 [http-filters-e870b534] — "CEL expression not set.",
// reported by source/extensions/matching/input_matchers/cel_matcher/matcher.cc as "failed to create an expression:
// CEL expression not set.".
func celMatcherExpression(c *Context, m protoreflect.Message) {
	cm, ok := m.Interface().(*xdsmatcherv3.CelMatcher)
	if !ok {
		return
	}
	e := cm.GetExprMatch()
	if e.GetExprSpecifier() == nil && e.GetCelExprParsed() == nil && e.GetCelExprChecked() == nil && e.GetCelExprString() == "" {
		c.envoyf(c.at("expr_match"), "source/extensions/filters/common/expr/evaluator.cc",
			"failed to create an expression: CEL expression not set. (set cel_expr_parsed or cel_expr_checked)")
	}
}
