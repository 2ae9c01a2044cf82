//go:build !appnet_lean

package loadtime

import (
	"strings"

	fieldextractionv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_field_extraction/v3"
	reversetranscoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_reverse_transcoder/v3"
	transcoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	scrubberv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/proto_api_scrubber/v3"
	messageextractionv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/proto_message_extraction/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// gRPC and proto filters that read descriptor sets (descriptors.go): what they ask of the set and of the method,
// message and field names that refer into it.

const (
	transcoderSource        = "source/extensions/filters/http/grpc_json_transcoder/json_transcoder_filter.cc"
	reverseTranscoderSource = "source/extensions/filters/http/grpc_json_reverse_transcoder/filter_config.cc"
	fieldExtractionSource   = "source/extensions/filters/http/grpc_field_extraction/filter_config.cc"
	messageExtractionSource = "source/extensions/filters/http/proto_message_extraction/filter_config.cc"
	scrubberSource          = "source/extensions/filters/http/proto_api_scrubber/filter_config.cc"
	scrubberInitError       = "Error encountered during config initialization."
)

func init() {
	register("envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder", transcoderDescriptors)
	register("envoy.extensions.filters.http.grpc_json_reverse_transcoder.v3.GrpcJsonReverseTranscoder", reverseTranscoderDescriptors)
	register("envoy.extensions.filters.http.grpc_field_extraction.v3.GrpcFieldExtractionConfig", fieldExtractionDescriptors)
	register("envoy.extensions.filters.http.proto_message_extraction.v3.ProtoMessageExtractionConfig", messageExtractionDescriptors)
	register("envoy.extensions.filters.http.proto_api_scrubber.v3.ProtoApiScrubberConfig", scrubberConfig)
}

// transcoderDescriptors: a transcoder with services reads an inline descriptor set that parses and builds, and
// names services it defines.
// Envoy: source/extensions/filters/http/grpc_json_transcoder/json_transcoder_filter.cc:137, :250, :172
// [http-filters-more-98536818] [http-filters-more-98d2a924] [http-filters-more-a417e72c] — "transcoding_filter:
// Unable to parse proto descriptor", "transcoding_filter: Unable to build proto descriptor pool",
// "transcoding_filter: Could not find '<service>' in the proto descriptor".
func transcoderDescriptors(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*transcoderv3.GrpcJsonTranscoder)
	if !ok || len(t.GetServices()) == 0 || t.GetProtoDescriptorBin() == nil {
		return // no services: the filter is disabled; a descriptor file is the host's
	}
	set, ok := parseDescriptorSet(t.GetProtoDescriptorBin())
	if !ok {
		c.envoyf(c.at("proto_descriptor_bin"), transcoderSource, "transcoding_filter: Unable to parse proto descriptor")
		return
	}
	pool := buildPool(set)
	if pool.broken != "" {
		c.envoyf(c.at("proto_descriptor_bin"), transcoderSource, "transcoding_filter: Unable to build proto descriptor pool "+
			"(%s imports a file the set does not hold)", pool.broken)
		return
	}
	for i, s := range t.GetServices() {
		if found, known := pool.has(s); known && !found {
			c.envoyf(index(c.at("services"), i), transcoderSource, "transcoding_filter: Could not find '%s' in the proto descriptor", s)
			return
		}
	}
}

// reverseTranscoderDescriptors: the reverse transcoder reads a descriptor set from a file or inline bytes that
// parse and build.
// Envoy: source/extensions/filters/http/grpc_json_reverse_transcoder/filter_config.cc:59, :62, :66
// [http-filters-more-0eb052a0] [http-filters-more-64a11184] [http-filters-more-2c43adeb] — "Unable to parse proto
// descriptor binary", "Descriptor set not set", "Unable to build proto descriptor pool".
func reverseTranscoderDescriptors(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*reversetranscoderv3.GrpcJsonReverseTranscoder)
	if !ok || t.GetDescriptorPath() != "" {
		return
	}
	if len(t.GetDescriptorBinary()) == 0 {
		c.envoyf(c.Path(), reverseTranscoderSource, "Descriptor set not set (set descriptor_path or descriptor_binary)")
		return
	}
	set, ok := parseDescriptorSet(t.GetDescriptorBinary())
	if !ok {
		c.envoyf(c.at("descriptor_binary"), reverseTranscoderSource, "Unable to parse proto descriptor binary")
		return
	}
	if pool := buildPool(set); pool.broken != "" {
		c.envoyf(c.at("descriptor_binary"), reverseTranscoderSource, "Unable to build proto descriptor pool (%s imports a "+
			"file the set does not hold)", pool.broken)
	}
}

