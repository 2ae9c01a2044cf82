//go:build !appnet_lean

package loadtime

import (
	"fmt"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	uritemplatematchv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
	uritemplaterewritev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/rewrite/uri_template/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// URI template rules: the path templates of the uri_template path matcher and rewriter, which Envoy parses when it
// builds a route (source/extensions/path/uri_template_lib/uri_template{,_internal}.cc), and the pairing of the two
// (source/extensions/path/rewrite/uri_template/uri_template_rewrite.cc). The parser below follows Envoy's step by
// step, so that it refuses what Envoy refuses with Envoy's words.

const (
	uriTemplateLib      = "source/extensions/path/uri_template_lib/uri_template.cc"
	uriTemplateInternal = "source/extensions/path/uri_template_lib/uri_template_internal.cc"
	uriTemplateMatcher  = "envoy.path.match.uri_template.uri_template_matcher"
	uriTemplateRewriter = "envoy.path.rewrite.uri_template.uri_template_rewriter"
)

func init() {
	register("envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig", uriTemplateMatch)
	register("envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig", uriTemplateRewrite)
	pathRewritePairing = pairURITemplates
}

// uriTemplateMatch: a path template must parse.
// Envoy: source/extensions/path/match/uri_template/config.h:27 [routes-3953406d] — "path_match_policy.path_template
// <t> is invalid: <reason>", the reasons of uri_template_internal.cc (parsePathPatternSyntax and what it calls).
func uriTemplateMatch(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*uritemplatematchv3.UriTemplateMatchConfig)
	if !ok {
		return
	}
	if _, problem := parsePathTemplate(cfg.GetPathTemplate(), c.uriTemplateAsterisk()); problem != "" &&
		!(hasMixedSegment(cfg.GetPathTemplate()) && c.uriTemplateMixedSegments()) {
		c.envoyf(c.at("path_template"), uriTemplateInternal, "path_match_policy.path_template %s is invalid: %s", cfg.GetPathTemplate(), problem)
	}
}

// uriTemplateRewrite: a rewrite template must parse (Envoy says only that it is invalid; the reason is added).
// Envoy: source/extensions/path/rewrite/uri_template/config.h:24 [routes-d0076da6] — "path_rewrite_policy.
// path_template_rewrite <t> is invalid", for the reasons of uri_template.cc (parseRewritePattern).
func uriTemplateRewrite(c *Context, m protoreflect.Message) {
	cfg, ok := m.Interface().(*uritemplaterewritev3.UriTemplateRewriteConfig)
	if !ok {
		return
	}
	if _, problem := parseRewriteTemplate(cfg.GetPathTemplateRewrite(), c.uriTemplateAsterisk()); problem != "" {
		c.envoyf(c.at("path_template_rewrite"), uriTemplateLib, "path_rewrite_policy.path_template_rewrite %s is invalid (%s)",
			cfg.GetPathTemplateRewrite(), problem)
	}
}

// pairURITemplates is uriTemplatePairing's check (uritemplate_route.go), which needs the extensions' types.
func pairURITemplates(c *Context, m protoreflect.Message) {
	r, ok := m.Interface().(*routev3.Route)
	if !ok {
		return
	}
	policy := r.GetRoute().GetPathRewritePolicy()
	if policy == nil {
		return
	}
	rewrite := &uritemplaterewritev3.UriTemplateRewriteConfig{}
	if policy.GetTypedConfig().UnmarshalTo(rewrite) != nil {
		return // another rewriter (none ships), or a payload the decoder reported
	}
	const src = "source/extensions/path/rewrite/uri_template/uri_template_rewrite.cc"
	match := &uritemplatematchv3.UriTemplateMatchConfig{}
	if mp := r.GetMatch().GetPathMatchPolicy(); mp == nil || mp.GetTypedConfig().UnmarshalTo(match) != nil {
		c.envoyf(c.at("route.path_rewrite_policy"), src, "unable to use %s extension without %s extension", uriTemplateRewriter, uriTemplateMatcher)
		return
	}
	asterisk := c.uriTemplateAsterisk()
	segments, problem := parseRewriteTemplate(rewrite.GetPathTemplateRewrite(), asterisk)
	if problem != "" {
		return // reported by uriTemplateRewrite
	}
	var captured func(name string) bool
	if hasMixedSegment(match.GetPathTemplate()) && c.uriTemplateMixedSegments() {
		names := templateVariables(match.GetPathTemplate())
		captured = func(name string) bool { return slices.Contains(names, name) }
	} else if pattern, problem := parsePathTemplate(match.GetPathTemplate(), asterisk); problem == "" {
		captured = pattern.captures
	} else {
		return // reported by uriTemplateMatch
	}
	for _, s := range segments {
		if s.variable && !captured(s.value) {
			c.envoyf(c.at("route.path_rewrite_policy"), src, "mismatch between variables in path_match_policy %s and "+
				"path_rewrite_policy %s (Nonexisting variable name: %s)", match.GetPathTemplate(), rewrite.GetPathTemplateRewrite(), s.value)
			return
		}
	}
}

