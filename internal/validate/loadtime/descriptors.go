//go:build !appnet_lean

// Only the gRPC and proto filters read descriptor sets (grpcfilters.go); the lean build has neither, and leaving
// this out keeps protodesc out of loadtime there.

package loadtime

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Descriptor sets: the gRPC and proto filters (grpc_json_transcoder and its reverse, grpc_field_extraction,
// proto_message_extraction, proto_api_scrubber) read a FileDescriptorSet when they are built and build a
// DescriptorPool from it file by file. A set read from a file is the host's; a set given inline is checked here
// as Envoy reads it.

// descriptorPool is an inline descriptor set built file by file, as Protobuf::DescriptorPool::BuildFile does.
type descriptorPool struct {
	files *protoregistry.Files
	// broken is the first file that does not build because an import is missing from the set (which Envoy's
	// pool, without an underlay, refuses too), or "".
	broken string
	// trusted is false when a file failed to build for a reason Envoy's builder may not share: then what the pool
	// lacks says nothing about Envoy's, and lookups are not reported.
	trusted bool
}

// parseDescriptorSet reads serialized descriptors as FileDescriptorSet::ParseFromString does (required fields
// included).
func parseDescriptorSet(b []byte) (*descriptorpb.FileDescriptorSet, bool) {
	set := &descriptorpb.FileDescriptorSet{}
	return set, proto.Unmarshal(b, set) == nil
}

// buildPool builds the set's files in order; a file that fails is left out, as in Envoy.
func buildPool(set *descriptorpb.FileDescriptorSet) *descriptorPool {
	p := &descriptorPool{files: &protoregistry.Files{}, trusted: true}
	for _, fd := range set.GetFile() {
		f, err := protodesc.NewFile(fd, p.files)
		if err == nil {
			err = p.files.RegisterFile(f)
		}
		switch {
		case err == nil:
		case strings.Contains(err.Error(), "could not resolve import") && p.broken == "":
			p.broken = fd.GetName()
		default:
			p.trusted = false
		}
	}
	return p
}

// has reports whether the pool defines a service or method of that full name (false when the pool is not trusted
// to say: callers report a missing name only when has is false and known is true).
func (p *descriptorPool) has(name string) (found, known bool) {
	if p == nil || !p.trusted {
		return false, false
	}
	_, err := p.files.FindDescriptorByName(protoreflect.FullName(name))
	return err == nil, true
}

// inlineDescriptors reads a descriptor DataSource the way these filters do: inline bytes are parsed (ok false and
// a problem when they do not parse), a file is the host's (pool nil), and any other kind of source is refused.
// problem is what went wrong, in the words of the caller's messages; case is the DataSource case number.
func inlineDescriptors(ds *corev3.DataSource) (pool *descriptorPool, badBytes bool, badCase int) {
	switch s := ds.GetSpecifier().(type) {
	case *corev3.DataSource_InlineBytes:
		set, ok := parseDescriptorSet(s.InlineBytes)
		if !ok {
			return nil, true, 0
		}
		return buildPool(set), false, 0
	case *corev3.DataSource_InlineString, *corev3.DataSource_EnvironmentVariable:
		return nil, false, int(ds.ProtoReflect().WhichOneof(ds.ProtoReflect().Descriptor().Oneofs().ByName("specifier")).Number())
	}
	return nil, false, 0
}

// method returns the method of that full name when the pool is trusted and defines it.
func (p *descriptorPool) method(name string) protoreflect.MethodDescriptor {
	if p == nil || !p.trusted {
		return nil
	}
	d, err := p.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil
	}
	m, _ := d.(protoreflect.MethodDescriptor)
	return m
}

// fieldPathProblem says why proto-field-extraction's FieldValueExtractorFactory refuses a field path of a message
// (ValidateFieldPathAndCollectMetadata), or "": each dotted name is a field of the message before (a map field
// reads its values), only message fields have fields, and the last field is a number, a string or a Timestamp.
func fieldPathProblem(msg protoreflect.MessageDescriptor, path string) string {
	if path == "" {
		return "Empty field path"
	}
	names := strings.Split(path, ".")
	typeURL := "type.googleapis.com/" + string(msg.FullName())
	parent := msg
	var field protoreflect.FieldDescriptor
	for len(names) > 0 {
		name := names[0]
		names = names[1:]
		field = parent.Fields().ByName(protoreflect.Name(name))
		if field == nil {
			return "Invalid fieldPath (" + path + "): no '" + name + "' field in '" + typeURL + "' message"
		}
		parent = nil
		if k := field.Kind(); k == protoreflect.MessageKind || k == protoreflect.GroupKind {
			parent = field.Message()
		}
		if parent == nil {
			break
		}
		if parent.IsMapEntry() {
			names = append([]string{"value"}, names...)
		}
	}
	if len(names) > 0 {
		url := ""
		if field.Enum() != nil {
			url = "type.googleapis.com/" + string(field.Enum().FullName())
		}
		return "Invalid non-leaf node " + string(field.Name()) + " of non message type (" + url + ")."
	}
	switch field.Kind() {
	case protoreflect.BoolKind, protoreflect.BytesKind, protoreflect.EnumKind, protoreflect.GroupKind:
	case protoreflect.MessageKind:
		if field.Message().FullName() == "google.protobuf.Timestamp" {
			return ""
		}
	default:
		return ""
	}
	return "leaf node '" + string(field.Name()) + "' must be numerical/string or timestamp type"
}
