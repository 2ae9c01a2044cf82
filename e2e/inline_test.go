package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 21, part 1: fragments given in variables (ECS secrets.valueFrom), not files.

// inlineSecret stands for a secret inside an inline fragment: it must reach the bootstrap
// Envoy reads, and appear nowhere in what the agent prints.
const inlineSecret = "e2e-S3CRET-4b1d-not-for-logs"

// inlineResources is a resources fragment with a cluster and a generic secret holding
// inlineSecret; with a bad port, its line 11 is the endpoint that holds it.
func inlineResources(port int) string {
	return fmt.Sprintf(`# resources delivered from a secret store
static_resources:
  clusters:
  - name: inline-backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: inline-backend
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
  secrets:
  - name: api-token
    generic_secret:
      secret: {inline_string: %q}
`, port, inlineSecret)
}

// checkNotPrinted fails when the agent's output shows inlineSecret.
func checkNotPrinted(a *agent) {
	a.t.Helper()
	if out := a.output() + a.stderr(); strings.Contains(out, inlineSecret) {
		a.fatalf("the agent printed the inline content")
	}
}

func TestInlineFragments(t *testing.T) {
	t.Parallel()
	t.Run("base64 resources reach the bootstrap Envoy reads", func(t *testing.T) {
		t.Parallel()
		value := "base64:" + base64.StdEncoding.EncodeToString([]byte(inlineResources(8080)))
		a := newAgent(t, "ENVOY_RESOURCES_CONFIG="+value)
		a.start()
		a.waitEnvoyUp(1)
		argv := envoyStarts(a.events())[0].Argv
		boot, err := os.ReadFile(argv[2])
		if err != nil {
			a.fatalf("Envoy's bootstrap: %v", err)
		}
		for _, want := range []string{"name: inline-backend", "port_value: 8080", inlineSecret} {
			if !bytes.Contains(boot, []byte(want)) {
				a.fatalf("the bootstrap Envoy reads lacks %q:\n%s", want, boot)
			}
		}
		if !strings.Contains(a.stderr(), "inline configuration variable=ENVOY_RESOURCES_CONFIG bytes=") ||
			!strings.Contains(a.stderr(), "encoding=base64 sha256=") {
			a.fatalf("no log line describing the inline variable")
		}
		a.signal(syscall.SIGTERM)
		if code := a.wait(30 * time.Second); code != 0 {
			a.fatalf("exit code %d after SIGTERM, want 0", code)
		}
		checkNotPrinted(a)
	})
	t.Run("a bad fragment stops the agent before Envoy, naming the variable and line", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "ENVOY_RESOURCES_CONFIG="+testenv.GzipBase64(t, []byte(inlineResources(99999))))
		if code := a.run(30 * time.Second); code != 1 {
			a.fatalf("exit code %d, want 1", code)
		}
		want := "ENVOY_RESOURCES_CONFIG: line 11: static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: value must be less than or equal to 65535"
		if !strings.Contains(a.stderr(), want) {
			a.fatalf("stderr lacks %q", want)
		}
		if n := len(envoyStarts(a.events())); n != 0 {
			a.fatalf("%d Envoy starts, want none", n)
		}
		checkNotPrinted(a)
	})
	t.Run("both the file and the inline variable", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "ENVOY_RESOURCES_CONFIG="+inlineResources(8080), "ENVOY_RESOURCES_CONFIG_FILE=/nonexistent.yaml")
		if code := a.run(30 * time.Second); code != 1 {
			a.fatalf("exit code %d, want 1", code)
		}
		if !strings.Contains(a.stderr(), "ENVOY_RESOURCES_CONFIG_FILE, ENVOY_RESOURCES_CONFIG: both are set") {
			a.fatalf("the error does not name both variables")
		}
		checkNotPrinted(a)
		// The flag that overrides ENVOY_CONFIG_FILE is named as what was set.
		b := newAgent(t, "ENVOY_CONFIG={}")
		b.args = []string{"-envoyConfigPath", b.boot}
		if code := b.run(30 * time.Second); code != 1 {
			b.fatalf("exit code %d, want 1", code)
		}
		if !strings.Contains(b.stderr(), "-envoyConfigPath (overrides ENVOY_CONFIG_FILE), ENVOY_CONFIG: both are set") {
			b.fatalf("the error does not name the flag and the variable")
		}
	})
	t.Run("ENVOY_CONFIG: a whole JSON bootstrap in the private directory", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "ENVOY_CONFIG_FILE", "LISTENER_DRAIN_WAIT_TIME_S=5")
		boot := fmt.Sprintf(`{"node": {"id": "inline", "cluster": "inline"},
 "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": %d}}},
 "static_resources": {"secrets": [{"name": "t", "generic_secret": {"secret": {"inline_string": %q}}}]}}`, a.port, inlineSecret)
		a.setenv("ENVOY_CONFIG=" + testenv.GzipBase64(t, []byte(boot)))
		a.start()
		a.waitEnvoyUp(1)
		path := envoyStarts(a.events())[0].Argv[2]
		if dir := filepath.Dir(path); filepath.Base(path) != "envoy-config.json" || filepath.Dir(dir) != a.dir || !strings.HasPrefix(filepath.Base(dir), "appnet-agent-") {
			a.fatalf("Envoy -c %s, want %s/appnet-agent-*/envoy-config.json", path, a.dir)
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != boot {
			a.fatalf("the bootstrap holds %q (%v), want the variable's document as is", got, err)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			a.fatalf("bootstrap mode %v (%v), want 0600", st.Mode(), err)
		}
		a.signal(syscall.SIGTERM)
		if code := a.wait(30 * time.Second); code != 0 {
			a.fatalf("exit code %d after SIGTERM, want 0", code)
		}
		if len(filter(a.events(), isDrain)) == 0 {
			a.fatalf("no drain request reached the admin address of the inline bootstrap")
		}
		checkNotPrinted(a)
	})
}

