package validate

import (
	"math"
	"slices"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	dubbov3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/dubbo_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Sources the cases cite (the same as the comments in the decoder):
const (
	yamlLoader = "envoy source/common/protobuf/yaml_utility.cc parseYamlNode"
	yamlCpp    = "yaml-cpp 0.9.0 "
	parserCC   = "protobuf v35.1 src/google/protobuf/json/internal/parser.cc:"
	lexerCC    = "protobuf v35.1 src/google/protobuf/json/internal/lexer.cc:"
	lexerH     = "protobuf v35.1 src/google/protobuf/json/internal/lexer.h:"
	abslNum    = "abseil 20260817.0 absl/strings/numbers.cc:"
	loadFile   = "envoy source/common/protobuf/utility.cc MessageUtil::loadFromFile"
)

// leniencyCase is one form Envoy reads (or refuses) and how we must read it.
type leniencyCase struct {
	name, cite string
	format     Format // FormatAuto when zero
	doc        string
	check      func(b *bootstrapv3.Bootstrap) bool // accepted and holding the right value
	err        string                              // refused: "path|message part"
	warn       string                              // accepted with this warning: "path|message part"
}

func sockAddr(b *bootstrapv3.Bootstrap) interface {
	GetPortValue() uint32
	GetIpv4Compat() bool
} {
	return b.GetAdmin().GetAddress().GetSocketAddress()
}

func port(want uint32) func(*bootstrapv3.Bootstrap) bool {
	return func(b *bootstrapv3.Bootstrap) bool { return sockAddr(b).GetPortValue() == want }
}

func adminPort(v string) string {
	return "admin: {address: {socket_address: {address: 127.0.0.1, port_value: " + v + "}}}\n"
}

// extension wraps a typed_config payload in a bootstrap extension, to reach types the bootstrap does not hold.
func extension(payload string) string {
	return "bootstrap_extensions: [{name: x, typed_config: " + payload + "}]\n"
}

func payload[T proto.Message](b *bootstrapv3.Bootstrap, m T) T {
	a := b.GetBootstrapExtensions()[0].GetTypedConfig()
	if err := anypb.UnmarshalTo(a, m, proto.UnmarshalOptions{}); err != nil {
		panic(err)
	}
	return m
}

var leniencyCases = []leniencyCase{
	// How Envoy's YAML loader types a scalar before the JSON parser sees it.
	{name: "quoted scalar is a string", cite: yamlLoader + " (Tag \"!\")", doc: `node: {id: "123"}`,
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "123" }},
	{name: "plain integer is a number, not a string", cite: yamlLoader + " (YAML::convert<int64_t>)",
		doc: `node: {id: 123}`, err: "node.id|invalid value for string field id: 123"},
	{name: "non-specific tag makes a string", cite: yamlLoader + " (Tag \"!\"); " + yamlCpp + "singledocparser.cpp:92-94",
		doc: "node: {id: ! 123}", check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "123" }},
	{name: "!!str tag does not make a string", cite: yamlLoader + " (only Tag \"!\" is a string)",
		doc: "node: {id: !!str 123}", err: "node.id|invalid value for string field id: 123"},
	{name: "integer beyond int32 becomes a string", cite: yamlLoader + " (std::to_string for int64 outside int32)",
		doc: "node: {id: 12345678901}", check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "12345678901" }},
	{name: "float is a string", cite: yamlLoader + " (falls back on string)", doc: "node: {id: 1.5}",
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "1.5" }},
	{name: "yaml-cpp booleans", cite: yamlCpp + "src/convert.cpp:41-73", doc: "enable_dispatcher_stats: On\nstats_config: {use_all_default_tags: N}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetEnableDispatcherStats() && b.GetStatsConfig().GetUseAllDefaultTags() != nil && !b.GetStatsConfig().GetUseAllDefaultTags().GetValue()
		}},
	{name: "a lone n is a bool to yaml-cpp", cite: yamlCpp + "src/convert.cpp:41-73 (y/n)",
		doc: "node: {id: n}", err: "node.id|invalid value for string field id: n (Envoy's YAML parser reads it as the boolean false; quote it"},
	{name: "yaml-cpp hexadecimal integer", cite: yamlCpp + "include/yaml-cpp/node/convert.h:169-213 (stream base detection)",
		doc: adminPort("0x1F90"), check: port(8080)},
	{name: "yaml-cpp octal integer", cite: yamlCpp + "include/yaml-cpp/node/convert.h:169-213", doc: adminPort("010"), check: port(8)},
	{name: "yaml-cpp signed integer", cite: yamlCpp + "include/yaml-cpp/node/convert.h:169-213", doc: adminPort("+80"), check: port(80)},
	{name: "!ignore key is dropped", cite: yamlLoader + " (it.first.Tag() != \"!ignore\")",
		doc:   "!ignore defaults: &addr {address: 127.0.0.1, port_value: 9901}\nadmin: {address: {socket_address: *addr}}",
		check: port(9901)},
	{name: "null leaves a field unset", cite: yamlCpp + "singledocparser.cpp:96-101; " + parserCC + "398-424",
		doc: "stats_flush_interval: ~\nadmin: null", check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetStatsFlushInterval() == nil && b.GetAdmin() == nil
		}},
	{name: "duplicate key keeps the last value", cite: yamlLoader + " (struct_fields[key] assigned per entry)",
		doc: "stats_flush_interval: 5s\nstats_flush_interval: 6s", warn: `stats_flush_interval|duplicate key "stats_flush_interval" (first at line 1)`,
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetStatsFlushInterval().GetSeconds() == 6 }},
	{name: "merge key is a field name to Envoy", cite: yamlCpp + "(no merge keys; envoyproxy/envoy#12926)",
		doc: "x: &a {}\nadmin:\n  <<: *a\n", err: `admin.<<|does not expand merge keys`},
	{name: "merge key is a plain key in a Struct", cite: yamlCpp + "(no merge keys)",
		doc: "node: {metadata: {a: &m {b: 1}, c: {<<: *m}}}", check: func(b *bootstrapv3.Bootstrap) bool {
			_, ok := b.GetNode().GetMetadata().GetFields()["c"].GetStructValue().GetFields()["<<"]
			return ok
		}},
	{name: "second document is ignored", cite: "yaml-cpp YAML::Load reads the first document",
		doc: "node: {id: a}\n---\nnode: {id: b}\n", warn: "|more than one YAML document (line 2)",
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "a" }},

	// Any payloads.
	{name: "well-known type in an Any without value is its empty message", cite: parserCC + "ParseMessage with any_reparse (only @type and value are read, neither required); Envoy's test/server/test_data/server/stats_sink_bootstrap.yaml",
		doc: "stats_sinks: [{name: s, typed_config: {'@type': type.googleapis.com/google.protobuf.Struct}}]",
		check: func(b *bootstrapv3.Bootstrap) bool {
			tc := b.GetStatsSinks()[0].GetTypedConfig()
			return tc.GetTypeUrl() == "type.googleapis.com/google.protobuf.Struct" && len(tc.GetValue()) == 0
		}},
	{name: "wrapper in an Any without value", cite: parserCC + "ParseMessage with any_reparse",
		doc:   "stats_sinks: [{name: s, typed_config: {'@type': type.googleapis.com/google.protobuf.UInt32Value}}]",
		check: func(b *bootstrapv3.Bootstrap) bool { return len(b.GetStatsSinks()[0].GetTypedConfig().GetValue()) == 0 }},

	// Field names and repeated fields.
	{name: "field by its JSON name", cite: "protobuf v35.1 src/google/protobuf/json/internal/descriptor_traits.h:169-187",
		doc: "node: {userAgentName: x}", check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetUserAgentName() == "x" }},
	{name: "field under both names keeps the last", cite: parserCC + "1257-1264; parser_traits.h:68-78",
		doc: "node: {user_agent_name: a, userAgentName: b}", warn: `node.user_agent_name|field given twice ("user_agent_name" and "userAgentName")`,
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetUserAgentName() == "b" }},
	{name: "a later null leaves the field as it was", cite: parserCC + "398-424, 1257-1264",
		doc: "node: {user_agent_name: a, userAgentName: ~}", warn: `node.user_agent_name|field given twice`,
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetUserAgentName() == "a" }},
	{name: "a oneof field set once and null once", cite: parserCC + "1257-1264 (null skips the oneof check)",
		doc: adminPort("1, portValue: ~"), warn: "admin.address.socket_address.port_value|field given twice", check: port(1)},
	{name: "a later null in a JSON file leaves the field as it was", cite: parserCC + "398-424, 1257-1264", format: FormatJSON,
		doc: `{"node": {"id": "a", "id": null}}`, warn: `node.id|duplicate key "id"`,
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "a" }},
	{name: "oneof field under both names is refused", cite: parserCC + "1257-1264 (oneofs are never repeated)",
		doc: adminPort("1, portValue: 2"), err: "admin.address.socket_address.port_value|a field of oneof port_specifier may be set only once"},
	{name: "single scalar where a list is expected", cite: parserCC + "1270-1276",
		doc: "node: {client_features: feat}", check: func(b *bootstrapv3.Bootstrap) bool {
			return slices.Equal(b.GetNode().GetClientFeatures(), []string{"feat"})
		}},
	{name: "single object where a list is expected", cite: parserCC + "1270-1276",
		doc: "stats_sinks: {name: s}", check: func(b *bootstrapv3.Bootstrap) bool { return len(b.GetStatsSinks()) == 1 }},
	{name: "nested lists are flattened", cite: parserCC + "682-700",
		doc: "node: {client_features: [[a, b], [[c]], d]}", check: func(b *bootstrapv3.Bootstrap) bool {
			return slices.Equal(b.GetNode().GetClientFeatures(), []string{"a", "b", "c", "d"})
		}},
	{name: "null in a list is the default element", cite: parserCC + "667-679, 541-589",
		doc: "node: {client_features: [a, ~]}\nstats_sinks: [null]", check: func(b *bootstrapv3.Bootstrap) bool {
			return slices.Equal(b.GetNode().GetClientFeatures(), []string{"a", ""}) && len(b.GetStatsSinks()) == 1
		}},
	{name: "null map value is the default value", cite: parserCC + "742-768",
		doc: "static_resources: {clusters: [{name: c, typed_extension_protocol_options: {x: ~}}]}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			_, ok := b.GetStaticResources().GetClusters()[0].GetTypedExtensionProtocolOptions()["x"]
			return ok
		}},
	{name: "integer map key with sign and spaces", cite: parserCC + "591-655 (absl::SimpleAtoi)",
		doc: extension(`{"@type": type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.v3.MethodMatch, name: {exact: m}, params_match: {"+1": {exact_match: x}}}`),
		check: func(b *bootstrapv3.Bootstrap) bool {
			_, ok := payload(b, &dubbov3.MethodMatch{}).GetParamsMatch()[1]
			return ok
		}},

	// Well-known types written as objects, and their strings.
	{name: "Duration as an object", cite: parserCC + "1298-1320", doc: "stats_flush_interval: {seconds: 5, nanos: 500000000}",
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetStatsFlushInterval().AsDuration().Seconds() == 5.5 }},
	{name: "Duration object out of range", cite: "envoy source/common/protobuf/utility.cc validateDurationFields",
		doc: "stats_flush_interval: {seconds: 5, nanos: 1500000000}", err: "stats_flush_interval|Invalid duration"},
	{name: "Duration with leading zeros", cite: parserCC + "946-998 (absl::SimpleAtoi on the seconds)",
		doc: "stats_flush_interval: 05.5s", check: func(b *bootstrapv3.Bootstrap) bool { return b.GetStatsFlushInterval().AsDuration().Seconds() == 5.5 }},
	{name: "Duration without an integer part is refused", cite: parserCC + "958-967",
		doc: "stats_flush_interval: .5s", err: `stats_flush_interval|invalid google.protobuf.Duration value ".5s"`},
	{name: "Duration with ten fraction digits is refused", cite: parserCC + "817-838",
		doc: "stats_flush_interval: 1.0000000001s", err: `stats_flush_interval|invalid google.protobuf.Duration value`},
	{name: "wrapper as an object", cite: parserCC + "1298-1320",
		doc: "stats_config: {use_all_default_tags: {value: true}}\nstats_server_version_override: {value: \"12\"}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetStatsConfig().GetUseAllDefaultTags().GetValue() && b.GetStatsServerVersionOverride().GetValue() == 12
		}},
	{name: "empty wrapper object is the default value", cite: parserCC + "1298-1320",
		doc: "stats_config: {use_all_default_tags: {}}", check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetStatsConfig().GetUseAllDefaultTags() != nil && !b.GetStatsConfig().GetUseAllDefaultTags().GetValue()
		}},
	{name: "Timestamp as an object", cite: parserCC + "1298-1320",
		doc:   extension(`{"@type": type.googleapis.com/google.protobuf.Timestamp, value: {seconds: 86400}}`),
		check: func(b *bootstrapv3.Bootstrap) bool { return payload(b, &timestamppb.Timestamp{}).GetSeconds() == 86400 }},
	{name: "Timestamp with short fields", cite: parserCC + "790-815, 840-944",
		doc:   extension(`{"@type": type.googleapis.com/google.protobuf.Timestamp, value: "1970-1-2T0:0:0.0000Z"}`),
		check: func(b *bootstrapv3.Bootstrap) bool { return payload(b, &timestamppb.Timestamp{}).GetSeconds() == 86400 }},
	{name: "FieldMask as a string", cite: parserCC + "1000-1036",
		doc: extension(`{"@type": type.googleapis.com/google.protobuf.FieldMask, value: "a.b,cD"}`),
		check: func(b *bootstrapv3.Bootstrap) bool {
			return slices.Equal(payload(b, &fieldmaskpb.FieldMask{}).GetPaths(), []string{"a.b", "c_d"})
		}},
	{name: "FieldMask as an object", cite: parserCC + "1298-1320",
		doc: extension(`{"@type": type.googleapis.com/google.protobuf.FieldMask, value: {paths: x_y}}`),
		check: func(b *bootstrapv3.Bootstrap) bool {
			return slices.Equal(payload(b, &fieldmaskpb.FieldMask{}).GetPaths(), []string{"x_y"})
		}},
	{name: "ListValue as an object", cite: parserCC + "1298-1320",
		doc:   extension(`{"@type": type.googleapis.com/google.protobuf.ListValue, value: {values: [1, x]}}`),
		check: func(b *bootstrapv3.Bootstrap) bool { return len(payload(b, &structpb.ListValue{}).GetValues()) == 2 }},
	{name: "Any with @type after its fields, and an empty Any", cite: parserCC + "1038-1097",
		doc: "static_resources: {clusters: [{name: c, typed_extension_protocol_options: {a: {}, b: {max_requests_per_connection: 3, \"@type\": type.googleapis.com/envoy.config.core.v3.HttpProtocolOptions}}}]}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			return len(b.GetStaticResources().GetClusters()[0].GetTypedExtensionProtocolOptions()) == 2
		}},

	// Scalars by field type.
	{name: "bool from a quoted word", cite: parserCC + "484-500; " + abslNum + "122-137 (SimpleAtob)",
		doc: "enable_dispatcher_stats: \"yes\"\nstats_config: {use_all_default_tags: 'F'}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetEnableDispatcherStats() && !b.GetStatsConfig().GetUseAllDefaultTags().GetValue()
		}},
	{name: "bool from a quoted 1", cite: abslNum + "122-137", doc: `enable_dispatcher_stats: "1"`,
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetEnableDispatcherStats() }},
	{name: "bool from a number is refused", cite: parserCC + "471-507", doc: "enable_dispatcher_stats: 1",
		err: "enable_dispatcher_stats|invalid value for bool field enableDispatcherStats: 1"},
	{name: "bool from on in quotes is refused", cite: abslNum + "122-137", doc: `enable_dispatcher_stats: "on"`,
		err: `enable_dispatcher_stats|invalid value for bool field enableDispatcherStats: "on"`},
	{name: "integer in a string with a sign", cite: parserCC + "193-237; " + abslNum + "1190-1222", doc: adminPort(`"+8080"`), check: port(8080)},
	{name: "integer written as a float", cite: parserCC + "171-191 (ParseFloatStringAsInt)", doc: adminPort("8.08e3"), check: port(8080)},
	{name: "integer with a fraction is refused", cite: parserCC + "171-191", doc: adminPort("8080.5"),
		err: "admin.address.socket_address.port_value|invalid value for uint32 field portValue"},
	{name: "quoted integer with spaces is refused", cite: parserCC + "213-219", doc: adminPort(`" 8080"`),
		err: "admin.address.socket_address.port_value|invalid value for uint32 field portValue"},
	{name: "negative unsigned is refused", cite: parserCC + "255-268", doc: adminPort(`"-1"`),
		err: "admin.address.socket_address.port_value|invalid value for uint32 field portValue"},
	{name: "uint32 beyond its range is refused", cite: parserCC + "255-268",
		doc: "static_resources: {clusters: [{name: c, per_connection_buffer_limit_bytes: 4294967296}]}",
		err: "static_resources.clusters[0].per_connection_buffer_limit_bytes|invalid value for uint32 field value"},
	{name: "64-bit integer beyond 2^53 exactly", cite: abslNum + "1190-1260 (SimpleAtoi before any float)",
		doc: "stats_server_version_override: 9007199254740993", check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetStatsServerVersionOverride().GetValue() == 9007199254740993
		}},
	{name: "double from words absl reads", cite: parserCC + "270-314; " + abslNum + "87-121 (SimpleAtod)",
		doc: "static_resources: {clusters: [{name: a, common_lb_config: {healthy_panic_threshold: {value: \" 50.\"}}}, {name: b, common_lb_config: {healthy_panic_threshold: {value: +.5e2}}}]}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			cs := b.GetStaticResources().GetClusters()
			return cs[0].GetCommonLbConfig().GetHealthyPanicThreshold().GetValue() == 50 &&
				cs[1].GetCommonLbConfig().GetHealthyPanicThreshold().GetValue() == 50
		}},
	{name: "double infinity in absl's spelling", cite: abslNum + "87-121; absl/strings/internal/charconv_parse.cc:299-351",
		doc: extension(`{"@type": type.googleapis.com/google.protobuf.DoubleValue, value: "-INF"}`),
		check: func(b *bootstrapv3.Bootstrap) bool {
			return math.IsInf(payload(b, &wrapperspb.DoubleValue{}).GetValue(), -1)
		}},
	{name: "YAML .inf is not a number to Envoy", cite: yamlLoader + " (string) then " + abslNum + "87-121",
		doc: extension(`{"@type": type.googleapis.com/google.protobuf.DoubleValue, value: .inf}`),
		err: "bootstrap_extensions[0].typed_config<DoubleValue>|invalid value for double field value"},
	{name: "float out of range is refused", cite: parserCC + "302-311",
		doc: extension(`{"@type": type.googleapis.com/google.protobuf.FloatValue, value: 1e39}`),
		err: "bootstrap_extensions[0].typed_config<FloatValue>|invalid value for float field value"},
	{name: "enum from a quoted number", cite: parserCC + "335-355", doc: "admin: {address: {socket_address: {address: 127.0.0.1, protocol: \"1\"}}}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetAdmin().GetAddress().GetSocketAddress().GetProtocol() == 1
		}},
	{name: "enum name in any case", cite: "Envoy sets case_insensitive_enum_parsing; descriptor_traits.h:254-274",
		doc: "admin: {address: {socket_address: {address: 127.0.0.1, protocol: uDp}}}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetAdmin().GetAddress().GetSocketAddress().GetProtocol() == 1
		}},
	{name: "bytes in the URL-safe alphabet without padding", cite: parserCC + "71-169 (DecodeBase64InPlace)",
		doc: "static_resources: {secrets: [{name: s, generic_secret: {secret: {inline_bytes: \"-_8\"}}}]}",
		check: func(b *bootstrapv3.Bootstrap) bool {
			return string(b.GetStaticResources().GetSecrets()[0].GetGenericSecret().GetSecret().GetInlineBytes()) == "\xfb\xff"
		}},
	{name: "bytes with one stray character are refused", cite: parserCC + "116-169",
		doc: "static_resources: {secrets: [{name: s, generic_secret: {secret: {inline_bytes: \"QQ=\"}}}]}",
		err: "static_resources.secrets[0].generic_secret.secret.inline_bytes|invalid value for bytes field inlineBytes"},

	// JSON files: protobuf's lexer in legacy mode reads them directly.
	{name: "JSON with single quotes and bare keys", cite: lexerCC + "378-388, 494-506; " + lexerH + "315-321",
		format: FormatJSON, doc: `{node: {id: 'it\'s'}}`, check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "it's" }},
	{name: "JSON with trailing commas", cite: lexerH + "277-291, 307-334", format: FormatJSON,
		doc: `{"node": {"id": "n", "client_features": ["a",],},}`, check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "n" }},
	{name: "JSON with \\U escapes and raw control characters", cite: lexerCC + "457-463, 474-487", format: FormatJSON,
		doc: "{\"node\": {\"id\": \"\\U0041\tb\"}}", check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "A\tb" }},
	{name: "JSON numbers keep their JSON meaning", cite: loadFile + " (JSON parser directly)", format: FormatJSON,
		doc: `{"node": {"metadata": {"f": 2.5}}}`, check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetNode().GetMetadata().GetFields()["f"].GetNumberValue() == 2.5
		}},
	{name: "JSON map key repeated is refused", cite: parserCC + "776-787", format: FormatJSON,
		doc: `{"node": {"metadata": {"a": 1, "a": 2}}}`, err: `node.metadata["a"]|Envoy's JSON parser refuses a repeated map key`},
	{name: "JSON field repeated keeps the last", cite: parserCC + "1257-1264", format: FormatJSON,
		doc: `{"node": {"id": "a", "id": "b"}}`, warn: `node.id|duplicate key "id"`,
		check: func(b *bootstrapv3.Bootstrap) bool { return b.GetNode().GetId() == "b" }},
	{name: "YAML in a file Envoy reads as JSON", cite: loadFile, format: FormatJSON, doc: "node: {id: a}",
		err: "|Envoy reads this file as JSON"},
	{name: "JSON in a file Envoy reads as YAML", cite: loadFile, format: FormatYAML, doc: `{"node": {"metadata": {"f": 2.5}}}`,
		check: func(b *bootstrapv3.Bootstrap) bool {
			return b.GetNode().GetMetadata().GetFields()["f"].GetStringValue() == "2.5"
		}},
}

