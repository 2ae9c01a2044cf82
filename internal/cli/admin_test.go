package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// `admin` exit codes: 0 with the body on stdout for 2xx; 4 with the body on stderr for an
// error status; 3 when nothing answers; 2 for bad arguments; 1 without a management API.
func TestAdminCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/status":
			io.WriteString(w, `{"healthStatus":"HEALTHY"}`)
		case "/enableLogging":
			if r.Method != http.MethodPost {
				http.Error(w, "Invalid method", 400)
				return
			}
			io.WriteString(w, "level="+r.URL.Query().Get("level"))
		default:
			http.Error(w, "404 page not found", 404)
		}
	}))
	defer srv.Close()
	agent := srv.Listener.Addr().String()
	none := filepath.Join(t.TempDir(), "none.sock")
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"--agent", agent, "GET", "/status"}, 0, `{"healthStatus":"HEALTHY"}`, ""},
		{[]string{"get", "/status", "--agent", agent}, 0, `HEALTHY`, ""},
		{[]string{"--agent", agent, "POST", "/enableLogging?level=debug"}, 0, "level=debug", ""},
		{[]string{"--agent", agent, "GET", "/enableLogging"}, 4, "", "the agent answered 400 Bad Request\nInvalid method"},
		{[]string{"--agent", agent, "GET", "/nope"}, 4, "", "404 page not found"},
		{[]string{"--agent", "unix:" + none, "GET", "/status"}, 3, "", "cannot reach the agent's management API at unix socket " + none},
		{[]string{"--agent", agent, "DELETE", "/status"}, 2, "", `method "DELETE": allowed GET, HEAD, POST`},
		{[]string{"--agent", agent, "GET", "status"}, 2, "", "must start with /"},
		{[]string{"--agent", agent, "GET"}, 2, "", "expected a method and a path"},
		{[]string{"--agent", "nohost", "GET", "/status"}, 2, "", "is not an agent address"},
		{[]string{"--env", "APPNET_AGENT_ADMIN_MODE=uds", "--env", "APPNET_AGENT_ADMIN_UDS_PATH=" + none, "GET", "/status"}, 3, "", "unix socket " + none},
		{[]string{"--env", "ENVOY_LOG_LEVEL=info", "GET", "/status"}, 1, "", "APPNET_AGENT_ADMIN_MODE is not set"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(append([]string{"admin"}, tc.args...), nil, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, tc.code, stdout.String(), tc.stdout, stderr.String(), tc.stderr)
			}
			if tc.code != 0 && stdout.Len() > 0 {
				t.Errorf("stdout on failure: %q", stdout.String())
			}
		})
	}
	var stdout bytes.Buffer
	if code := Main([]string{"admin", "--help"}, nil, &stdout, io.Discard); code != 0 || !strings.Contains(stdout.String(), "Exit status: 0 the agent answered 2xx") {
		t.Errorf("admin --help: %d %s", code, stdout.String())
	}
}
