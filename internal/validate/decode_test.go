package validate

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestDecodeRejects: strict decoding, one mutation of the sample per rule.
func TestDecodeRejects(t *testing.T) {
	runMutations(t, []mutation{
		{"unknown top-level field", []edit{{"stats_flush_interval: 10s", "stats_flush_intervall: 10s"}},
			"stats_flush_intervall", `unknown field "stats_flush_intervall" in envoy.config.bootstrap.v3.Bootstrap (line `},
		{"unknown field in typed_config", []edit{{"stat_prefix: ingress_http", "stat_prefx: ingress_http"}},
			hcmPath + ".stat_prefx", `unknown field "stat_prefx"`},
		{"unknown field in nested typed_config", []edit{{"collector_endpoint: /api/v2/spans", "collector_endpont: /x"}},
			hcmPath + ".tracing.provider.typed_config<ZipkinConfig>.collector_endpont", `unknown field`},
		{"bad @type", []edit{{"grpc_web.v3.GrpcWeb", "grpc_web.v3.GrpcWebb"}},
			hcmPath + ".http_filters[0].typed_config.@type", `unknown type "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWebb"`},
		{"v2 @type", []edit{{"envoy.extensions.access_loggers.file.v3.FileAccessLog", "envoy.config.accesslog.v2.FileAccessLog"}},
			"admin.access_log[0].typed_config.@type", "removed v2 API"},
		{"missing @type", []edit{{"    \"@type\": type.googleapis.com/envoy.config.metrics.v3.StatsdSink\n", ""}},
			"stats_sinks[1].typed_config", `missing "@type"`},
		{"wrong type", []edit{{"127.0.0.1, port_value: 8080}", "127.0.0.1, port_value: abc}"}},
			appAddr + ".port_value", `invalid value for uint32 field portValue: "abc" (line 206)`},
		{"wrong type inside typed_config", []edit{{"use_unsigned_payload: true", "use_unsigned_payload: maybe"}},
			hcmPath + ".http_filters[1].typed_config<AwsRequestSigning>.use_unsigned_payload", `invalid value for bool field useUnsignedPayload: "maybe" (line 138)`},
		{"bad duration", []edit{{"connect_timeout: 0.25s", "connect_timeout: 1m"}},
			appPath + ".connect_timeout", `invalid google.protobuf.Duration value "1m"`},
		{"unknown enum value", []edit{{"codec_type: AUTO", "codec_type: automatic"}},
			hcmPath + ".codec_type", `invalid value for enum field codecType: "automatic"`},
		{"string where a message is expected", []edit{{"stream_idle_timeout: 2400s", "stream_idle_timeout: [1]"}},
			hcmPath + ".stream_idle_timeout", `unexpected token [`},
		{"field of a oneof under both names", []edit{{"127.0.0.1, port_value: 8080}", "127.0.0.1, port_value: 8080, portValue: 8080}"}},
			appAddr + ".port_value", `field given twice ("port_value" and "portValue"): a field of oneof port_specifier`},
		{"invalid YAML", []edit{{"stats_flush_interval: 10s", "stats_flush_interval: [10s"}},
			"", "invalid YAML"},
	})
}

// TestDecodeWarnings: what Envoy's reading accepts but an author rarely means is a warning, not an error.
func TestDecodeWarnings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []edit
		path  string
		msg   string
	}{
		{"duplicate YAML key", []edit{{"stats_flush_interval: 10s\n", "stats_flush_interval: 10s\nstats_flush_interval: 5s\n"}},
			"stats_flush_interval", `duplicate key "stats_flush_interval" (first at line 80): Envoy uses the last value (line 81)`},
		{"duplicate key in typed_config", []edit{{"prefix: appmesh\n", "prefix: appmesh\n    prefix: other\n"}},
			"stats_sinks[1].typed_config<StatsdSink>.prefix", `duplicate key "prefix"`},
		{"both spellings of a field", []edit{{"stat_prefix: ingress_http", "stat_prefix: ingress_http\n          statPrefix: x"}},
			hcmPath + ".stat_prefix", `field given twice ("stat_prefix" and "statPrefix"): Envoy uses the last`},
		{"second document", []edit{{"stats_flush_interval: 10s\n", "stats_flush_interval: 10s\n---\nfoo: 1\n"}},
			"", "more than one YAML document (line 81): Envoy reads only the first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := Read([]byte(mutate(t, sample(t), tc.edits...)), FormatYAML)
			assertProblem(t, ps.Warnings(), tc.path, tc.msg)
			for _, p := range ps.Errors() {
				if strings.Contains(p.Message, "duplicate") || strings.Contains(p.Message, "twice") || strings.Contains(p.Message, "document") {
					t.Errorf("also an error: %v", p)
				}
			}
		})
	}
}

