package render

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/appnet/appnet-agent/internal/validate"
)

// fragmentFiles serves user fragments from memory.
func fragmentFiles(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, errors.New("no such file: " + p)
	}
}

// renderSidecar renders an App Mesh sidecar with vars on top, its user fragments served from files.
func renderSidecar(vars, files map[string]string) (*Result, error) {
	all := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}
	for k, v := range vars {
		all[k] = v
	}
	return renderVars(all, Options{Collector: fixedCollector, ReadFile: fragmentFiles(files)})
}

const sinkFragment = `stats_sinks:
- name: envoy.stat_sinks.statsd
  typed_config:
    "@type": type.googleapis.com/envoy.config.metrics.v3.StatsdSink
    address: {socket_address: {protocol: UDP, address: 127.0.0.1, port_value: 8125}}
`

// TestMergeFragments: user fragments are parsed strictly, merged as trees with the reference's rules, and
// their scalars read the way Envoy reads the written bootstrap.
func TestMergeFragments(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		files   map[string]string
		wantErr []string
		check   func(t *testing.T, res *Result)
	}{
		{
			name: "aliased lists and merge keys in a cluster",
			vars: map[string]string{"ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"},
			files: map[string]string{"/r.yaml": `static_resources:
  clusters: &cl
  - &c1
    name: c1
    type: STATIC
    connect_timeout: 1s
  - <<: *c1
    name: c2
`},
			check: func(t *testing.T, res *Result) {
				cs := res.Bootstrap.GetStaticResources().GetClusters()
				if len(cs) != 2 || cs[0].GetName() != "c1" || cs[1].GetName() != "c2" || cs[1].GetConnectTimeout().AsDuration().Seconds() != 1 {
					t.Errorf("clusters = %v", cs)
				}
			},
		},
		{
			name:    "duplicate key anywhere in a fragment",
			vars:    map[string]string{"ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"},
			files:   map[string]string{"/r.yaml": "static_resources:\n  clusters:\n  - name: a\n    name: b\n"},
			wantErr: []string{"ENVOY_RESOURCES_CONFIG_FILE: cannot parse /r.yaml", `line 4: duplicate key "name"`},
		},
		{
			name:    "second document",
			vars:    map[string]string{"ENVOY_STATS_CONFIG_FILE": "/s.yaml"},
			files:   map[string]string{"/s.yaml": "stats_config: {}\n---\nstats_flush_interval: 5s\n"},
			wantErr: []string{"ENVOY_STATS_CONFIG_FILE: cannot parse /s.yaml", "more than one YAML document"},
		},
		{
			name:    "top level not a mapping",
			vars:    map[string]string{"ENVOY_TRACING_CFG_FILE": "/t.yaml"},
			files:   map[string]string{"/t.yaml": "- a\n"},
			wantErr: []string{"ENVOY_TRACING_CFG_FILE: cannot parse /t.yaml", "the top level must be a mapping"},
		},
		{
			name:    "null document is empty",
			vars:    map[string]string{"ENVOY_TRACING_CFG_FILE": "/t.yaml"},
			files:   map[string]string{"/t.yaml": "# nothing\n~\n"},
			wantErr: []string{"ENVOY_TRACING_CFG_FILE: /t.yaml is empty"},
		},
		{
			name:    "both spellings",
			vars:    map[string]string{"ENVOY_STATS_CONFIG_FILE": "/s.yaml"},
			files:   map[string]string{"/s.yaml": "statsConfig: {}\nstats_config: {}\n"},
			wantErr: []string{"ENVOY_STATS_CONFIG_FILE", "contains both statsConfig and stats_config"},
		},
		{
			name:    "stats_sinks not a list",
			vars:    map[string]string{"ENVOY_STATS_SINKS_CFG_FILE": "/k.yaml"},
			files:   map[string]string{"/k.yaml": "stats_sinks: {name: x}\n"},
			wantErr: []string{"ENVOY_STATS_SINKS_CFG_FILE", "stats_sinks must be a list, not a mapping"},
		},
		{
			name:    "aliased non-list clusters",
			vars:    map[string]string{"ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"},
			files:   map[string]string{"/r.yaml": "static_resources:\n  clusters: &x foo\n  listeners: *x\n"},
			wantErr: []string{"ENVOY_RESOURCES_CONFIG_FILE", "static_resources.clusters must be a list, not a string"},
		},
		{
			name: "sinks appended to the generated ones, from two files",
			vars: map[string]string{"ENABLE_ENVOY_DOG_STATSD": "true", "ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml",
				"ENVOY_STATS_SINKS_CFG_FILE": "/k.yaml"},
			files: map[string]string{"/k.yaml": sinkFragment, "/r.yaml": sinkFragment},
			check: func(t *testing.T, res *Result) {
				// A sinks file stops the DogStatsD sink from being generated; the resources file appends.
				if n := len(res.Bootstrap.GetStatsSinks()); n != 2 {
					t.Errorf("%d stats sinks, want 2", n)
				}
			},
		},
		{
			name: "static_resources.clusters appended to the generated ones",
			vars: map[string]string{"APPMESH_SDS_SOCKET_PATH": "/run/sds.sock", "ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"},
			files: map[string]string{"/r.yaml": "static_resources:\n  clusters:\n  - {name: u, type: STATIC, connect_timeout: 1s}\n" +
				"  secrets: [{name: s, generic_secret: {secret: {inline_string: x}}}]\n"},
			check: func(t *testing.T, res *Result) {
				sr := res.Bootstrap.GetStaticResources()
				if len(sr.GetClusters()) != 2 || sr.GetClusters()[1].GetName() != "u" || len(sr.GetSecrets()) != 1 {
					t.Errorf("static_resources = %v", sr)
				}
			},
		},
		{
			name: "Struct scalars as Envoy reads them",
			vars: map[string]string{"ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"},
			files: map[string]string{"/r.yaml": `{"static_resources": {"clusters": [{"name": "m", "type": "STATIC",
				"connect_timeout": "1s", "metadata": {"filter_metadata": {"x": {"f": 2.5, "i": 7, "big": 4294967296,
				"on": "on", "b": true, "n": null, "o": 0700}}}}]}}`},
			check: func(t *testing.T, res *Result) {
				got := res.Bootstrap.GetStaticResources().GetClusters()[0].GetMetadata().GetFilterMetadata()["x"].AsMap()
				want := map[string]any{"f": "2.5", "i": 7.0, "big": "4294967296", "on": "on", "b": true, "n": nil, "o": 448.0}
				for k, w := range want {
					if got[k] != w {
						t.Errorf("%s = %#v, want %#v", k, got[k], w)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := renderSidecar(tt.vars, tt.files)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("want an error containing %q, got a bootstrap:\n%s", tt.wantErr, res.Bytes)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not contain %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
			if p := roundTripProblem(res); p != "" {
				t.Error(p)
			}
		})
	}
}

// TestWrittenBytesAreWhatWasValidated: for every benchmark environment, the bytes Envoy reads decode to exactly
// the validated proto, and decode the same through Parse + DecodeNode.
func TestWrittenBytesAreWhatWasValidated(t *testing.T) {
	for _, be := range benchEnvs {
		t.Run(be.name, func(t *testing.T) {
			res, err := renderVars(be.vars, Options{Collector: fixedCollector, ReadFile: benchReadFile})
			if err != nil {
				t.Fatal(err)
			}
			back, err := validate.Decode(res.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(back, res.Bootstrap) {
				t.Errorf("the written bytes decode to a different bootstrap:\n%s", res.Bytes)
			}
			root, err := validate.Parse(res.Bytes)
			if err == nil {
				err = validate.LintNode(root)
			}
			if err != nil {
				t.Errorf("the written bytes are not lint-clean: %v", err)
			}
		})
	}
}