// uriTemplateAsterisk reports whether literals may hold '*'. Envoy 1.35-1.39 let the runtime guard
// envoy.reloadable_features.uri_template_match_on_asterisk (on by default) turn it off; 1.40 removed the guard and
// always allows it, so the validator does too.
func (c *Context) uriTemplateAsterisk() bool { return true }

// uriTemplateMixedSegments reports whether a path segment may mix a variable with literal text ("v{version}",
// "{id}.json" in the middle of a path): Envoy 1.39 and later accept it unless the runtime guard
// envoy.reloadable_features.uri_template_mixed_variable_literals (on by default) is off; earlier releases refuse
// it. A template with such segments is therefore only checked when the guard is off.
func (c *Context) uriTemplateMixedSegments() bool {
	return c.runtimeFlag("envoy.reloadable_features.uri_template_mixed_variable_literals", true)
}

// hasMixedSegment reports a segment of a path template (split at '/' outside braces) that holds a whole variable
// and anything else.
func hasMixedSegment(t string) bool {
	depth, start := 0, 0
	mixed := func(seg string) bool {
		open, closing := strings.IndexByte(seg, '{'), strings.IndexByte(seg, '}')
		if open < 0 || closing < open {
			return false // no whole variable: malformed for every release
		}
		return open != 0 || closing != len(seg)-1
	}
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		case '/':
			if depth == 0 {
				if mixed(t[start:i]) {
					return true
				}
				start = i + 1
			}
		}
	}
	return mixed(t[start:])
}

// templateVariables returns the variable names of a template that mixes variables and literals, as Envoy 1.39's
// parser captures them: every "{name" or "{name=...".
func templateVariables(t string) []string {
	var names []string
	for rest := t; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return names
		}
		rest = rest[i+1:]
		end := strings.IndexAny(rest, "=}")
		if end < 0 {
			return names
		}
		names = append(names, rest[:end])
	}
}

// Path templates (uri_template_internal.cc).

type (
	// pathSegment is one segment of a path template: a literal, an operator ("*" or "**") or a variable.
	pathSegment struct {
		literal  string
		operator string
		variable *pathVariable
	}
	pathVariable struct {
		name  string
		match []pathSegment // literals and operators only
	}
	pathTemplate struct{ segments []pathSegment }
)

func (p pathTemplate) captures(name string) bool {
	for _, s := range p.segments {
		if s.variable != nil && s.variable.name == name {
			return true
		}
	}
	return false
}

const (
	maxTemplateVariables   = 5  // kPatternMatchingMaxVariablesPerPath
	maxTemplateVariableLen = 16 // kPatternMatchingMaxVariableNameLen
)

// isLiteralByte reports a byte of kLiteral: RFC 3986 pchar less '*' (unless asterisk) and with '='; rewrite
// literals add '/'.
func isLiteralByte(b byte, asterisk, slash bool) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	case b == '*':
		return asterisk
	case b == '/':
		return slash
	}
	return strings.IndexByte("-._~%!$&'()+,;:@=", b) >= 0
}

func validLiteral(s string, asterisk, slash bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLiteralByte(s[i], asterisk, slash) {
			return false
		}
	}
	return true
}

