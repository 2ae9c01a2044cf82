package loadtime

import "google.golang.org/protobuf/reflect/protoreflect"

// pathRewritePairing checks a route's URI-template rewrite against its match: set by the init of uritemplate.go,
// which the lean build (appnet_lean) leaves out — there a route's path_rewrite_policy cannot name the URI-template
// types at all (their payloads do not decode), so there is nothing to pair.
var pathRewritePairing func(c *Context, m protoreflect.Message)

// uriTemplateConfigs are the payloads of a route's path policies that pathRewritePairing acts on (ExtensionHookTypes).
var uriTemplateConfigs = []protoreflect.FullName{
	"envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig",
	"envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig",
}

func init() {
	register("envoy.config.route.v3.Route", uriTemplatePairing)
}

// uriTemplatePairing: the template rewriter needs the template matcher on the same route, and may use only the
// variables the matcher's template captures.
// Envoy: source/extensions/path/rewrite/uri_template/uri_template_rewrite.cc:30 [routes-ee2aba42], :38
// [routes-083017c6] (isCompatiblePathMatcher) — "unable to use envoy.path.rewrite.uri_template.uri_template_rewriter
// extension without envoy.path.match.uri_template.uri_template_matcher extension", "mismatch between variables in
// path_match_policy <m> and path_rewrite_policy <r>"; uri_template.cc:118 [routes-86e22edd] — "Nonexisting variable
// name", which that message replaces.
func uriTemplatePairing(c *Context, m protoreflect.Message) {
	if pathRewritePairing != nil {
		pathRewritePairing(c, m)
	}
}
