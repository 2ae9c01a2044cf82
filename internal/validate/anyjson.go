package validate

import (
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// any emits a google.protobuf.Any: "@type" names the payload type, whose fields follow in the same object (or
// under "value" for well-known types with a special JSON form).
func (c *converter) any(n *yaml.Node, p int32) {
	if n.Kind != yaml.MappingNode {
		c.raw(n, p)
		return
	}
	if len(n.Content) == 0 {
		c.out = append(c.out, "{}"...)
		return
	}
	// Resolve the type first, so that everything reported inside carries the <Type> path segment.
	typ := mappingValue(n, "@type")
	tp := c.child(p, segField, "@type", 0)
	switch {
	case typ == nil:
		c.problem(c.path(p), n.Line, "missing \"@type\": an Any (typed_config) must name its payload type")
		c.out = append(c.out, "{}"...) // reported; an empty Any keeps the JSON valid wherever it sits
		return
	case typ.Kind != yaml.ScalarNode || typ.Value == "":
		c.problem(c.path(tp), typ.Line, "\"@type\" must be a non-empty string")
		c.out = append(c.out, "{}"...) // reported; an empty Any keeps the JSON valid wherever it sits
		return
	}
	url := typ.Value
	mt, err := resolveType(url)
	if err != nil {
		c.problem(c.path(tp), typ.Line, "%v", err)
		c.out = append(c.out, "{}"...) // reported; an empty Any keeps the JSON valid wherever it sits
		return
	}
	md := mt.Descriptor()
	ap := c.child(p, segAny, string(md.Name()), 0)
	start := c.collect(n, ap, segField)
	defer func() { c.pairs = c.pairs[:start] }()
	c.out = append(c.out, '{')
	c.newline(tp, typ.Line)
	c.out = append(c.out, `"@type":`...)
	c.out = appendString(c.out, url)
	if wellKnown(md.FullName()) == wktNone {
		c.fields(start, md, ap, true)
		c.out = append(c.out, '}')
		return
	}
	hasValue := false
	for i := start; i < len(c.pairs); i++ {
		k, v := c.pairs[i].k, c.pairs[i].v
		switch k.Value {
		case "@type":
			continue
		case "value":
			hasValue = true
			c.out = append(c.out, ',')
			c.newline(ap, k.Line)
			c.out = append(c.out, `"value":`...)
			c.message(v, md, ap)
		default:
			c.problem(joinPath(c.path(ap), k.Value), k.Line, "unknown field %q: a %s in an Any goes under \"value\"",
				k.Value, md.FullName())
		}
	}
	if !hasValue {
		// protobuf's parser takes a well-known type in an Any without "value" as the empty message
		// (json/internal/parser.cc ParseMessage with any_reparse: only "@type" and "value" are read, neither is
		// required); protojson, which decodes what this emits, wants "value", so the empty message's JSON is given.
		c.out = append(c.out, `,"value":`...)
		c.out = append(c.out, emptyWellKnownJSON(md)...)
	}
	c.out = append(c.out, '}')
}

// emptyWellKnownJSON is the JSON form of the empty message of a well-known type.
func emptyWellKnownJSON(md protoreflect.MessageDescriptor) string {
	switch md.Name() {
	case "Struct", "Empty":
		return "{}"
	case "Value":
		return "null" // protojson's nearest: a Value holding null (an unset kind has no JSON form)
	case "ListValue":
		return "[]"
	case "Duration":
		return `"0s"`
	case "Timestamp":
		return `"1970-01-01T00:00:00Z"`
	case "FieldMask", "StringValue", "BytesValue":
		return `""`
	case "BoolValue":
		return "false"
	}
	return "0" // the numeric wrappers
}

// mappingValue returns the value of key in mapping n (aliases resolved), or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		for j := 0; k.Kind == yaml.AliasNode && k.Alias != nil && j < maxDepth; j++ {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && k.Value == key {
			v := n.Content[i+1]
			for j := 0; v.Kind == yaml.AliasNode && v.Alias != nil && j < maxDepth; j++ {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}
