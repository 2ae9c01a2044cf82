//go:build !appnet_lean

package loadtime

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	fileserverv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/file_server/v3"
	transformv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/transform/v3"
	redirectv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/redirect_policy/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Filters that answer or shape responses: custom_response's redirect policy (built with the filter's matcher),
// file_server and transform.

const (
	redirectPolicySource = "source/extensions/http/custom_response/redirect_policy/redirect_policy.cc"
	fileServerSource     = "source/extensions/filters/http/file_server/config.cc"
	transformSource      = "source/extensions/filters/http/transform/transform.cc"
)

func init() {
	register("envoy.extensions.http.custom_response.redirect_policy.v3.RedirectPolicy", customResponseRedirect)
	register("envoy.extensions.filters.http.file_server.v3.FileServerConfig", fileServerConfig)
	register("envoy.extensions.filters.http.transform.v3.TransformConfig", transformCaches)
}

// customResponseRedirect: a custom response redirects to an absolute URI, or by a redirect action that neither
// rewrites the path by prefix or regex nor carries a fragment.
// Envoy: source/extensions/http/custom_response/redirect_policy/redirect_policy.cc:41, :44, :83, :88
// [http-filters-3d595ab7] [http-filters-cc908e83] [http-filters-81713103] [http-filters-a767c5f4] — "regex_rewrite
// is not supported for Custom Response", "prefix_rewrite is not supported for Custom Response", "Invalid uri
// specified for redirection for custom response: <uri>", "#fragment is not supported for custom response.
// Specified path_redirect is <path>".
func customResponseRedirect(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*redirectv3.RedirectPolicy)
	if !ok {
		return
	}
	if _, isURI := p.GetRedirectActionSpecifier().(*redirectv3.RedirectPolicy_Uri); isURI {
		if problem := absoluteURLProblem(p.GetUri()); problem != "" {
			c.envoyf(c.at("uri"), redirectPolicySource, "Invalid uri specified for redirection for custom response: %s (%s)", p.GetUri(), problem)
		}
		return
	}
	a := p.GetRedirectAction()
	switch a.GetPathRewriteSpecifier().(type) {
	case *routev3.RedirectAction_RegexRewrite:
		c.envoyf(c.at("redirect_action.regex_rewrite"), redirectPolicySource, "regex_rewrite is not supported for Custom Response")
	case *routev3.RedirectAction_PrefixRewrite:
		c.envoyf(c.at("redirect_action.prefix_rewrite"), redirectPolicySource, "prefix_rewrite is not supported for Custom Response")
	case *routev3.RedirectAction_PathRedirect:
		if strings.Contains(a.GetPathRedirect(), "#") {
			c.envoyf(c.at("redirect_action.path_redirect"), redirectPolicySource,
				"#fragment is not supported for custom response. Specified path_redirect is %s", a.GetPathRedirect())
		}
	}
}

// fileServerConfig: request path prefixes are distinct, and each directory behavior serves one default file (a
// distinct one) or lists the directory, which one behavior at most does.
// Envoy: source/extensions/filters/http/file_server/config.cc:26, :35, :39, :45, :50 [http-filters-more-bd06dcb0]
// [http-filters-more-bb49522c] [http-filters-more-af32e8d2] [http-filters-more-591c9a32]
// [http-filters-more-50c10954] — "duplicate request_path_prefix: <p>", "directory_behavior must set one of
// default_file or list", "directory_behavior must have only one of default_file or list", "duplicate default_file
// in directory_behaviors: <f>", "multiple list directives".
func fileServerConfig(c *Context, m protoreflect.Message) {
	f, ok := m.Interface().(*fileserverv3.FileServerConfig)
	if !ok {
		return
	}
	prefixes := map[string]bool{}
	for i, pm := range f.GetPathMappings() {
		if prefixes[pm.GetRequestPathPrefix()] {
			c.envoyf(index(c.at("path_mappings"), i)+".request_path_prefix", fileServerSource, "duplicate request_path_prefix: %s", pm.GetRequestPathPrefix())
			return
		}
		prefixes[pm.GetRequestPathPrefix()] = true
	}
	files, listed := map[string]bool{}, false
	for i, d := range f.GetDirectoryBehaviors() {
		at := func() string { return index(c.at("directory_behaviors"), i) }
		file, list := d.GetDefaultFile(), d.GetList() != nil
		var problem string
		switch {
		case file == "" && !list:
			problem = "directory_behavior must set one of default_file or list"
		case file != "" && list:
			problem = "directory_behavior must have only one of default_file or list"
		case file != "" && files[file]:
			problem = "duplicate default_file in directory_behaviors: " + file
		case list && listed:
			problem = "multiple list directives"
		}
		if problem != "" {
			c.envoyf(at(), fileServerSource, "%s", problem)
			return
		}
		files[file], listed = file != "", listed || list
	}
}

// transformCaches: a transformation clears the route cache or the cluster cache, not both.
// Envoy: source/extensions/filters/http/transform/transform.cc:125 [http-filters-more-77a38420] — "Only one of
// clear_cluster_cache and clear_route_cache can be set to true".
func transformCaches(c *Context, m protoreflect.Message) {
	if t, ok := m.Interface().(*transformv3.TransformConfig); ok && t.GetClearClusterCache() && t.GetClearRouteCache() {
		c.envoyf(c.at("clear_route_cache"), transformSource, "Only one of clear_cluster_cache and clear_route_cache can be set to true")
	}
}
