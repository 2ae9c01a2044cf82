//go:build !appnet_lean

package loadtime

import (
	compositev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/composite/v3"
	dynamicmodulesv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_modules/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Filters that build other filters: the composite filter (named filter chains, and the actions of the match trees
// that select filters) and dynamic module filters. A per-route match tree (ExtensionWithMatcherPerRoute) builds
// its composite actions with the server's context only: no listener factory context, no init manager.

const (
	compositeConfigSource = "source/extensions/filters/http/composite/config.cc"
	compositeActionSource = "source/extensions/filters/http/composite/action.cc"
	dynamicModuleSource   = "source/extensions/filters/http/dynamic_modules/factory.cc"
)

func init() {
	register("envoy.extensions.filters.http.composite.v3.Composite", compositeNamedChains)
	register("envoy.extensions.filters.http.composite.v3.ExecuteFilterAction", compositeAction)
	register("envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter", dynamicModuleSourceConfig)
}

// compositeNamedChains: a named filter chain has filters.
// Envoy: source/extensions/filters/http/composite/config.cc:25 [http-filters-more-7da3bed0] — "Named filter chain
// '<name>' must contain at least one filter.".
func compositeNamedChains(c *Context, m protoreflect.Message) {
	cp, ok := m.Interface().(*compositev3.Composite)
	if !ok {
		return
	}
	for _, name := range sortedKeys(cp.GetNamedFilterChains()) {
		if len(cp.GetNamedFilterChains()[name].GetTypedConfig()) == 0 {
			c.envoyf(c.at("named_filter_chains")+"["+quote(name)+"].typed_config", compositeConfigSource,
				"Named filter chain '%s' must contain at least one filter.", name)
		}
	}
}

// inPerRouteMatcher reports whether the message being checked is built by a per-route match tree.
func (c *Context) inPerRouteMatcher() bool {
	return c.Ancestor("envoy.extensions.common.matching.v3.ExtensionWithMatcherPerRoute") != nil
}

// compositeAction: an action's filter chain has filters, and a per-route match tree cannot use filters discovered
// through ECDS (dynamic_config needs the listener's factory context). Envoy takes filter_chain, then
// filter_chain_name, then dynamic_config, then typed_config.
// Envoy: source/extensions/filters/http/composite/action.cc:200, :91 [http-filters-more-2d1828c3]
// [http-filters-more-2df712e6] — "filter_chain must contain at least one filter.", "Failed to get downstream factory
// context or server factory context.".
func compositeAction(c *Context, m protoreflect.Message) {
	a, ok := m.Interface().(*compositev3.ExecuteFilterAction)
	if !ok {
		return
	}
	switch {
	case a.GetFilterChain() != nil:
		if len(a.GetFilterChain().GetTypedConfig()) == 0 {
			c.envoyf(c.at("filter_chain.typed_config"), compositeActionSource, "filter_chain must contain at least one filter.")
		}
	case a.GetFilterChainName() != "":
	case a.GetDynamicConfig() != nil && c.inPerRouteMatcher():
		c.envoyf(c.at("dynamic_config"), compositeActionSource, "Failed to get downstream factory context or server factory "+
			"context. (a per-route matcher's action cannot use dynamic_config; use typed_config)")
	}
}

// dynamicModuleSourceConfig: a module comes from a local file or a remote HTTP source, or is found by name; a
// remote module needs the init manager of a listener, which a per-route matcher's action lacks.
// Envoy: source/extensions/filters/http/dynamic_modules/factory.cc:95, :103, :89 [http-filters-more-a41717d0]
// [http-filters-more-d3cf8dc0] [http-filters-more-67c08734] — "Only local file path or remote HTTP source is
// supported for module sources", "Either 'name' or 'module' must be specified in dynamic_module_config", "Remote
// module sources require an init manager".
func dynamicModuleSourceConfig(c *Context, m protoreflect.Message) {
	f, ok := m.Interface().(*dynamicmodulesv3.DynamicModuleFilter)
	if !ok {
		return
	}
	mc := f.GetDynamicModuleConfig()
	src := mc.GetModule()
	switch {
	case src == nil && mc.GetName() == "":
		c.envoyf(c.at("dynamic_module_config"), dynamicModuleSource, "Either 'name' or 'module' must be specified in dynamic_module_config")
	case src == nil:
	case src.GetRemote() != nil:
		if c.Ancestor("envoy.extensions.filters.http.composite.v3.ExecuteFilterAction") != nil && c.inPerRouteMatcher() {
			c.envoyf(c.at("dynamic_module_config.module.remote"), dynamicModuleSource, "Remote module sources require an init "+
				"manager (a per-route matcher's action cannot load a remote module; use a local file or a name)")
		}
	case src.GetLocal().GetFilename() == "":
		c.envoyf(c.at("dynamic_module_config.module"), dynamicModuleSource,
			"Only local file path or remote HTTP source is supported for module sources")
	}
}
