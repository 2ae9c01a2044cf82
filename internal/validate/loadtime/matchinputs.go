package loadtime

import (
	"maps"
	"slices"
	"strconv"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
)

// Match trees (xds.type.matcher.v3.Matcher): Envoy builds them with Matcher::MatchTreeFactory
// (source/common/matcher/matcher.h), which hands every data input it builds to a validation visitor of the tree's
// owner; the route table and the network RBAC filter accept only some inputs. The walk below visits the inputs of
// a tree and of the trees nested in its on-match branches (custom matchers' own trees are left alone).

// matchInputs calls visit with the path and config of every data input of the tree at path.
func matchInputs(path func() string, m *xdsmatcherv3.Matcher, visit func(path func() string, input *xdscorev3.TypedExtensionConfig)) {
	if m == nil {
		return
	}
	onMatch := func(p func() string, om *xdsmatcherv3.Matcher_OnMatch) {
		matchInputs(func() string { return p() + ".matcher" }, om.GetMatcher(), visit)
	}
	if list := m.GetMatcherList(); list != nil {
		for i, fm := range list.GetMatchers() {
			p := func() string { return index(path()+".matcher_list.matchers", i) }
			predicateInputs(func() string { return p() + ".predicate" }, fm.GetPredicate(), visit)
			onMatch(func() string { return p() + ".on_match" }, fm.GetOnMatch())
		}
	}
	if tree := m.GetMatcherTree(); tree != nil {
		if tree.GetInput() != nil {
			visit(func() string { return path() + ".matcher_tree.input" }, tree.GetInput())
		}
		matchMap := func(field string, mm *xdsmatcherv3.Matcher_MatcherTree_MatchMap) {
			for _, key := range slices.Sorted(maps.Keys(mm.GetMap())) {
				onMatch(func() string { return path() + ".matcher_tree." + field + ".map[" + strconv.Quote(key) + "]" }, mm.GetMap()[key])
			}
		}
		matchMap("exact_match_map", tree.GetExactMatchMap())
		matchMap("prefix_match_map", tree.GetPrefixMatchMap())
	}
	onMatch(func() string { return path() + ".on_no_match" }, m.GetOnNoMatch())
}

func predicateInputs(path func() string, p *xdsmatcherv3.Matcher_MatcherList_Predicate,
	visit func(path func() string, input *xdscorev3.TypedExtensionConfig)) {
	if p == nil {
		return
	}
	if sp := p.GetSinglePredicate(); sp != nil && sp.GetInput() != nil {
		visit(func() string { return path() + ".single_predicate.input" }, sp.GetInput())
	}
	for i, sub := range p.GetOrMatcher().GetPredicate() {
		predicateInputs(func() string { return index(path()+".or_matcher.predicate", i) }, sub, visit)
	}
	for i, sub := range p.GetAndMatcher().GetPredicate() {
		predicateInputs(func() string { return index(path()+".and_matcher.predicate", i) }, sub, visit)
	}
	predicateInputs(func() string { return path() + ".not_matcher" }, p.GetNotMatcher(), visit)
}

// inputTypeURL returns the type URL a data input's factory is validated with (its typed_config's, as written) and
// whether Envoy builds it as an input of the category (otherwise it is a common input, which no visitor sees).
func inputTypeURL(input *xdscorev3.TypedExtensionConfig, category string) (string, bool) {
	tc := input.GetTypedConfig()
	if tc == nil {
		return "", false
	}
	typ := extensionType(tc.ProtoReflect())
	info, known := extensionOf(typ)
	if !known {
		return "", false
	}
	for _, cat := range info.categories {
		if cat == category {
			return tc.GetTypeUrl(), true
		}
	}
	return "", false
}
