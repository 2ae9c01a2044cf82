package e2e

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestBadConfigurationStartsNothing: invalid variables (or flags) stop the agent before it
// runs anything — not even the `envoy --version` probe, so the stand-in's record file is
// never created — and every bad variable is named at once.
func TestBadConfigurationStartsNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantMsgs []string
		hidden   []string // must not appear anywhere in the output
	}{
		{
			name:     "two bad variables",
			env:      []string{"ENVOY_ADMIN_ACCESS_PORT=abc", "ENVOY_LOG_LEVEL=loud"},
			wantCode: 1,
			wantMsgs: []string{`ENVOY_ADMIN_ACCESS_PORT: "abc"`, `ENVOY_LOG_LEVEL: "loud"`},
		},
		{
			name: "four bad variables",
			env: []string{"ENVOY_ADMIN_ACCESS_PORT=70000", "APPNET_ENVOY_RESTART_COUNT=x",
				"DISABLE_HOT_RESTART=maybe", "LISTENER_DRAIN_WAIT_TIME_S=soon"},
			wantCode: 1,
			wantMsgs: []string{"ENVOY_ADMIN_ACCESS_PORT", "APPNET_ENVOY_RESTART_COUNT", "DISABLE_HOT_RESTART", "LISTENER_DRAIN_WAIT_TIME_S"},
		},
		{
			name:     "bad -logLevel flag",
			args:     []string{"-logLevel", "loud"},
			wantCode: 1,
			wantMsgs: []string{`-logLevel (overrides ENVOY_LOG_LEVEL): "loud"`},
		},
		{
			// Issue 16, item 8: credentials in a bad value are redacted from the error.
			name:     "bad URL with credentials",
			env:      []string{"ENABLE_ENVOY_OTEL_TRACING=true", "OTEL_EXPORTER_OTLP_ENDPOINT=http://u:S3CRET@host:4317/?api_key=K3Y"},
			wantCode: 1,
			wantMsgs: []string{`OTEL_EXPORTER_OTLP_ENDPOINT: "http://u:REDACTED@host:4317/?api_key=REDACTED"`},
			hidden:   []string{"S3CRET", "K3Y"},
		},
		{
			name:     "unknown flag",
			args:     []string{"-bogus"},
			wantCode: 2,
			wantMsgs: []string{"-bogus"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, tc.env...)
			a.args = tc.args
			code := a.run(20 * time.Second)
			if code != tc.wantCode {
				a.fatalf("agent exit code %d, want %d", code, tc.wantCode)
			}
			for _, msg := range tc.wantMsgs {
				if !strings.Contains(a.stderr(), msg) {
					a.fatalf("stderr does not name %s", msg)
				}
			}
			for _, secret := range tc.hidden {
				if strings.Contains(a.stderr(), secret) {
					a.fatalf("stderr shows %q", secret)
				}
			}
			if _, err := os.Stat(a.rec); err == nil {
				a.fatalf("the stand-in ran (record file exists)")
			}
			if b, _ := os.ReadFile(a.boot); len(b) != 0 {
				a.fatalf("a bootstrap was written")
			}
		})
	}
}

// TestSecretsNotLogged (issue 16, item 8): a token in the task metadata URL, quoted by the
// warning that the metadata cannot be read, is redacted from the log line.
func TestSecretsNotLogged(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "AWS_EXECUTION_ENV=AWS_ECS_FARGATE", "ECS_CONTAINER_METADATA_URI_V4=http://u:S3CRET@127.0.0.1:1/v4?token=T0KEN")
	a.start()
	a.waitEnvoyUp(1)
	out := a.stderr()
	if !strings.Contains(out, "token=REDACTED") || strings.Contains(out, "T0KEN") || strings.Contains(out, "S3CRET") {
		a.fatalf("the metadata warning does not redact the URL's credentials")
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestExistingBootstrap: a non-empty ENVOY_CONFIG_FILE is validated and used as is (not
// rewritten, not even touched); the agent talks to the admin address in that file. An invalid
// one stops the agent with the validator's message before Envoy starts.
func TestExistingBootstrap(t *testing.T) {
	t.Parallel()
	t.Run("valid: used untouched", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "LISTENER_DRAIN_WAIT_TIME_S=5")
		// A port the generated bootstrap would not use: ENVOY_ADMIN_ACCESS_PORT is ignored.
		port := testenv.FreePort(t)
		content := fmt.Sprintf("# hand-written; the agent must not rewrite this\nnode: {id: hand, cluster: hand}\n"+
			"admin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: %d}\n", port)
		writeFile(t, a.dir, "bootstrap.yaml", content, 0o640)
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(a.boot, old, old); err != nil {
			t.Fatal(err)
		}
		a.start()
		up := a.waitEnvoyUp(1)
		if want := fmt.Sprintf("127.0.0.1:%d", port); up.Address != want {
			a.fatalf("Envoy admin on %s, want %s from the file", up.Address, want)
		}
		a.signal(syscall.SIGTERM)
		if code := a.wait(20 * time.Second); code != 0 {
			a.fatalf("agent exit code %d, want 0", code)
		}
		if len(filter(a.events(), isDrain)) == 0 {
			a.fatalf("no drain request reached the admin address of the file")
		}
		if argv := envoyStarts(a.events())[0].Argv; argv[2] != a.boot {
			a.fatalf("Envoy -c %s, want %s", argv[2], a.boot)
		}
		b, _ := os.ReadFile(a.boot)
		st, _ := os.Stat(a.boot)
		if !bytes.Equal(b, []byte(content)) || !st.ModTime().Equal(old) || st.Mode().Perm() != 0o640 {
			a.fatalf("the file changed: mode %v, mtime %v (was %v), content:\n%s", st.Mode(), st.ModTime(), old, b)
		}
	})
	t.Run("invalid: nothing starts", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t)
		content := "admin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: 9901}\n  bogus_field: 1\n"
		writeFile(t, a.dir, "bootstrap.yaml", content, 0o600)
		if code := a.run(20 * time.Second); code != 1 {
			a.fatalf("agent exit code %d, want 1", code)
		}
		for _, msg := range []string{"ENVOY_CONFIG_FILE", a.boot, `admin.bogus_field: unknown field "bogus_field"`} {
			if !strings.Contains(a.stderr(), msg) {
				a.fatalf("stderr lacks %q", msg)
			}
		}
		if n := len(envoyStarts(a.events())); n != 0 {
			a.fatalf("%d Envoy starts, want none", n)
		}
		if b, _ := os.ReadFile(a.boot); string(b) != content {
			a.fatalf("the invalid file was changed:\n%s", b)
		}
	})
}