// validVariableName is ^[a-zA-Z][a-zA-Z0-9_]*$.
func validVariableName(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

// parseTemplateLiteral reads a literal up to the next '/'.
func parseTemplateLiteral(p string, asterisk bool) (lit, rest, problem string) {
	lit, _, _ = strings.Cut(p, "/")
	if !validLiteral(lit, asterisk, false) {
		return "", "", fmt.Sprintf("Invalid literal: %q", lit)
	}
	return lit, p[len(lit):], ""
}

// parseTemplateOperator reads "**" or "*" (the callers only call it on a '*').
func parseTemplateOperator(p string) (string, string) {
	if strings.HasPrefix(p, "**") {
		return "**", p[2:]
	}
	return "*", p[1:]
}

// parseTemplateVariable reads "{name}" or "{name=match}"; problem is Envoy's reason when it cannot.
func parseTemplateVariable(p string, asterisk bool) (v *pathVariable, rest, problem string) {
	if len(p) < 2 || p[0] != '{' {
		return nil, "", fmt.Sprintf("Invalid variable: %q", p)
	}
	body, rest, found := strings.Cut(p[1:], "}")
	if !found {
		return nil, "", fmt.Sprintf("Unmatched variable bracket in %q", p)
	}
	name, item, hasMatch := strings.Cut(body, "=")
	if !validVariableName(name) {
		return nil, "", fmt.Sprintf("Invalid variable name: %q", name)
	}
	v = &pathVariable{name: name}
	if !hasMatch {
		return v, rest, ""
	}
	if item == "" {
		return nil, "", "Empty variable match"
	}
	for item != "" {
		if item[0] == '*' {
			var op string
			op, item = parseTemplateOperator(item)
			v.match = append(v.match, pathSegment{operator: op})
		} else {
			lit, r, problem := parseTemplateLiteral(item, asterisk)
			if problem != "" {
				return nil, "", problem
			}
			item = r
			v.match = append(v.match, pathSegment{literal: lit})
		}
		if item != "" {
			if item[0] != '/' || len(item) == 1 {
				return nil, "", fmt.Sprintf("Invalid variable match: %q", item)
			}
			item = item[1:]
		}
	}
	return v, rest, ""
}

// parsePathTemplate is parsePathPatternSyntax; problem is Envoy's reason when the template does not parse.
func parsePathTemplate(path string, asterisk bool) (t pathTemplate, problem string) {
	if path == "" || path[0] != '/' || !graphic(path[1:]) {
		return t, fmt.Sprintf("Invalid pattern: %q", path)
	}
	path = path[1:]
	for path != "" {
		var seg pathSegment
		switch path[0] {
		case '*':
			seg.operator, path = parseTemplateOperator(path)
		case '{':
			v, rest, problem := parseTemplateVariable(path, asterisk)
			if problem != "" {
				return t, problem
			}
			seg.variable, path = v, rest
		default:
			lit, rest, problem := parseTemplateLiteral(path, asterisk)
			if problem != "" {
				return t, problem
			}
			seg.literal, path = lit, rest
		}
		t.segments = append(t.segments, seg)
		if path == "" {
			break
		}
		if path == "/" {
			t.segments = append(t.segments, pathSegment{})
			break
		}
		if path[0] == '/' {
			path = path[1:]
			continue
		}
		// A suffix after the last segment.
		_, rest, problem := parseTemplateLiteral(path, asterisk)
		if problem != "" {
			return t, problem
		}
		if rest != "" {
			return t, "Prefix match not supported."
		}
		break
	}
	if problem := t.checkVariables(); problem != "" {
		return t, problem
	}
	return t, t.checkGlobs()
}

// graphic reports [[:graph:]]* (printable ASCII but space).
func graphic(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkVariables is gatherCaptureNames.
func (p pathTemplate) checkVariables() string {
	seen := map[string]bool{}
	for _, s := range p.segments {
		if s.variable == nil {
			continue
		}
		if len(seen) >= maxTemplateVariables {
			return fmt.Sprintf("Exceeded variable count limit (%d)", maxTemplateVariables)
		}
		if name := s.variable.name; len(name) > maxTemplateVariableLen {
			return fmt.Sprintf("Invalid variable name length (length of %q should be at least 1 and no more than %d)", name, maxTemplateVariableLen)
		} else if seen[name] {
			return fmt.Sprintf("Repeated variable name: %q", name)
		}
		seen[s.variable.name] = true
	}
	return ""
}

// checkGlobs is validateNoOperatorAfterTextGlob: nothing that globs may follow "**".
func (p pathTemplate) checkGlobs() string {
	textGlob := false
	for _, s := range p.segments {
		switch {
		case s.operator != "":
			if textGlob {
				return "Glob after text glob."
			}
			textGlob = s.operator == "**"
		case s.variable != nil && len(s.variable.match) == 0:
			if textGlob {
				return "Implicit variable path glob after text glob."
			}
		case s.variable != nil:
			for _, m := range s.variable.match {
				if m.operator == "" {
					continue
				}
				if textGlob {
					return "Glob after text glob."
				}
				textGlob = m.operator == "**"
			}
		}
	}
	return ""
}

// Rewrite templates (uri_template.cc parseRewritePattern).

type rewriteSegment struct {
	value    string
	variable bool
}

// parseRewriteTemplate splits a rewrite template into literals and variables; problem is Envoy's reason when it
// cannot.
func parseRewriteTemplate(p string, asterisk bool) (out []rewriteSegment, problem string) {
	if p == "" || p[0] != '/' {
		return nil, "Invalid rewrite variable placement"
	}
	if strings.Contains(p, "//") {
		return nil, "Invalid rewrite literal"
	}
	for p != "" {
		lit, after, hasVar := strings.Cut(p, "{")
		if lit != "" {
			if !validLiteral(lit, asterisk, true) {
				return nil, "Invalid rewrite literal pattern"
			}
			out = append(out, rewriteSegment{value: lit})
		}
		if !hasVar {
			break
		}
		name, rest, closed := strings.Cut(after, "}")
		if !closed {
			return nil, "Unmatched variable bracket"
		}
		if !validVariableName(name) {
			return nil, "Invalid variable name"
		}
		out = append(out, rewriteSegment{value: name, variable: true})
		p = rest
	}
	return out, ""
}
