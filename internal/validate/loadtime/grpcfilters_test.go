package loadtime_test

import (
	"encoding/base64"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// descriptorSet returns a base64 FileDescriptorSet of one file, pkg.proto, with message pkg.Req (name, tags,
// flag) and service pkg.Svc (rpc Get(Req) returns (Req)); the file imports what deps names.
func descriptorSet(deps ...string) string {
	str, boolean := descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_TYPE_BOOL
	rep, opt := descriptorpb.FieldDescriptorProto_LABEL_REPEATED, descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name: proto.String("pkg.proto"), Package: proto.String("pkg"), Syntax: proto.String("proto3"), Dependency: deps,
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Req"), Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("name"), Number: proto.Int32(1), Type: &str, Label: &opt, JsonName: proto.String("name")},
			{Name: proto.String("tags"), Number: proto.Int32(2), Type: &str, Label: &rep, JsonName: proto.String("tags")},
			{Name: proto.String("flag"), Number: proto.Int32(3), Type: &boolean, Label: &opt, JsonName: proto.String("flag")},
		}}},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Svc"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Get"), InputType: proto.String(".pkg.Req"), OutputType: proto.String(".pkg.Req")},
		}}},
	}}}
	b, err := proto.Marshal(set)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

const (
	transcoder        = "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"
	reverseTranscoder = "envoy.extensions.filters.http.grpc_json_reverse_transcoder.v3.GrpcJsonReverseTranscoder"
	fieldExtraction   = "envoy.extensions.filters.http.grpc_field_extraction.v3.GrpcFieldExtractionConfig"
	messageExtraction = "envoy.extensions.filters.http.proto_message_extraction.v3.ProtoMessageExtractionConfig"
	scrubber          = "envoy.extensions.filters.http.proto_api_scrubber.v3.ProtoApiScrubberConfig"
	garbage           = "AAAA" // three zero bytes: field number 0 does not parse
)

func TestGRPCFilterRules(t *testing.T) { runRules(t, casesGRPCFilterRules()) }