// descriptorSource reports the problems of a DataSource of descriptors shared by the field extraction, message
// extraction and scrubber filters, in their words (format strings taking the DataSource case or the bytes), and
// returns the inline pool (nil when there is none or it is refused).
func (c *Context) descriptorSource(field string, ds interface{ GetInlineBytes() []byte }, pool *descriptorPool, badBytes bool,
	badCase int, source, bytesFormat, caseFormat string) *descriptorPool {
	switch {
	case badBytes:
		c.envoyf(c.at(field+".inline_bytes"), source, bytesFormat, ds.GetInlineBytes())
		return nil
	case badCase != 0:
		c.envoyf(c.at(field), source, caseFormat+" (a file or inline_bytes)", badCase)
		return nil
	}
	return pool
}

// fieldExtractionDescriptors: grpc_field_extraction reads descriptors from a file or inline bytes that parse, and
// extracts fields of methods they define.
// Envoy: source/extensions/filters/http/grpc_field_extraction/filter_config.cc:71, :78, :36
// [http-filters-more-1ce8a0ff] [http-filters-more-1a2d0f98] [http-filters-more-934f479d] — "unable to parse proto
// descriptor from inline bytes: <bytes>", "unsupported DataSource case `<n>` for configuring `descriptor_set`",
// "couldn't find the gRPC method `<m>` defined in the proto descriptor".
func fieldExtractionDescriptors(c *Context, m protoreflect.Message) {
	f, ok := m.Interface().(*fieldextractionv3.GrpcFieldExtractionConfig)
	if !ok {
		return
	}
	pool, badBytes, badCase := inlineDescriptors(f.GetDescriptorSet())
	pool = c.descriptorSource("descriptor_set", f.GetDescriptorSet(), pool, badBytes, badCase, fieldExtractionSource,
		"unable to parse proto descriptor from inline bytes: %q", "unsupported DataSource case `%d` for configuring `descriptor_set`")
	for _, method := range sortedKeys(f.GetExtractionsByMethod()) {
		at := func() string { return c.at("extractions_by_method") + "[" + quote(method) + "]" }
		if found, known := pool.has(method); known && !found {
			c.envoyf(at(), fieldExtractionSource, "couldn't find the gRPC method `%s` defined in the proto descriptor", method)
			return
		}
		md := pool.method(method)
		if md == nil {
			continue
		}
		paths := f.GetExtractionsByMethod()[method].GetRequestFieldExtractions()
		for _, path := range sortedKeys(paths) {
			if problem := fieldPathProblem(md.Input(), path); problem != "" {
				c.envoyf(at()+".request_field_extractions["+quote(path)+"]", fieldExtractionSource,
					"couldn't init extractor for method `%s`: %s", method, problem)
				return
			}
		}
	}
}

