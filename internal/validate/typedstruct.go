package validate

import (
	"math"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/types/known/structpb"

	// TypedStruct wraps an extension config as a Struct; Envoy accepts it wherever a typed_config is expected
	// (Istio relies on this). Neither package is reached through the Envoy API imports.
	_ "github.com/cncf/xds/go/udpa/type/v1"
	_ "github.com/cncf/xds/go/xds/type/v3"
)

// structNode turns a Struct back into a YAML node tree, so that a TypedStruct payload goes through the same
// converter (strictness, leniencies, paths) as a typed_config. Strings become quoted scalars, so they stay strings.
func structNode(s *structpb.Struct) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	fields := s.GetFields()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys) // Go map order is random; reports must not be
	for _, k := range keys {
		key := &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: k}
		n.Content = append(n.Content, key, valueNode(fields[k]))
	}
	return n
}

func valueNode(v *structpb.Value) *yaml.Node {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		return structNode(k.StructValue)
	case *structpb.Value_ListValue:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range k.ListValue.GetValues() {
			n.Content = append(n.Content, valueNode(e))
		}
		return n
	case *structpb.Value_StringValue:
		return &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: k.StringValue}
	case *structpb.Value_NumberValue:
		f, format := k.NumberValue, byte('g')
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			format = 'f' // integral: plain digits, which integer fields accept
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatFloat(f, format, -1, 64)}
	case *structpb.Value_BoolValue:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatBool(k.BoolValue)}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Value: "null"}
}