func casesGRPCFilterRules() []ruleCase {
	good, broken := descriptorSet(), descriptorSet("missing.proto")
	extraction := func(source, method string) string {
		return "descriptor_set: {" + source + "}, extractions_by_method: {'" + method + "': {request_field_extractions: {name: {}}}}"
	}
	message := func(source, method, fields string) string {
		return "data_source: {" + source + "}, extraction_by_method: {'" + method + "': {" + fields + "}}"
	}
	scrub := func(source, restrictions string) string {
		return "descriptor_set: {data_source: {" + source + "}}, restrictions: {" + restrictions + "}"
	}
	const methodAt, msgAt = ".restrictions.method_restrictions", ".restrictions.message_restrictions"
	return []ruleCase{
		{"transcoder", httpFilter(transcoder, "proto_descriptor_bin: "+good+", services: [pkg.Svc]"), "", ""},
		{"transcoder without services", httpFilter(transcoder, "proto_descriptor_bin: "+garbage), "", ""},
		{"transcoder descriptor does not parse", httpFilter(transcoder, "proto_descriptor_bin: "+garbage+", services: [pkg.Svc]"),
			filterAt(transcoder) + ".proto_descriptor_bin", "transcoding_filter: Unable to parse proto descriptor"},
		{"transcoder descriptor does not build", httpFilter(transcoder, "proto_descriptor_bin: "+broken+", services: [pkg.Svc]"),
			filterAt(transcoder) + ".proto_descriptor_bin", "transcoding_filter: Unable to build proto descriptor pool"},
		{"transcoder unknown service", httpFilter(transcoder, "proto_descriptor_bin: "+good+", services: [pkg.Svc, pkg.Other]"),
			filterAt(transcoder) + ".services[1]", "transcoding_filter: Could not find 'pkg.Other' in the proto descriptor"},
		{"reverse transcoder", httpFilter(reverseTranscoder, "descriptor_binary: "+good), "", ""},
		{"reverse transcoder from a file", httpFilter(reverseTranscoder, "descriptor_path: /d.pb"), "", ""},
		{"reverse transcoder without descriptors", httpFilter(reverseTranscoder, "api_version_header: x-v"),
			filterAt(reverseTranscoder), "Descriptor set not set"},
		{"reverse transcoder descriptor does not parse", httpFilter(reverseTranscoder, "descriptor_binary: "+garbage),
			filterAt(reverseTranscoder) + ".descriptor_binary", "Unable to parse proto descriptor binary"},
		{"reverse transcoder descriptor does not build", httpFilter(reverseTranscoder, "descriptor_binary: "+broken),
			filterAt(reverseTranscoder) + ".descriptor_binary", "Unable to build proto descriptor pool"},
		{"field extraction", httpFilter(fieldExtraction, extraction("inline_bytes: "+good, "pkg.Svc.Get")), "", ""},
		{"field extraction from a file", httpFilter(fieldExtraction, extraction("filename: /d.pb", "pkg.Svc.Other")), "", ""},
		{"field extraction descriptor does not parse", httpFilter(fieldExtraction, extraction("inline_bytes: "+garbage, "pkg.Svc.Get")),
			filterAt(fieldExtraction) + ".descriptor_set.inline_bytes", "unable to parse proto descriptor from inline bytes: "},
		{"field extraction descriptor as a string", httpFilter(fieldExtraction, extraction("inline_string: x", "pkg.Svc.Get")),
			filterAt(fieldExtraction) + ".descriptor_set", "unsupported DataSource case `3` for configuring `descriptor_set`"},
		{"field extraction unknown method", httpFilter(fieldExtraction, extraction("inline_bytes: "+good, "pkg.Svc.Put")),
			filterAt(fieldExtraction) + ".extractions_by_method[\"pkg.Svc.Put\"]", "couldn't find the gRPC method `pkg.Svc.Put` defined in the proto descriptor"},
		{"field extraction of a bool", httpFilter(fieldExtraction, "descriptor_set: {inline_bytes: "+good+"}, extractions_by_method: {pkg.Svc.Get: {request_field_extractions: {flag: {}}}}"),
			filterAt(fieldExtraction) + ".extractions_by_method[\"pkg.Svc.Get\"].request_field_extractions[\"flag\"]", "couldn't init extractor for method `pkg.Svc.Get`: leaf node 'flag' must be numerical/string or timestamp type"},
		{"field extraction below a string", httpFilter(fieldExtraction, "descriptor_set: {inline_bytes: "+good+"}, extractions_by_method: {pkg.Svc.Get: {request_field_extractions: {name.first: {}}}}"),
			filterAt(fieldExtraction) + ".extractions_by_method[\"pkg.Svc.Get\"].request_field_extractions[\"name.first\"]", "couldn't init extractor for method `pkg.Svc.Get`: Invalid non-leaf node name of non message type ()."},
		{"message extraction unknown field", httpFilter(messageExtraction, message("inline_bytes: "+good, "pkg.Svc.Get", "response_extraction_by_field: {title: EXTRACT}")),
			filterAt(messageExtraction) + ".extraction_by_method[\"pkg.Svc.Get\"].response_extraction_by_field[\"title\"]", "couldn't init extractor for method `pkg.Svc.Get`: Invalid fieldPath (title): no 'title' field in 'type.googleapis.com/pkg.Req' message"},
		{"message extraction", httpFilter(messageExtraction, message("inline_bytes: "+good, "pkg.Svc.Get", "request_extraction_by_field: {name: EXTRACT}, response_extraction_by_field: {tags: EXTRACT_REPEATED_CARDINALITY}")), "", ""},
		{"message extraction descriptor does not parse", httpFilter(messageExtraction, message("inline_bytes: "+garbage, "pkg.Svc.Get", "")),
			filterAt(messageExtraction) + ".data_source.inline_bytes", "unable to parse proto descriptor from inline bytes: "},
		{"message extraction descriptor from the environment", httpFilter(messageExtraction, message("environment_variable: D", "pkg.Svc.Get", "")),
			filterAt(messageExtraction) + ".data_source", "unsupported DataSource case `4` for configuring `descriptor_set`"},
		{"message extraction unknown method", httpFilter(messageExtraction, message("inline_bytes: "+good, "pkg.Svc.Put", "")),
			filterAt(messageExtraction) + ".extraction_by_method[\"pkg.Svc.Put\"]", "couldn't find the gRPC method `pkg.Svc.Put` defined in the proto descriptor"},
		{"message extraction request cardinality", httpFilter(messageExtraction, message("inline_bytes: "+good, "pkg.Svc.Get", "request_extraction_by_field: {tags: EXTRACT_REPEATED_CARDINALITY}")),
			filterAt(messageExtraction) + ".extraction_by_method[\"pkg.Svc.Get\"].request_extraction_by_field[\"tags\"]", "method `pkg.Svc.Get`: EXTRACT_REPEATED_CARDINALITY is not supported for request fields."},
		{"message extraction two response cardinalities", httpFilter(messageExtraction, message("inline_bytes: "+good, "pkg.Svc.Get", "response_extraction_by_field: {tags: EXTRACT_REPEATED_CARDINALITY, name: EXTRACT_REPEATED_CARDINALITY}")),
			filterAt(messageExtraction) + ".extraction_by_method[\"pkg.Svc.Get\"].response_extraction_by_field", "method `pkg.Svc.Get`: only one field can be tagged with EXTRACT_REPEATED_CARDINALITY for response."},
		{"scrubber", httpFilter(scrubber, scrub("inline_bytes: "+good, "method_restrictions: {'/pkg.Svc/Get': {request_field_restrictions: {name: {}}}}, message_restrictions: {pkg.Req: {field_restrictions: {tags: {}}}}")), "", ""},
		{"scrubber unknown filtering mode", httpFilter(scrubber, scrub("inline_bytes: "+good, "")+", filtering_mode: 3"),
			filterAt(scrubber) + ".filtering_mode", "Unsupported 'filtering_mode': 3."},
		{"scrubber descriptor does not parse", httpFilter(scrubber, scrub("inline_bytes: "+garbage, "")),
			filterAt(scrubber) + ".descriptor_set.data_source.inline_bytes", "Unable to parse proto descriptor from inline bytes"},
		{"scrubber descriptor as a string", httpFilter(scrubber, scrub("inline_string: x", "")),
			filterAt(scrubber) + ".descriptor_set.data_source", "Unsupported DataSource case `3` for configuring `descriptor_set`"},
		{"scrubber descriptor does not build", httpFilter(scrubber, scrub("inline_bytes: "+broken, "")),
			filterAt(scrubber) + ".descriptor_set.data_source.inline_bytes", "Error occurred in file `pkg.proto` while trying to build proto descriptors."},
		{"scrubber empty method", httpFilter(scrubber, scrub("inline_bytes: "+good, "method_restrictions: {'': {}}")),
			filterAt(scrubber) + methodAt + "[\"\"]", "Invalid method name: ''. Method name is empty."},
		{"scrubber wildcard method", httpFilter(scrubber, scrub("inline_bytes: "+good, "method_restrictions: {'/pkg.Svc/*': {}}")),
			filterAt(scrubber) + methodAt + "[\"/pkg.Svc/*\"]", "Invalid method name: '/pkg.Svc/*'. Method name contains '*' which is not supported."},
		{"scrubber dotted method", httpFilter(scrubber, scrub("inline_bytes: "+good, "method_restrictions: {pkg.Svc.Get: {}}")),
			filterAt(scrubber) + methodAt + "[\"pkg.Svc.Get\"]", "Invalid method name: 'pkg.Svc.Get'. Method name should follow the gRPC format ('/package.ServiceName/MethodName')."},
		{"scrubber unknown method", httpFilter(scrubber, scrub("inline_bytes: "+good, "method_restrictions: {'/pkg.Svc/Put': {}}")),
			filterAt(scrubber) + methodAt + "[\"/pkg.Svc/Put\"]", "Invalid method name: '/pkg.Svc/Put'. The method is not found in the descriptor pool."},
		{"scrubber empty field mask", httpFilter(scrubber, scrub("inline_bytes: "+good, "method_restrictions: {'/pkg.Svc/Get': {response_field_restrictions: {'': {}}}}")),
			filterAt(scrubber) + methodAt + "[\"/pkg.Svc/Get\"].response_field_restrictions[\"\"]", "Invalid field mask: ''. Field mask is empty."},
		{"scrubber wildcard field mask", httpFilter(scrubber, scrub("inline_bytes: "+good, "message_restrictions: {pkg.Req: {field_restrictions: {'tags.*': {}}}}")),
			filterAt(scrubber) + msgAt + "[\"pkg.Req\"].field_restrictions[\"tags.*\"]", "Invalid field mask: 'tags.*'. Field mask contains '*' which is not supported."},
		{"scrubber empty message", httpFilter(scrubber, scrub("inline_bytes: "+good, "message_restrictions: {'': {}}")),
			filterAt(scrubber) + msgAt + "[\"\"]", "Invalid message name: ''. Message name is empty."},
		{"scrubber unqualified message", httpFilter(scrubber, scrub("inline_bytes: "+good, "message_restrictions: {Req: {}}")),
			filterAt(scrubber) + msgAt + "[\"Req\"]", "Invalid message name: 'Req'. Message name should be fully qualified (e.g., package.Message)."},
	}
}

func init() { registerCases(casesGRPCFilterRules) }