// messageExtractionDescriptors: proto_message_extraction reads descriptors from a file or inline bytes that parse,
// extracts from methods they define, and counts one repeated response field at most (never a request field).
// Envoy: source/extensions/filters/http/proto_message_extraction/filter_config.cc:116, :123, :57, :64, :79
// [http-filters-more-84c1c9c5] [http-filters-more-5dee288b] [http-filters-more-1d49cb4b]
// [http-filters-more-6218ed3b] [http-filters-more-c3517454] — "unable to parse proto descriptor from inline bytes:
// <bytes>", "unsupported DataSource case `<n>` for configuring `descriptor_set`", "couldn't find the gRPC method
// `<m>` defined in the proto descriptor", "method `<m>`: EXTRACT_REPEATED_CARDINALITY is not supported for request
// fields.", "method `<m>`: only one field can be tagged with EXTRACT_REPEATED_CARDINALITY for response.".
func messageExtractionDescriptors(c *Context, m protoreflect.Message) {
	x, ok := m.Interface().(*messageextractionv3.ProtoMessageExtractionConfig)
	if !ok {
		return
	}
	var pool *descriptorPool
	if ds := x.GetDataSource(); ds != nil {
		var badBytes bool
		var badCase int
		pool, badBytes, badCase = inlineDescriptors(ds)
		pool = c.descriptorSource("data_source", ds, pool, badBytes, badCase, messageExtractionSource,
			"unable to parse proto descriptor from inline bytes: %q", "unsupported DataSource case `%d` for configuring `descriptor_set`")
	}
	const cardinality = messageextractionv3.MethodExtraction_EXTRACT_REPEATED_CARDINALITY
	for _, method := range sortedKeys(x.GetExtractionByMethod()) {
		at := func() string { return c.at("extraction_by_method") + "[" + quote(method) + "]" }
		if found, known := pool.has(method); known && !found {
			c.envoyf(at(), messageExtractionSource, "couldn't find the gRPC method `%s` defined in the proto descriptor", method)
			return
		}
		// A method Envoy does not find is refused above; one it finds is refused here: the config is refused either way.
		me := x.GetExtractionByMethod()[method]
		for _, field := range sortedKeys(me.GetRequestExtractionByField()) {
			if me.GetRequestExtractionByField()[field] == cardinality {
				c.envoyf(at()+".request_extraction_by_field["+quote(field)+"]", messageExtractionSource,
					"method `%s`: EXTRACT_REPEATED_CARDINALITY is not supported for request fields.", method)
				return
			}
		}
		n := 0
		for _, d := range me.GetResponseExtractionByField() {
			if d == cardinality {
				n++
			}
		}
		if n > 1 {
			c.envoyf(at()+".response_extraction_by_field", messageExtractionSource,
				"method `%s`: only one field can be tagged with EXTRACT_REPEATED_CARDINALITY for response.", method)
			return
		}
		if problem, field := extractionPathsProblem(pool.method(method), me); problem != "" {
			c.envoyf(at()+"."+field, messageExtractionSource, "couldn't init extractor for method `%s`: %s", method, problem)
			return
		}
	}
}

// extractionPathsProblem validates the request and response field paths of a method's extraction (those counted
// for repeated cardinality are not validated), and returns the problem and the field holding the path.
func extractionPathsProblem(md protoreflect.MethodDescriptor, me *messageextractionv3.MethodExtraction) (string, string) {
	if md == nil {
		return "", ""
	}
	for _, side := range []struct {
		field string
		msg   protoreflect.MessageDescriptor
		paths map[string]messageextractionv3.MethodExtraction_ExtractDirective
	}{{"request_extraction_by_field", md.Input(), me.GetRequestExtractionByField()}, {"response_extraction_by_field", md.Output(), me.GetResponseExtractionByField()}} {
		for _, path := range sortedKeys(side.paths) {
			if side.paths[path] == messageextractionv3.MethodExtraction_EXTRACT_REPEATED_CARDINALITY {
				continue
			}
			if problem := fieldPathProblem(side.msg, path); problem != "" {
				return problem, side.field + "[" + quote(path) + "]"
			}
		}
	}
	return "", ""
}

