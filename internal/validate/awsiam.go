package validate

import (
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// awsIamName is the call-credentials config of the envoy.grpc_credentials.aws_iam extension. Envoy removed the
// extension in 1.35 (envoyproxy/envoy#37621) and go-control-plane no longer ships the v3 type, but the App Mesh
// bootstrap still names it, and Envoy releases before 1.35 accept it. We register its two-field descriptor so it
// decodes, validates and round-trips.
const awsIamName = "envoy.config.grpc_credential.v3.AwsIamConfig"

func init() {
	// Only a conflicting registration can fail. The agent must still start then (the type just stays unknown, which
	// Decode reports clearly); TestAwsIamConfig catches it.
	_ = registerAwsIam()
}

func registerAwsIam() error {
	if _, err := protoregistry.GlobalFiles.FindDescriptorByName(awsIamName); err == nil {
		return nil // a future go-control-plane (or another package) provides it: use that one
	}
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	file := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("envoy/config/grpc_credential/v3/aws_iam.proto"),
		Package: proto.String("envoy.config.grpc_credential.v3"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("AwsIamConfig"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("service_name"), JsonName: proto.String("serviceName"), Number: proto.Int32(1), Type: &str, Label: &opt},
				{Name: proto.String("region"), JsonName: proto.String("region"), Number: proto.Int32(2), Type: &str, Label: &opt},
			},
		}},
	}
	fd, err := protodesc.NewFile(file, protoregistry.GlobalFiles)
	if err != nil {
		return fmt.Errorf("building %s: %w", awsIamName, err)
	}
	if err := protoregistry.GlobalFiles.RegisterFile(fd); err != nil {
		return fmt.Errorf("registering %s: %w", awsIamName, err)
	}
	md := fd.Messages().ByName("AwsIamConfig")
	return protoregistry.GlobalTypes.RegisterMessage(dynamicpb.NewMessageType(md))
}

// awsIam applies the rule the removed proto carried: service_name is required (min_len 1); region is optional
// (Envoy then takes it from the environment).
func (c *checker) awsIam(w *walker, m protoreflect.Message) {
	fd := m.Descriptor().Fields().ByName("service_name")
	if fd != nil && m.Get(fd).String() == "" {
		w.report(w.pathTo("service_name"), "value length must be at least 1 runes")
	}
}

// AwsIamRemoved says why a bootstrap that signs with the aws_iam call credentials fails in current Envoy. render
// and run warn with it when they find such an Envoy, validate (which checks for Envoy 1.35 to 1.40) always.
const AwsIamRemoved = "Envoy 1.35 removed the envoy.grpc_credentials.aws_iam extension (envoyproxy/envoy#37621) that " +
	"the App Mesh bootstrap uses for SigV4, so Envoy 1.35 and later reject this bootstrap; use an Envoy older than 1.35, " +
	"or Service Connect"

// AwsIamUses is an AwsIamRemoved warning at every place b uses the aws_iam call credentials.
func AwsIamUses(b *bootstrapv3.Bootstrap) Problems {
	if b == nil {
		return nil
	}
	var out Problems
	w := &walker{visit: func(w *walker, m protoreflect.Message, _ bool) {
		if m.Descriptor().FullName() == awsIamName {
			out = append(out, Problem{Path: w.path(), Message: AwsIamRemoved})
		}
	}}
	w.walk(b.ProtoReflect(), true)
	return out
}