// TestDecodeJSONErrors: single-line JSON (what a program writes) gets paths but no meaningless "line 1".
func TestDecodeJSONErrors(t *testing.T) {
	_, err := Decode([]byte(`{"admin": {"address": {"socket_address": {"port_value": "x", "adress": "a"}}}}`))
	assertProblem(t, err, "admin.address.socket_address.adress", `unknown field "adress" in envoy.config.core.v3.SocketAddress`)
	assertProblem(t, err, "admin.address.socket_address.port_value", `invalid value for uint32 field portValue: "x"`)
	if strings.Contains(err.Error(), "(line") {
		t.Errorf("line numbers for single-line input: %v", err)
	}
}

// TestLeniency: what Envoy accepts although strict proto3 JSON does not.
func TestLeniency(t *testing.T) {
	src := mutate(t, sample(t),
		edit{"type: STATIC", "type: static"},
		edit{"codec_type: AUTO", "codec_type: auto"}, // inside typed_config
		edit{"api_type: GRPC", "api_type: Grpc"},     // any case
		edit{"TLSv1_2", "tlsv1_2"},                   // Any inside a cluster
		edit{"match_excluded_headers: [{exact: te}, {prefix: x}]", "match_excluded_headers: {exact: te}"},
		edit{"  access_log:\n  - name: envoy.access_loggers.file\n    typed_config:\n      \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n      path: /tmp/envoy_admin_access.log\n",
			"  access_log:\n    name: envoy.access_loggers.file\n    typed_config:\n      \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n      path: /tmp/envoy_admin_access.log\n"},
		edit{"      - lb_endpoints:\n        - endpoint:\n            address:\n              socket_address: {address: 127.0.0.1, port_value: 8080}",
			"        lb_endpoints:\n          endpoint:\n            address:\n              socket_address: {address: 127.0.0.1, port_value: 0x1F90}"},
		// Struct content stays as written: no enum or list leniency, plain scalars typed the Envoy way.
		edit{"      l1: 15000\n", "      l1: 15000\n      type: static\n      on: yes\n      big: 4294967296\n      ratio: 1.10\n"},
	)
	b, err := Bootstrap([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	app := b.GetStaticResources().GetClusters()[1]
	if app.GetType() != clusterv3.Cluster_STATIC {
		t.Errorf("type = %v", app.GetType())
	}
	eps := app.GetLoadAssignment().GetEndpoints()
	if len(eps) != 1 || len(eps[0].GetLbEndpoints()) != 1 ||
		eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue() != 8080 {
		t.Errorf("single objects as lists: %v", eps)
	}
	if n := len(b.GetAdmin().GetAccessLog()); n != 1 {
		t.Errorf("admin.access_log has %d entries", n)
	}
	if b.GetDynamicResources().GetAdsConfig().GetApiType().String() != "GRPC" {
		t.Errorf("api_type = %v", b.GetDynamicResources().GetAdsConfig().GetApiType())
	}
	var hcm hcmv3.HttpConnectionManager
	any := b.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig()
	if err := anypb.UnmarshalTo(any, &hcm, proto.UnmarshalOptions{}); err != nil {
		t.Fatal(err)
	}
	if hcm.GetCodecType() != hcmv3.HttpConnectionManager_AUTO {
		t.Errorf("codec_type = %v", hcm.GetCodecType())
	}
	m := b.GetNode().GetMetadata().GetFields()["aws.ecs.serviceconnect.ListenerPortMapping"].GetStructValue().GetFields()
	if got := m["type"].GetStringValue(); got != "static" {
		t.Errorf("Struct string changed to %q", got)
	}
	if _, ok := m["on"]; !ok {
		t.Errorf("Struct key on missing: %v", m)
	}
	if got := m["big"].GetStringValue(); got != "4294967296" {
		t.Errorf("big int in Struct = %v, want the string Envoy makes of it", m["big"])
	}
	if got := m["ratio"].GetStringValue(); got != "1.10" {
		t.Errorf("float in Struct = %v, want the string Envoy makes of it", m["ratio"])
	}
}

// TestDecodeProblemLimit: a hopeless input yields a bounded list, saying so.
func TestDecodeProblemLimit(t *testing.T) {
	var b strings.Builder
	for i := range 150 {
		b.WriteString("unknown" + strings.Repeat("x", i) + ": 1\n")
	}
	_, err := Decode([]byte(b.String()))
	ps, ok := err.(Problems)
	if !ok || len(ps) != maxProblems+1 || !strings.Contains(ps[maxProblems].Message, "too many problems") {
		t.Fatalf("got %d problems: %v", len(ps), err)
	}
}

// TestParseAndDecodeNode: the parse-once entry points keep Decode's strictness; DecodeNode reads every scalar the
// way Envoy's YAML loader does (also JSON-looking flow input, which render produces with toJson), and reports paths
// without line numbers.
func TestParseAndDecodeNode(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty bootstrap"},
		{"two documents", "admin: {}\n---\nnode: {}\n", "more than one YAML document (line 2)"},
		{"not a mapping", "[1]", "a bootstrap must be a mapping"},
		{"invalid", "a: [1\n", "invalid YAML"},
	} {
		if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Parse error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := DecodeNode(nil); err == nil {
		t.Error("DecodeNode(nil): no error")
	}

	root, err := Parse([]byte(`{"node": {"id": "n", "metadata": {"f": 2.5, "i": 7, "big": 4294967296, "s": "2.5", "b": true}},
"admin": {"address": {"socket_address": {"address": "x", "port_value": 1, "adress": "y"}}},
"stats_flush_interval": "5s", "stats_flush_interval": "6s"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, ps := ReadNode(root)
	assertProblem(t, ps.Errors(), "admin.address.socket_address.adress", `unknown field "adress" in envoy.config.core.v3.SocketAddress`)
	assertProblem(t, ps.Warnings(), "stats_flush_interval", `duplicate key "stats_flush_interval"`)
	if strings.Contains(ps.Error(), "line") {
		t.Errorf("ReadNode reports line numbers: %v", ps)
	}

	root, err = Parse([]byte(`{"node": {"id": "n", "metadata": {"f": 2.5, "i": 7, "big": 4294967296, "s": "2.5", "b": true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeNode(root)
	if err != nil {
		t.Fatal(err)
	}
	got := b.GetNode().GetMetadata().AsMap()
	for k, want := range map[string]any{"f": "2.5", "i": 7.0, "big": "4294967296", "s": "2.5", "b": true} {
		if got[k] != want {
			t.Errorf("metadata %s = %#v, want %#v (Envoy's reading)", k, got[k], want)
		}
	}
	// Decode keeps JSON semantics for JSON input, as Envoy does for a .json bootstrap.
	j, err := Decode([]byte(`{"node": {"metadata": {"f": 2.5}}}`))
	if err != nil || j.GetNode().GetMetadata().AsMap()["f"] != 2.5 {
		t.Errorf("Decode of JSON: %v, %v", j, err)
	}
}

func TestLintNode(t *testing.T) {
	root, err := Parse([]byte("a: &x {b: yes}\nc: *x\nd: 0700\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = LintNode(root)
	assertProblem(t, err, "a", "line 1: anchor &x")
	assertProblem(t, err, "a.b", "line 1: ambiguous plain scalar yes")
	assertProblem(t, err, "c", "line 2: alias *x")
	assertProblem(t, err, "d", "line 3: ambiguous plain scalar 0700")
	if err := LintNode(nil); err != nil {
		t.Errorf("LintNode(nil) = %v", err)
	}
}

// TestDecodeJSONControlCharacters: JSON may carry DEL, C1 controls, NEL, U+2028/2029 and non-characters raw in
// strings; they reach the proto exactly, as Envoy's JSON parser reads them. YAML may not hold them raw.
func TestDecodeJSONControlCharacters(t *testing.T) {
	const s = "a\x7fb\u0085c\u0080d\u009fe\u2028f\u2029g\ufeffh\ufffei\uffffj"
	b, err := Decode([]byte(`{"node": {"id": "` + s + `", "metadata": {"` + s + `": "` + s + `"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.GetNode().GetId() != s || b.GetNode().GetMetadata().AsMap()[s] != s {
		t.Errorf("changed: %q", b.GetNode().GetId())
	}
	if _, err := Decode([]byte("node: {id: \"a\x7fb\"}")); err == nil {
		t.Error("raw DEL in YAML accepted")
	}
}