// render --env-file, facts and env with inline variables: the bootstrap has the fragment, env shows
// only its size and digest.
func TestInlineFragmentsInCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	value := "base64:" + base64.StdEncoding.EncodeToString([]byte(inlineResources(8080)))
	envFile := writeFile(t, dir, "task.env", "AWS_REGION=us-west-2\nAPPMESH_RESOURCE_ARN=mesh/m/virtualNode/n\n"+
		"AWS_EC2_METADATA_DISABLED=true\nAPPNET_ENVOY_PATH=/nonexistent\nENVOY_RESOURCES_CONFIG="+value+"\n", 0o600)
	r := runCommand(t, dir, nil, "render", "--env-file", envFile).mustSucceed(t, "render --env-file")
	if !strings.Contains(r.stdout, "name: inline-backend") || !strings.Contains(r.stdout, inlineSecret) {
		t.Fatalf("the rendered bootstrap lacks the inline fragment:\n%s", r.stdout)
	}
	if strings.Contains(r.stderr, inlineSecret) {
		t.Fatalf("render's log shows the inline content:\n%s", r.stderr)
	}
	f := runCommand(t, dir, nil, "facts", "--env-file", envFile).mustSucceed(t, "facts --env-file")
	if strings.Contains(f.stdout+f.stderr, inlineSecret) {
		t.Fatalf("facts shows the inline content:\n%s\n%s", f.stdout, f.stderr)
	}
	e := runCommand(t, dir, []string{"ENVOY_RESOURCES_CONFIG=" + value}, "env").mustSucceed(t, "env")
	if strings.Contains(e.stdout, inlineSecret) || strings.Contains(e.stdout, value[:40]) {
		t.Fatalf("env shows the inline content:\n%s", e.stdout)
	}
	if !strings.Contains(e.stdout, "ENVOY_RESOURCES_CONFIG (document) = (hidden: ") {
		t.Fatalf("env does not describe the inline variable:\n%s", e.stdout)
	}
}
