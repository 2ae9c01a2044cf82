package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	"github.com/appnet/appnet-agent/internal/testenv"
)

func plain(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// FuzzDecode: no input may panic or hang Decode, Check (with Envoy's load-time rules), Warnings, Deprecations, Lint
// or the canonical encoders.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		"", "{}", "admin: {}", "a: &a [*a]", "<<: {node: {id: x}}", "node: {metadata: {a: [1, {b: yes}]}}",
		"static_resources: {clusters: {name: c, type: logical_dns}}",
		`{"static_resources": {"listeners": [{"filter_chains": [{"filters": [{"name": "x", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "cluster": "c"}}]}]}]}}`,
		"bootstrap_extensions: [{name: x, typed_config: {'@type': type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener, value: {buffer_size_kbs: 1}}}]",
	}
	files := []string{"testdata/sidecar.yaml"}
	for _, dir := range []string{"testdata/mistakes", "testdata/accepted", "testdata/envoy-ci", testenv.Testdata("bootstrap-real")} {
		more, _ := filepath.Glob(filepath.Join(dir, "*.*"))
		files = append(files, more...)
	}
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil && !strings.HasSuffix(file, ".md") {
			seeds = append(seeds, string(data))
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = lint(data)
		b, err := Decode(data)
		if err != nil {
			if strings.Contains(err.Error(), "cannot parse bootstrap:") {
				t.Fatalf("recovered panic: %v", err)
			}
			return
		}
		_ = Check(b)
		_ = CheckWith(b, Options{})
		_ = Warnings(b)
		_ = Deprecations(b)
		y, err := CanonicalYAML(b)
		if err != nil {
			t.Fatalf("CanonicalYAML of a decoded bootstrap: %v", err)
		}
		// The canonical YAML reads back as the same bootstrap (but for Struct numbers from JSON input that no
		// YAML can give Envoy as numbers), and is a fixed point.
		back, err := Decode(y)
		if err != nil {
			t.Fatalf("canonical YAML does not decode: %v\n%s", err, y)
		}
		if !proto.Equal(b, back) && !hasLossyStructNumber(b.ProtoReflect()) {
			t.Fatalf("canonical YAML decodes to a different bootstrap:\n%s", y)
		}
		if again, err := CanonicalYAML(back); err != nil || (proto.Equal(b, back) && !bytes.Equal(again, y)) {
			t.Fatalf("canonical YAML is not stable (%v):\n%s\n%s", err, y, again)
		}
	})
}
