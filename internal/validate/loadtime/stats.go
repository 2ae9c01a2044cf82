package loadtime

import (
	"errors"
	"regexp/syntax"
	"strings"

	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Stats rules: source/common/stats/tag_producer_impl.cc and tag_extractor_impl.cc. A tag name may repeat (Envoy
// marks the extractors and skips the duplicate tag at run time), so only the specifier itself is checked.

const tagSource = "source/common/stats/tag_extractor_impl.cc"

func init() {
	register("envoy.config.metrics.v3.TagSpecifier", tagName, tagRegex)
}

// tagName: a regex tag needs a name, and a tag without a regex (and without a fixed value) must name one of
// Envoy's default tags, whose regex it then uses. The default tags are named envoy.* (and cipher_suite); a name
// outside that set has no default. Unknown envoy.* names are left alone, as the set grows with releases.
// Envoy: source/common/stats/tag_extractor_impl.cc (createTagExtractor) and tag_producer_impl.cc — "tag_name cannot
// be empty", "No regex specified for tag specifier and no default regex for name: '<name>'".
func tagName(c *Context, m protoreflect.Message) {
	ts, ok := m.Interface().(*metricsv3.TagSpecifier)
	if !ok {
		return
	}
	if _, fixed := ts.GetTagValue().(*metricsv3.TagSpecifier_FixedValue); fixed {
		return
	}
	name := ts.GetTagName()
	switch {
	case ts.GetRegex() != "" && name == "":
		c.envoyf(c.at("tag_name"), tagSource, "tag_name cannot be empty")
	case ts.GetRegex() == "" && !strings.HasPrefix(name, "envoy.") && name != "cipher_suite":
		c.envoyf(c.at("regex"), "source/common/stats/tag_producer_impl.cc",
			"No regex specified for tag specifier and no default regex for name: '%s'", name)
	}
}

// tagRegex: stats tag regexes are std::regex (ECMAScript) patterns, which allow look-arounds and back-references
// that RE2 does not; only the errors both grammars share (unbalanced parentheses or brackets, a dangling
// repetition, a bad range) are reported.
// Envoy: source/common/common/regex.cc (Utility::parseStdRegex) — "Invalid regex '<r>': <reason>".
func tagRegex(c *Context, m protoreflect.Message) {
	ts, ok := m.Interface().(*metricsv3.TagSpecifier)
	if !ok || ts.GetRegex() == "" {
		return
	}
	err := parseRegex(ts.GetRegex())
	var se *syntax.Error
	if err == nil || !errors.As(err, &se) {
		return
	}
	switch se.Code {
	case syntax.ErrMissingParen, syntax.ErrUnexpectedParen, syntax.ErrMissingBracket, syntax.ErrMissingRepeatArgument,
		syntax.ErrInvalidCharRange, syntax.ErrTrailingBackslash, syntax.ErrInvalidRepeatSize:
		c.envoyf(c.at("regex"), regexSource, "Invalid regex '%s': %s", ts.GetRegex(), reason(err))
	}
}
