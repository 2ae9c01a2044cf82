package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCommand: errors go to stdout as FILE: PATH: MESSAGE with exit 1; warnings (what Envoy loads but an
// author rarely means) go to stderr as FILE: PATH: warning: MESSAGE with exit 0, or 1 with --strict. A node Envoy
// would take from --service-node/--service-cluster is a warning, for a missing and a partial node alike. Each file
// is read as Envoy reads it, by its name.
func TestValidateCommand(t *testing.T) {
	const xds = "dynamic_resources: {lds_config: {path_config_source: {path: /etc/envoy/lds.yaml}}}\n"
	cases := []struct {
		name, file, yaml string
		args             []string
		code             int
		stdout, stderr   string
	}{
		{"valid", "envoy.yaml", "node: {id: n1, cluster: c1}\n" + xds, nil, 0, "", ""},
		{"no node", "envoy.yaml", xds, nil, 0, "", ": node.id: warning: not set while dynamic_resources are used"},
		{"partial node", "envoy.yaml", "node: {id: n1}\n" + xds, nil, 0, "", ": node.cluster: warning: not set while dynamic_resources are used"},
		{"warning under --strict", "envoy.yaml", "node: {id: n1}\n" + xds, []string{"--strict"}, 1, "", ": node.cluster: warning: "},
		{"duplicate key is a warning", "envoy.yaml", "node: {id: n1, cluster: c1, id: n2}\n", nil, 0, "",
			`: node.id: warning: duplicate key "id"`},
		{"load-time rule", "envoy.yaml", "static_resources:\n  clusters: [{name: c, type: LOGICAL_DNS}]\n", nil, 1,
			": static_resources.clusters[0]: LOGICAL_DNS clusters must have a single host (Envoy: ", ""},
		{"YAML in a file Envoy reads as JSON", "envoy.json", "node: {id: n1, cluster: c1}\n", nil, 1,
			": Envoy reads this file as JSON (its name does not end in .yaml or .yml)", ""},
		{"legacy JSON", "envoy.json", "{node: {id: 'n1', cluster: 'c1',},}", nil, 0, "", ""},
		// Issue 7, defect 11: a huge file is refused before it is read, not validated for seconds.
		{"too large", "envoy.yaml", "node: {id: n1, cluster: c1}\n" + strings.Repeat("# padding to 5 MiB of comments\n", 170000), nil, 1,
			"the agent reads bootstraps and fragments of at most 4 MiB", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(f, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := cmdValidate(append(tc.args, f), &stdout, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tc.code, &stdout, &stderr)
			}
			if tc.stdout == "" && stdout.Len() > 0 || !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout = %q, want %q", &stdout, tc.stdout)
			}
			if tc.stdout != "" && !strings.HasPrefix(stdout.String(), f+": ") {
				t.Errorf("stdout does not start with the file name: %q", &stdout)
			}
			if tc.stderr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr = %q, want %q", &stderr, tc.stderr)
			}
			if tc.stderr != "" && !strings.HasPrefix(stderr.String(), f+": ") {
				t.Errorf("stderr does not start with the file name: %q", &stderr)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := cmdValidate(nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage: appnet-agent validate [--strict] [--] FILE...") {
		t.Errorf("no file: exit %d, stderr %q", code, &stderr)
	}
}

// Issue 7, security: `appnet-agent env` never prints a credential embedded in a value.
func TestEnvRedactsCredentials(t *testing.T) {
	t.Setenv("APPMESH_XDS_ENDPOINT", "https://user:s3cr3t-t0ken@xds.example.com:443")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://imds.local/?access_key=AKIDEXAMPLE")
	var stdout, stderr bytes.Buffer
	if code := cmdEnv(nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	out := stdout.String()
	if strings.Contains(out, "s3cr3t-t0ken") || strings.Contains(out, "AKIDEXAMPLE") || !strings.Contains(out, "user:REDACTED@xds.example.com") {
		t.Fatalf("credentials in `env` output:\n%s", out)
	}
}
