package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// logPrefix is what the agent's logger puts before a warning.
var logPrefix = regexp.MustCompile(`^\[[^]]*\]\[\d+\]\[warning\] \[AppNet Agent\] `)

// TestRenderAndValidateWarnAlike renders the App Mesh example (X-Ray tracing, aws_iam
// credentials) and validates the result: both give the deprecated-tracing warning and the
// aws_iam warning in the same words, render only for an Envoy that is 1.35 or later (and then
// saying which), validate always (it checks for Envoy 1.35 to 1.40).
func TestRenderAndValidateWarnAlike(t *testing.T) {
	const tracing = "tracing: deprecated field envoy.config.bootstrap.v3.Bootstrap.tracing (since API 3.0)"
	const awsIam = "call_credentials[0].from_plugin.typed_config<AwsIamConfig>: Envoy 1.35 removed the envoy.grpc_credentials.aws_iam extension"
	for _, tc := range []struct {
		envoy      string
		wantAwsIam bool
	}{{"1.34.10", false}, {"1.35.0", true}, {"1.40.2", true}} {
		t.Run("Envoy "+tc.envoy, func(t *testing.T) {
			dir := t.TempDir()
			facts := filepath.Join(dir, "facts.json")
			boot := filepath.Join(dir, "envoy.yaml")
			version := fmt.Sprintf(`{"envoy": {"version": "0000/%s/Clean/RELEASE/BoringSSL"}}`, tc.envoy)
			if err := os.WriteFile(facts, []byte(version), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errs bytes.Buffer
			if code := Main([]string{"render", "--env-file", filepath.Join(testenv.RepoRoot(), "examples", "appmesh.env"),
				"--facts", facts, "-o", boot}, nil, &out, &errs); code != 0 {
				t.Fatalf("render: exit %d\n%s", code, &errs)
			}
			var rendered []string
			for _, l := range strings.Split(errs.String(), "\n") {
				if logPrefix.MatchString(l) {
					rendered = append(rendered, logPrefix.ReplaceAllString(l, ""))
				}
			}
			errs.Reset()
			if code := Main([]string{"validate", boot}, nil, &out, &errs); code != 0 {
				t.Fatalf("validate: exit %d\n%s", code, &errs)
			}
			var validated []string
			for _, l := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
				// FILE: PATH: warning: MESSAGE, compared with render's PATH: MESSAGE.
				path, msg, ok := strings.Cut(strings.TrimPrefix(l, boot+": "), ": warning: ")
				if !ok || !strings.HasPrefix(l, boot+": ") {
					t.Fatalf("validate's stderr line %q is not a warning about %s", l, boot)
				}
				validated = append(validated, path+": "+msg)
			}
			has := func(ws []string, part string) bool {
				return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, part) })
			}
			if !slices.Contains(rendered, tracing) || !slices.Contains(validated, tracing) {
				t.Errorf("want %q from both\nrender:   %q\nvalidate: %q", tracing, rendered, validated)
			}
			if !has(validated, awsIam) {
				t.Errorf("validate does not warn about aws_iam: %q", validated)
			}
			if has(rendered, awsIam) != tc.wantAwsIam {
				t.Errorf("render's aws_iam warning for Envoy %s: got %v, want %v: %q", tc.envoy, !tc.wantAwsIam, tc.wantAwsIam, rendered)
			}
			for _, w := range validated {
				minor := tc.envoy[:strings.LastIndex(tc.envoy, ".")]
				if tc.wantAwsIam && !slices.Contains(rendered, w) && !slices.Contains(rendered, w+" (this Envoy is "+minor+")") {
					t.Errorf("validate warns %q, render does not say the same:\n%q", w, rendered)
				}
			}
		})
	}
}
