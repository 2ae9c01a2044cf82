package loadtime

import (
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Runtime rules: source/common/runtime/runtime_impl.cc (LoaderImpl).

func init() {
	register("envoy.config.bootstrap.v3.LayeredRuntime", runtimeLayers)
}

// runtimeLayers: layer names are unique and there is at most one admin layer.
// Envoy: source/common/runtime/runtime_impl.cc — "Duplicate layer name: <n>", "Too many admin layers specified in
// LayeredRuntime, at most one may be specified".
func runtimeLayers(c *Context, m protoreflect.Message) {
	lr, ok := m.Interface().(*bootstrapv3.LayeredRuntime)
	if !ok {
		return
	}
	const src = "source/common/runtime/runtime_impl.cc"
	names := map[string]bool{}
	admin := false
	for i, layer := range lr.GetLayers() {
		p := func() string { return index(c.at("layers"), i) }
		if names[layer.GetName()] {
			c.envoyf(p()+".name", src, "Duplicate layer name: %s", layer.GetName())
		}
		names[layer.GetName()] = true
		if layer.GetAdminLayer() != nil {
			if admin {
				c.envoyf(p()+".admin_layer", src, "Too many admin layers specified in LayeredRuntime, at most one may be specified")
			}
			admin = true
		}
	}
}