// scrubberConfig: proto_api_scrubber overrides fields (the one filtering mode), reads descriptors from a file or
// inline bytes that parse and build, and restricts methods named /package.Service/Method (defined in the
// descriptors), messages named package.Message, and fields by masks without wildcards.
// Envoy: source/extensions/filters/http/proto_api_scrubber/filter_config.cc:224, :194, :201, :209, :233, :239,
// :248, :260, :286, :291, :301, :307 [http-filters-more-363b3091] [http-filters-more-e9172346]
// [http-filters-more-e8b5110e] [http-filters-more-3cb6c5f4] [http-filters-more-a65851ae]
// [http-filters-more-6395caab] [http-filters-more-4fd05767] [http-filters-more-319e4a58]
// [http-filters-more-e4044c43] [http-filters-more-2262820a] [http-filters-more-873021cf]
// [http-filters-more-bbedf7e9] — "Error encountered during config initialization." followed by "Unsupported
// 'filtering_mode': <m>.", "Unable to parse proto descriptor from inline bytes `<bytes>`", "Unsupported DataSource
// case `<n>` for configuring `descriptor_set`", "Error occurred in file `<f>` while trying to build proto
// descriptors.", "Invalid method name: '<m>'. Method name is empty." (contains '*' / should follow the gRPC format /
// is not found in the descriptor pool), "Invalid message name: '<m>'. ..." (empty / not fully qualified), "Invalid
// field mask: '<f>'. ..." (empty / contains '*').
func scrubberConfig(c *Context, m protoreflect.Message) {
	s, ok := m.Interface().(*scrubberv3.ProtoApiScrubberConfig)
	if !ok {
		return
	}
	fail := func(path, format string, args ...any) {
		c.envoyf(path, scrubberSource, scrubberInitError+" "+format, args...)
	}
	if mode := s.GetFilteringMode(); mode.Descriptor().Values().ByNumber(mode.Number()) == nil {
		fail(c.at("filtering_mode"), "Unsupported 'filtering_mode': %d. (OVERRIDE)", mode)
		return
	}
	ds := s.GetDescriptorSet().GetDataSource()
	pool, badBytes, badCase := inlineDescriptors(ds)
	switch {
	case badBytes:
		fail(c.at("descriptor_set.data_source.inline_bytes"), "Unable to parse proto descriptor from inline bytes `%q`", ds.GetInlineBytes())
		return
	case badCase != 0:
		fail(c.at("descriptor_set.data_source"), "Unsupported DataSource case `%d` for configuring `descriptor_set` (a file or inline_bytes)", badCase)
		return
	case pool != nil && pool.broken != "":
		fail(c.at("descriptor_set.data_source.inline_bytes"), "Error occurred in file `%s` while trying to build proto "+
			"descriptors. (it imports a file the set does not hold)", pool.broken)
		return
	}
	r := s.GetRestrictions()
	for _, method := range sortedKeys(r.GetMethodRestrictions()) {
		at := func() string { return c.at("restrictions.method_restrictions") + "[" + quote(method) + "]" }
		if problem := scrubberMethodProblem(method, pool); problem != "" {
			fail(at(), "Invalid method name: '%s'. %s", method, problem)
			return
		}
		mr := r.GetMethodRestrictions()[method]
		for _, fields := range []struct {
			name  string
			masks []string
		}{{"request_field_restrictions", sortedKeys(mr.GetRequestFieldRestrictions())}, {"response_field_restrictions", sortedKeys(mr.GetResponseFieldRestrictions())}} {
			for _, mask := range fields.masks {
				if problem := fieldMaskProblem(mask); problem != "" {
					fail(at()+"."+fields.name+"["+quote(mask)+"]", "Invalid field mask: '%s'. %s", mask, problem)
					return
				}
			}
		}
	}
	for _, msg := range sortedKeys(r.GetMessageRestrictions()) {
		at := func() string { return c.at("restrictions.message_restrictions") + "[" + quote(msg) + "]" }
		switch {
		case msg == "":
			fail(at(), "Invalid message name: '%s'. Message name is empty.", msg)
			return
		case !apiNameValid(msg):
			fail(at(), "Invalid message name: '%s'. Message name should be fully qualified (e.g., package.Message).", msg)
			return
		}
		for _, mask := range sortedKeys(r.GetMessageRestrictions()[msg].GetFieldRestrictions()) {
			if problem := fieldMaskProblem(mask); problem != "" {
				fail(at()+".field_restrictions["+quote(mask)+"]", "Invalid field mask: '%s'. %s", mask, problem)
				return
			}
		}
	}
}

// scrubberMethodProblem says what ProtoApiScrubberFilterConfig::validateMethodName finds wrong with a method name,
// or "": the lookup in the descriptor pool counts only for a pool built here.
func scrubberMethodProblem(method string, pool *descriptorPool) string {
	switch parts := strings.Split(method, "/"); {
	case method == "":
		return "Method name is empty."
	case strings.Contains(method, "*"):
		return "Method name contains '*' which is not supported."
	case len(parts) != 3 || parts[0] != "" || !apiNameValid(parts[1]) || parts[2] == "":
		return "Method name should follow the gRPC format ('/package.ServiceName/MethodName')."
	}
	full := strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", ".")
	if found, known := pool.has(full); known && !found {
		return "The method is not found in the descriptor pool."
	}
	return ""
}

// apiNameValid: a dotted name whose every part is non-empty, with at least two parts.
func apiNameValid(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	return true
}

func fieldMaskProblem(mask string) string {
	switch {
	case mask == "":
		return "Field mask is empty."
	case strings.Contains(mask, "*"):
		return "Field mask contains '*' which is not supported."
	}
	return ""
}
