package loadtime

import (
	"maps"
	"slices"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// Runtime rules: source/common/runtime/runtime_impl.cc (LoaderImpl).

func init() {
	register("envoy.config.bootstrap.v3.LayeredRuntime", runtimeLayers, runtimeValues)
}

// runtimeValues: a static layer's values are strings, numbers, booleans or nested maps of them.
// Envoy: source/common/runtime/runtime_impl.cc:442 (ProtoLayer::walkProtoValue) — "Invalid runtime entry value for
// <key>" (for a list or a null).
func runtimeValues(c *Context, m protoreflect.Message) {
	lr, ok := m.Interface().(*bootstrapv3.LayeredRuntime)
	if !ok {
		return
	}
	for i, layer := range lr.GetLayers() {
		if st := layer.GetStaticLayer(); st != nil && !runtimeValuesValid(st, 0) {
			c.runtimeStruct(func() string { return index(c.at("layers"), i) + ".static_layer" }, "", st, 0)
		}
	}
}

// runtimeValuesValid reports a static layer without lists or nulls, without allocating (most layers are valid).
func runtimeValuesValid(st *structpb.Struct, depth int) bool {
	for _, v := range st.GetFields() {
		switch v.GetKind().(type) {
		case *structpb.Value_ListValue, *structpb.Value_NullValue, nil:
			return false
		case *structpb.Value_StructValue:
			if depth < 32 && !runtimeValuesValid(v.GetStructValue(), depth+1) {
				return false
			}
		}
	}
	return true
}

func (c *Context) runtimeStruct(path func() string, prefix string, st *structpb.Struct, depth int) {
	for _, k := range slices.Sorted(maps.Keys(st.GetFields())) {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := st.GetFields()[k]; v.GetKind().(type) {
		case *structpb.Value_ListValue, *structpb.Value_NullValue, nil:
			c.envoyf(path()+"[\""+k+"\"]", "source/common/runtime/runtime_impl.cc", "Invalid runtime entry value for %s", key)
		case *structpb.Value_StructValue:
			if depth < 32 {
				c.runtimeStruct(func() string { return path() + "[\"" + k + "\"]" }, key, v.GetStructValue(), depth+1)
			}
		}
	}
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
