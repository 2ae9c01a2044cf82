package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/validate"
)

// TestValidationMode: with APPNET_VALIDATION=enforce (the default) a bootstrap the validator refuses stops the
// render; with warn the render succeeds, its problems are in Result.Problems as errors, and the bytes are what
// Envoy gets: the canonical bootstrap when it decodes, the merged document as it is when it does not.
func TestValidationMode(t *testing.T) {
	cases := []struct {
		name, resources string
		decodes         bool
		problem         string
	}{
		{"a load-time rule", "static_resources:\n  clusters:\n  - name: c\n    type: LOGICAL_DNS\n", true,
			"LOGICAL_DNS clusters must have a single host"},
		{"an unknown field", "static_resources:\n  clusters:\n  - name: c\n    conect_timeout: 1s\n", false,
			`unknown field "conect_timeout"`},
	}
	for _, tc := range cases {
		read := func(p string) ([]byte, error) {
			if p == "/r.yaml" {
				return []byte(tc.resources), nil
			}
			return nil, errors.New("no such file: " + p)
		}
		for _, mode := range []string{"", "enforce", "warn"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				vars := map[string]string{"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n",
					"ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"}
				if mode != "" {
					vars["APPNET_VALIDATION"] = mode
				}
				res, err := renderVars(vars, Options{ReadFile: read})
				if mode != "warn" {
					if err == nil || !strings.Contains(err.Error(), tc.problem) {
						t.Fatalf("render = %v, want the problem %q", err, tc.problem)
					}
					return
				}
				if err != nil {
					t.Fatalf("warn mode refused: %v", err)
				}
				errs := res.Problems.Errors()
				if len(errs) == 0 || !strings.Contains(errs.Error(), tc.problem) {
					t.Errorf("problems = %v, want an error %q", res.Problems, tc.problem)
				}
				if (res.Bootstrap != nil) != tc.decodes {
					t.Errorf("bootstrap decoded = %v, want %v", res.Bootstrap != nil, tc.decodes)
				}
				if _, err := validate.Parse(res.Bytes); err != nil || !strings.Contains(string(res.Bytes), "name: c") {
					t.Errorf("the bytes are not the merged bootstrap (%v):\n%s", err, res.Bytes)
				}
			})
		}
	}
}

// TestExistingFileReadAsEnvoyReadsIt: an existing ENVOY_CONFIG_FILE is read by its name, as Envoy reads it; YAML
// in a file Envoy reads as JSON is refused (Envoy would be), unless APPNET_VALIDATION=warn.
func TestExistingFileReadAsEnvoyReadsIt(t *testing.T) {
	const doc = "node: {id: node1, cluster: c1}\nadmin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}\n"
	dir := t.TempDir()
	for _, tc := range []struct {
		name, mode string
		ok         bool
	}{{"envoy.yaml", "", true}, {"envoy.json", "", false}, {"envoy.json", "warn", true}} {
		t.Run(tc.name+"/"+tc.mode, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"ENVOY_CONFIG_FILE": path, "AWS_REGION": "us-west-2"}
			if tc.mode != "" {
				vars["APPNET_VALIDATION"] = tc.mode
			}
			res, err := renderVars(vars, Options{ReadFile: os.ReadFile})
			if (err == nil) != tc.ok {
				t.Fatalf("render error %v, want ok=%v", err, tc.ok)
			}
			if err == nil && (!res.Existing || string(res.Bytes) != doc) {
				t.Errorf("not used as is: %+v", res)
			}
		})
	}
}

// TestJSONNamedOutput: a bootstrap written to an ENVOY_CONFIG_FILE whose name makes Envoy read it as JSON is
// written as JSON.
func TestJSONNamedOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bootstrap.conf")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := renderVars(map[string]string{"ENVOY_CONFIG_FILE": path, "AWS_REGION": "us-west-2",
		"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ps := validate.Read(res.Bytes, validate.FormatJSON); ps.HasErrors() || !strings.HasPrefix(string(res.Bytes), "{") {
		t.Errorf("not JSON Envoy reads (%v):\n%.200s", ps, res.Bytes)
	}
}
