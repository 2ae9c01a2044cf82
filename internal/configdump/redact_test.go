package configdump

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cncf/xds/go/udpa/annotations"
	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	// Every Envoy API type go-control-plane ships, registered as in the agent's binary.
	_ "github.com/appnet/appnet-agent/internal/validate"
)

// dumpJSON encodes a config dump the way Envoy does (proto field names).
func dumpJSON(t testing.TB, msgs ...proto.Message) []byte {
	t.Helper()
	cd := &adminv3.ConfigDump{}
	for _, m := range msgs {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		cd.Configs = append(cd.Configs, a)
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(cd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func redact(t testing.TB, in []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := Redact(bytes.NewReader(in), &out); err != nil {
		t.Fatalf("Redact: %v\ninput:\n%s", err, in)
	}
	if !json.Valid(out.Bytes()) {
		t.Fatalf("output is not JSON:\n%s", out.String())
	}
	return out.String()
}

// assertHidden fails when the marker, or its base64 form (bytes fields), is in out.
func assertHidden(t *testing.T, out, marker string) {
	t.Helper()
	for _, form := range []string{marker, base64.StdEncoding.EncodeToString([]byte(marker))} {
		if strings.Contains(out, form) {
			t.Errorf("secret %q is in the output:\n%s", form, out)
		}
	}
}

func dataSource(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}

func secretsDumpOf(secrets ...*tlsv3.Secret) *adminv3.SecretsConfigDump {
	d := &adminv3.SecretsConfigDump{}
	for _, s := range secrets {
		a, _ := anypb.New(s)
		d.StaticSecrets = append(d.StaticSecrets, &adminv3.SecretsConfigDump_StaticSecret{Name: s.Name, Secret: a})
		d.DynamicActiveSecrets = append(d.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{Name: s.Name, VersionInfo: "v1", Secret: a})
		d.DynamicWarmingSecrets = append(d.DynamicWarmingSecrets, &adminv3.SecretsConfigDump_DynamicSecret{Name: s.Name, VersionInfo: "v2", Secret: a})
	}
	return d
}

// Every kind of SDS secret go-control-plane defines (the oneof of tls.v3.Secret, walked from
// its descriptor so a new kind fails this test until it is covered) is redacted in every
// place of the secrets dump; the secrets' names stay.
func TestSecretsOfEveryType(t *testing.T) {
	cases := map[string]*tlsv3.Secret{
		"tls_certificate": {Name: "name-tls", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: dataSource("MARKER-CHAIN"),
			PrivateKey:       dataSource("MARKER-PRIVATE-KEY"),
			Password:         dataSource("MARKER-KEY-PASSWORD"),
			Pkcs12:           &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("MARKER-PKCS12")}},
		}}},
		"session_ticket_keys": {Name: "name-stek", Type: &tlsv3.Secret_SessionTicketKeys{SessionTicketKeys: &tlsv3.TlsSessionTicketKeys{
			Keys: []*corev3.DataSource{{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("MARKER-TICKET-KEY-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd")}}},
		}}},
		"validation_context": {Name: "name-ca", Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: dataSource("MARKER-TRUSTED-CA"),
		}}},
		"generic_secret": {Name: "name-hmac", Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{
			Secret:  &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("MARKER-HMAC-SECRET")}},
			Secrets: map[string]*corev3.DataSource{"oauth2-token": dataSource("MARKER-OAUTH2-TOKEN"), "client-secret": dataSource("MARKER-OAUTH2-CLIENT-SECRET")},
		}}},
	}
	oneof := (&tlsv3.Secret{}).ProtoReflect().Descriptor().Oneofs().ByName("type")
	for i := 0; i < oneof.Fields().Len(); i++ {
		if name := string(oneof.Fields().Get(i).Name()); cases[name] == nil {
			t.Errorf("tls.v3.Secret has a kind %q this test does not cover", name)
		}
	}
	for kind, s := range cases {
		t.Run(kind, func(t *testing.T) {
			out := redact(t, dumpJSON(t, secretsDumpOf(s)))
			assertHidden(t, out, "MARKER")
			if n := strings.Count(out, `"`+s.Name+`"`); n != 3 {
				t.Errorf("the secret's name is in the output %d times, want 3:\n%s", n, out)
			}
			if !strings.Contains(out, `"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"`) {
				t.Errorf("the secret's type is gone:\n%s", out)
			}
		})
	}
}

// Every field of every registered message type marked udpa.annotations.sensitive is
// redacted, with what is under it, wherever the message sits in the dump.
func TestEverySensitiveField(t *testing.T) {
	n := 0
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		md := mt.Descriptor()
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			if !proto.GetExtension(fd.Options(), annotations.E_Sensitive).(bool) {
				continue
			}
			n++
			marker := fmt.Sprintf("MARKER-%s-%s", md.Name(), fd.Name())
			m := mt.New()
			setMarked(m, fd, marker, 0)
			t.Run(string(md.FullName())+"."+string(fd.Name()), func(t *testing.T) {
				in := dumpJSON(t, m.Interface())
				if !bytes.Contains(in, []byte(marker)) && !bytes.Contains(in, []byte(base64.StdEncoding.EncodeToString([]byte(marker)))) {
					t.Fatalf("test setup: the marker is not in the input:\n%s", in)
				}
				out := redact(t, in)
				assertHidden(t, out, marker)
				if !strings.Contains(out, string(fd.Name())) {
					t.Errorf("the field's key is gone:\n%s", out)
				}
			})
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found only %d sensitive fields in the registry; is every Envoy type registered?", n)
	}
}

