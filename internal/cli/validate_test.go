package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCommand: problems go to stdout with the file name and exit 1; a node Envoy would take from
// --service-node/--service-cluster is a warning on stderr with exit 0, for a missing and a partial node alike.
func TestValidateCommand(t *testing.T) {
	const xds = "dynamic_resources: {lds_config: {path_config_source: {path: /etc/envoy/lds.yaml}}}\n"
	cases := []struct {
		name, yaml     string
		code           int
		stdout, stderr string
	}{
		{"valid", "node: {id: n1, cluster: c1}\n" + xds, 0, "", ""},
		{"no node", xds, 0, "", "warning: node.id: not set while dynamic_resources are used"},
		{"partial node", "node: {id: n1}\n" + xds, 0, "", "warning: node.cluster: not set while dynamic_resources are used"},
		{"load-time rule", "static_resources:\n  clusters: [{name: c, type: LOGICAL_DNS}]\n", 1,
			"static_resources.clusters[0]: LOGICAL_DNS clusters must have a single host (Envoy: ", ""},
		// Issue 7, defect 11: a huge file is refused before it is read, not validated for seconds.
		{"too large", "node: {id: n1, cluster: c1}\n" + strings.Repeat("# padding to 5 MiB of comments\n", 170000), 1,
			"the agent reads bootstraps and fragments of at most 4 MiB", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "envoy.yaml")
			if err := os.WriteFile(f, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := cmdValidate([]string{f}, &stdout, &stderr); code != tc.code {
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
		})
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