// TestEnvoyLeniencies: every form Envoy's reading accepts is accepted with its value, and what it refuses is refused;
// each case names the source line that decides it.
func TestEnvoyLeniencies(t *testing.T) {
	for _, tc := range leniencyCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cite == "" {
				t.Fatal("no citation")
			}
			b, ps := Read([]byte(tc.doc), tc.format)
			if tc.err != "" {
				path, msg, _ := strings.Cut(tc.err, "|")
				if !ps.HasErrors() {
					t.Fatalf("accepted (%s says Envoy refuses it)", tc.cite)
				}
				assertProblem(t, ps.Errors(), path, msg)
				return
			}
			if ps.HasErrors() {
				t.Fatalf("refused, though Envoy accepts it (%s):\n%v", tc.cite, ps.Errors())
			}
			if tc.warn != "" {
				path, msg, _ := strings.Cut(tc.warn, "|")
				assertProblem(t, ps.Warnings(), path, msg)
			} else if len(ps) > 0 {
				t.Errorf("unexpected warnings: %v", ps)
			}
			if tc.check != nil && !tc.check(b) {
				t.Errorf("decoded to the wrong value (%s):\n%v", tc.cite, b)
			}
		})
	}
}

// TestNearMisses: unusual but valid ways of writing a real bootstrap, which Envoy loads, go through the whole
// validator (decode, PGV, cross-references, load-time rules) without an error. Each names the leniency it relies on.
func TestNearMisses(t *testing.T) {
	for _, tc := range []struct {
		name, cite string
		edits      []edit
	}{
		{"Duration as an object", parserCC + "1298-1320",
			[]edit{{"connect_timeout: 0.25s", "connect_timeout: {seconds: 0, nanos: 250000000}"}}},
		{"Duration with leading zeros", parserCC + "946-998", []edit{{"stream_idle_timeout: 2400s", "stream_idle_timeout: 02400s"}}},
		{"bool as a quoted word", parserCC + "484-500", []edit{{"use_unsigned_payload: true", `use_unsigned_payload: "yes"`}}},
		{"yaml-cpp boolean", yamlCpp + "src/convert.cpp:41-73", []edit{{"use_unsigned_payload: true", "use_unsigned_payload: On"}}},
		{"port as a signed string", parserCC + "193-237", []edit{{"127.0.0.1, port_value: 8080}", `127.0.0.1, port_value: "+8080"}`}}},
		{"port as a float", parserCC + "171-191", []edit{{"127.0.0.1, port_value: 8080}", "127.0.0.1, port_value: 8.08e3}"}}},
		{"enum by number", parserCC + "357-385", []edit{{"codec_type: AUTO", "codec_type: 0"}}},
		{"single domain instead of a list", parserCC + "1270-1276", []edit{{`domains: ["*"]`, `domains: "*"`}}},
		{"nested lists", parserCC + "682-700",
			[]edit{{"match_excluded_headers: [{exact: te}, {prefix: x}]", "match_excluded_headers: [[{exact: te}], [[{prefix: x}]]]"}}},
		{"weight as an object", parserCC + "1298-1320", []edit{{"{name: app_v2, weight: 10}", "{name: app_v2, weight: {value: 10}}"}}},
		{"anchors under an ignored key", yamlLoader + " (!ignore)",
			[]edit{{"static_resources:\n", "!ignore common: &tls_inspector\n  name: envoy.filters.listener.tls_inspector\n  typed_config:\n    \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector\nstatic_resources:\n"},
				{"    listener_filters:\n    - name: envoy.filters.listener.tls_inspector\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector\n",
					"    listener_filters: [*tls_inspector]\n"}}},
		{"field named in camelCase beside snake_case", "descriptor_traits.h:169-187",
			[]edit{{"stat_prefix: ingress_http", "statPrefix: ingress_http"}}},
		{"null where a field could be", parserCC + "398-424", []edit{{"codec_type: AUTO", "codec_type: ~"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ps := Read([]byte(mutate(t, sample(t), tc.edits...)), FormatYAML)
			if !ps.HasErrors() {
				ps = append(ps, Check(b)...)
			}
			if ps.HasErrors() {
				t.Errorf("refused, though Envoy loads it (%s):\n%v", tc.cite, ps.Errors())
			}
		})
	}
}