// setMarked sets fd of m to a value that carries marker.
func setMarked(m protoreflect.Message, fd protoreflect.FieldDescriptor, marker string, depth int) {
	switch {
	case fd.IsMap():
		v := markedValue(m.NewField(fd).Map().NewValue(), fd.MapValue(), marker, depth)
		m.Mutable(fd).Map().Set(protoreflect.ValueOfString("k").MapKey(), v)
	case fd.IsList():
		l := m.Mutable(fd).List()
		l.Append(markedValue(l.NewElement(), fd, marker, depth))
	default:
		var zero protoreflect.Value
		if fd.Message() != nil {
			zero = m.NewField(fd)
		}
		m.Set(fd, markedValue(zero, fd, marker, depth))
	}
}

// markedValue is a value of fd's kind carrying marker: the string itself, or a message with
// its first string-like field (recursively) set.
func markedValue(v protoreflect.Value, fd protoreflect.FieldDescriptor, marker string, depth int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(marker)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(marker))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		msg := v.Message()
		if fd.Message().FullName() == "google.protobuf.Any" {
			a, _ := anypb.New(wrapperspb.String(marker))
			return protoreflect.ValueOfMessage(a.ProtoReflect())
		}
		fillMessage(msg, marker, depth+1)
		return protoreflect.ValueOfMessage(msg)
	}
	panic("no marker for kind " + fd.Kind().String())
}

func fillMessage(m protoreflect.Message, marker string, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		if k := fields.Get(i).Kind(); (k == protoreflect.StringKind || k == protoreflect.BytesKind) && !fields.Get(i).IsMap() {
			setMarked(m, fields.Get(i), marker, depth)
			return
		}
	}
	if depth > 5 {
		return
	}
	for i := 0; i < fields.Len(); i++ {
		if fd := fields.Get(i); fd.Message() != nil && !fd.IsMap() {
			setMarked(m, fd, marker, depth)
			return
		}
	}
}

// A TLS private key deep in a static cluster's transport socket is redacted; the rest of the
// cluster stays as Envoy wrote it, in its order.
func TestNestedPrivateKeyAndTheRestKept(t *testing.T) {
	tlsCtx, _ := anypb.New(&tlsv3.UpstreamTlsContext{Sni: "backend.example", CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificates: []*tlsv3.TlsCertificate{{CertificateChain: dataSource("PUBLIC-CHAIN"), PrivateKey: dataSource("MARKER-KEY")}}}})
	cl, _ := anypb.New(&clusterv3.Cluster{Name: "backend", TransportSocket: &corev3.TransportSocket{
		Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: tlsCtx}}})
	in := dumpJSON(t, &adminv3.ClustersConfigDump{VersionInfo: "7", StaticClusters: []*adminv3.ClustersConfigDump_StaticCluster{{Cluster: cl}}})
	out := redact(t, in)
	assertHidden(t, out, "MARKER")
	for _, want := range []string{`"name": "backend"`, `"sni": "backend.example"`, `"inline_string": "PUBLIC-CHAIN"`, `"private_key": {`, `"inline_string": "[redacted]"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if strings.Index(out, `"version_info"`) > strings.Index(out, `"static_clusters"`) {
		t.Errorf("the keys' order changed:\n%s", out)
	}
	// Only the secret differs: with it replaced in the input, the two documents are equal.
	var a, b any
	_ = json.Unmarshal([]byte(strings.ReplaceAll(string(in), "MARKER-KEY", Redacted)), &a)
	_ = json.Unmarshal([]byte(out), &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the redacted dump differs from the input beyond the secret:\nin:  %v\nout: %v", a, b)
	}
}

// What the descriptors cannot vouch for is redacted: unknown fields (a newer Envoy), an Any
// of an unregistered type, an Any without a leading @type. Malformed input is an error.
func TestFailClosed(t *testing.T) {
	for _, tc := range []struct{ name, in, keep string }{
		{"unknown field", `{"configs":[], "future_field": {"token": "MARKER-1", "n": 5}}`, `"future_field"`},
		{"unregistered type", `{"configs":[{"@type":"type.googleapis.com/acme.Secret","key":"MARKER-2"}]}`, `acme.Secret`},
		{"@type not first", `{"configs":[{"key":"MARKER-3","@type":"type.googleapis.com/envoy.admin.v3.ServerInfo"}]}`, `"key"`},
		{"unknown field in a known type", `{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.ClustersConfigDump","version_info":"v","new":["MARKER-4"]}]}`, `"version_info": "v"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := redact(t, []byte(tc.in))
			assertHidden(t, out, "MARKER")
			if !strings.Contains(out, tc.keep) {
				t.Errorf("output lacks %s:\n%s", tc.keep, out)
			}
		})
	}
	for _, bad := range []string{`{"configs":[`, `{"configs":[]} {}`, `[1]`, `{"configs":{}}`, strings.Repeat(`{"configs":[{"@type":"type.googleapis.com/google.protobuf.Struct","value":`, 1) + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "}]}"} {
		if err := Redact(strings.NewReader(bad), &bytes.Buffer{}); err == nil {
			t.Errorf("Redact(%.40q) = nil, want an error", bad)
		}
	}
}

// Well-known types keep their own JSON (a Struct's metadata, a Duration).
func TestWellKnownTypesKept(t *testing.T) {
	in := `{"configs":[{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"plain"},` +
		`{"@type":"type.googleapis.com/envoy.admin.v3.ClustersConfigDump","static_clusters":[{"cluster":{"@type":"type.googleapis.com/envoy.config.cluster.v3.Cluster","name":"c","connect_timeout":"0.250s","metadata":{"filter_metadata":{"x":{"k":[1,true,null]}}}}}]}]}`
	out := redact(t, []byte(in))
	for _, want := range []string{`"value": "plain"`, `"connect_timeout": "0.250s"`, `1,`, `true,`, `null`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
