package render

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/testenv"
	"github.com/appnet/appnet-agent/internal/validate"
)

// The decoded size limit of inline documents is the file limit.
func TestInlineLimitIsTheFileLimit(t *testing.T) {
	if env.MaxInlineBytes != validate.MaxDocumentBytes {
		t.Fatalf("env.MaxInlineBytes = %d, validate.MaxDocumentBytes = %d: keep them equal", env.MaxInlineBytes, validate.MaxDocumentBytes)
	}
}

const tracingFragment = `tracing:
  http:
    name: envoy.tracers.datadog
    typed_config:
      "@type": type.googleapis.com/envoy.config.trace.v3.DatadogConfig
      collector_cluster: zipkin
      service_name: inline
static_resources:
  clusters:
  - name: zipkin
    type: STRICT_DNS
    connect_timeout: 1s
    load_assignment:
      cluster_name: zipkin
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: zipkin.local, port_value: 9411}}}
`

const statsFragment = `stats_config:
  use_all_default_tags: false
  stats_tags:
  - tag_name: team
    fixed_value: payments
`

const resourcesFragment = `static_resources:
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
`

const samplingRules = `{"version": 2, "rules": [], "default": {"fixed_target": 1, "rate": 0.5}}`

// An inline variable is merged exactly as its file twin: in every encoding, each of the
// fragments gives the bootstrap the file gives, and the sampling rules the same tracer.
func TestInlineTwinsRenderLikeTheirFiles(t *testing.T) {
	base := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n", "ENABLE_ENVOY_DOG_STATSD": "true"}
	twins := []struct {
		fileVar, inlineVar, content string
		extra                       map[string]string
	}{
		{"ENVOY_TRACING_CFG_FILE", "ENVOY_TRACING_CFG", tracingFragment, nil},
		{"ENVOY_STATS_CONFIG_FILE", "ENVOY_STATS_CONFIG", statsFragment, nil},
		{"ENVOY_STATS_SINKS_CFG_FILE", "ENVOY_STATS_SINKS_CFG", sinkFragment, nil},
		{"ENVOY_RESOURCES_CONFIG_FILE", "ENVOY_RESOURCES_CONFIG", resourcesFragment, nil},
		{"XRAY_SAMPLING_RULE_MANIFEST", "XRAY_SAMPLING_RULES", samplingRules, map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "true"}},
	}
	for _, tw := range twins {
		vars := func(k, v string) map[string]string {
			m := map[string]string{k: v}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tw.extra {
				m[k] = v
			}
			return m
		}
		fromFile, err := renderVars(vars(tw.fileVar, "/f"), Options{Collector: fixedCollector, ReadFile: fragmentFiles(map[string]string{"/f": tw.content})})
		if err != nil {
			t.Fatalf("%s: %v", tw.fileVar, err)
		}
		for enc, value := range map[string]string{
			"as is":            tw.content,
			"indented":         indent(tw.content, "  "),
			"base64":           "base64:" + base64.StdEncoding.EncodeToString([]byte(tw.content)),
			"base64 unpadded":  "base64:" + base64.RawStdEncoding.EncodeToString([]byte(tw.content)),
			"base64 wrapped":   "base64:" + wrap(base64.StdEncoding.EncodeToString([]byte(tw.content)), 76),
			"gzip+base64":      testenv.GzipBase64(t, []byte(tw.content)),
			"trailing newline": tw.content + "\n\n",
		} {
			if tw.inlineVar == "XRAY_SAMPLING_RULES" && enc == "indented" {
				continue // JSON: indentation means nothing there
			}
			t.Run(tw.inlineVar+"/"+enc, func(t *testing.T) {
				inline, err := renderVars(vars(tw.inlineVar, value), Options{Collector: fixedCollector, ReadFile: noFiles})
				if err != nil {
					t.Fatal(err)
				}
				if tw.inlineVar == "XRAY_SAMPLING_RULES" {
					if got := string(inline.SideFiles[samplingRulesPath]); strings.TrimSpace(got) != strings.TrimSpace(tw.content) {
						t.Errorf("side file %s = %q, want the rules as given", samplingRulesPath, got)
					}
					fromFile.Bytes = bytes.ReplaceAll(fromFile.Bytes, []byte(`"/f"`), []byte(`"`+samplingRulesPath+`"`))
					fromFile.Bytes = bytes.ReplaceAll(fromFile.Bytes, []byte(` /f`+"\n"), []byte(" "+samplingRulesPath+"\n"))
				}
				if !bytes.Equal(inline.Bytes, fromFile.Bytes) {
					t.Errorf("%s (%s) renders differently from %s:\n%s\n---\n%s", tw.inlineVar, enc, tw.fileVar, inline.Bytes, fromFile.Bytes)
				}
			})
		}
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// secretMarker stands for a secret inside an inline document: it must appear in no error.
const secretMarker = "S3CR3T!MARKER!do!not!print"

// A problem in a fragment is located in it: variable (and file), line (or column in a one-line
// document), field path; a quoted value of an inline document is hidden.
func TestProblemsAreLocatedInTheFragment(t *testing.T) {
	badPort := strings.Replace(resourcesFragment, "port_value: 8080", "port_value: 99999", 1)
	const portPath = "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: value must be less than or equal to 65535"
	secretJSON := `{"static_resources":{"secrets":[{"name":"s","generic_secret":{"secret":{"inline_bytes":"` + secretMarker + `"}}}]}}`
	camel := "staticResources:\n  clusters:\n  - name: c\n    connectTimeout: 1s\n    type: STATIC\n    loadAssignment: {clusterName: c, endpoints: [{lbEndpoints: [{endpoint: {address: {socketAddress: {address: 127.0.0.1, portValue: 70000}}}}]}]}\n"
	tests := []struct {
		name  string
		vars  map[string]string
		files map[string]string
		want  []string
	}{
		{name: "inline, base64", vars: map[string]string{"ENVOY_RESOURCES_CONFIG": "base64:" + base64.StdEncoding.EncodeToString([]byte(badPort))},
			want: []string{"the bootstrap is invalid:\nENVOY_RESOURCES_CONFIG: line 10: " + portPath}},
		{name: "file", vars: map[string]string{"ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"}, files: map[string]string{"/r.yaml": badPort},
			want: []string{"ENVOY_RESOURCES_CONFIG_FILE /r.yaml: line 10: " + portPath}},
		{name: "one-line JSON", vars: map[string]string{"ENVOY_RESOURCES_CONFIG": secretJSON},
			want: []string{"ENVOY_RESOURCES_CONFIG: line 1, column 73: static_resources.secrets[0].generic_secret.secret.inline_bytes: invalid value for bytes field inlineBytes: " + hiddenValue}},
		{name: "camelCase keys", vars: map[string]string{"ENVOY_RESOURCES_CONFIG": camel},
			want: []string{"ENVOY_RESOURCES_CONFIG: line 6: static_resources.clusters[0].load_assignment"}},
		{name: "second of two fragments", vars: map[string]string{"ENVOY_STATS_SINKS_CFG": sinkFragment,
			"ENVOY_TRACING_CFG": strings.Replace(tracingFragment, "port_value: 9411", "port_value: 99999", 1)},
			want: []string{"ENVOY_TRACING_CFG: line 17: static_resources.clusters[0].load_assignment"}},
		{name: "whole inline bootstrap, one line", vars: map[string]string{"ENVOY_CONFIG": `{"node":{"id":"n","cluster":"c"},"admin":{"address":{"socket_address":{"address":"127.0.0.1","port_value":70000}}}}`},
			want: []string{"ENVOY_CONFIG is not a valid bootstrap:\nENVOY_CONFIG: line 1, column 94: admin.address.socket_address.port_value"}},
		{name: "whole inline bootstrap, YAML", vars: map[string]string{"ENVOY_CONFIG": "node: {id: node1, cluster: c}\nadmin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: 70000}\n"},
			want: []string{"ENVOY_CONFIG: line 4: admin.address.socket_address.port_value"}},
		{name: "whole inline bootstrap, secret", vars: map[string]string{"ENVOY_CONFIG": strings.Replace(secretJSON, "{", `{"node":{"id":"n","cluster":"c"},`, 1)},
			want: []string{"ENVOY_CONFIG: line 1", "inline_bytes: invalid value for bytes field inlineBytes: " + hiddenValue}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderSidecar(tt.vars, tt.files)
			if err == nil {
				t.Fatal("rendered; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), secretMarker) {
				t.Errorf("the error shows the inline content:\n%v", err)
			}
		})
	}
}

// ENVOY_CONFIG is validated like an existing ENVOY_CONFIG_FILE and kept byte for byte, in a
// file named for its format (Envoy picks its parser by the name).
func TestInlineBootstrap(t *testing.T) {
	const yamlBoot = "node: {id: node1, cluster: c}\nadmin:\n  address: {socket_address: {address: 127.0.0.1, port_value: 9901}}\n"
	const jsonBoot = `{"node": {"id": "n", "cluster": "c"}, "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 9901}}}}`
	for _, tc := range []struct {
		name, value, wantName string
		data                  string
	}{
		{"YAML", yamlBoot, "envoy-config.yaml", yamlBoot},
		{"JSON", jsonBoot, "envoy-config.json", jsonBoot},
		{"JSON in gzip+base64", testenv.GzipBase64(t, []byte(jsonBoot)), "envoy-config.json", jsonBoot},
		{"flow YAML that is not JSON", "{node: {id: node1, cluster: c}}", "envoy-config.yaml", "{node: {id: node1, cluster: c}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := renderVars(map[string]string{"ENVOY_CONFIG": tc.value, "ENVOY_CONCURRENCY": "2"}, Options{Collector: fixedCollector, ReadFile: noFiles})
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Bytes) != tc.data || res.Given != "ENVOY_CONFIG" || res.Existing || res.FileName != tc.wantName {
				t.Fatalf("Bytes %q Given %q Existing %v FileName %q", res.Bytes, res.Given, res.Existing, res.FileName)
			}
			tmp := t.TempDir()
			out, err := Write(res, "", tmp)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(out.Path) != tc.wantName {
				t.Errorf("written to %s, want .../%s", out.Path, tc.wantName)
			}
			if got, err := os.ReadFile(out.Path); err != nil || string(got) != tc.data {
				t.Errorf("file holds %q (%v)", got, err)
			}
			if st, err := os.Stat(out.Path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v (%v), want 0600", st.Mode(), err)
			}
			if err := os.Remove(out.Path); err != nil {
				t.Fatal(err)
			}
			if restored, err := out.Restore(); err != nil || len(restored) != 1 {
				t.Errorf("Restore: %v %v", restored, err)
			}
			out.Discard()
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("Discard left %v", entries)
			}
		})
	}
}
