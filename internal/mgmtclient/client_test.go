package mgmtclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/appnet/appnet-agent/internal/env"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, addr, err string }{
		{in: "unix:/run/a.sock", addr: "unix socket /run/a.sock"},
		{in: "/run/a.sock", addr: "unix socket /run/a.sock"},
		{in: "./a.sock", addr: "unix socket ./a.sock"},
		{in: "127.0.0.1:9902", addr: "127.0.0.1:9902"},
		{in: "[::1]:9902", addr: "[::1]:9902"},
		{in: ":9902", addr: "127.0.0.1:9902"},
		{in: "9902", addr: "127.0.0.1:9902"},
		{in: "http://10.0.0.5:9902", addr: "10.0.0.5:9902"},
		{in: "unix:", err: "is not an agent address"},
		{in: "localhost", err: "is not an agent address"},
		{in: "host:0", err: "is not an agent address"},
		{in: "host:99999", err: "is not an agent address"},
		{in: "http://h:1/x", err: "is not an agent address"},
	} {
		c, err := Parse(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q) error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("Parse(%q): %v", tc.in, err)
		case tc.err == "" && c.Address() != tc.addr:
			t.Errorf("Parse(%q) reaches %q, want %q", tc.in, c.Address(), tc.addr)
		}
	}
}

func TestNewFromVariables(t *testing.T) {
	cfg := func(mode, bind string, port uint16, sock string) *env.Config {
		c := &env.Config{}
		if mode != "-" {
			c.API.AdminMode = &mode
		}
		c.API.HTTPBindAddress, c.API.HTTPPort, c.API.AdminUDSPath = env.BindAddress(bind), port, env.SocketPath(sock)
		return c
	}
	for _, tc := range []struct {
		c    *env.Config
		addr string
	}{
		{cfg("tcp", "::", 9902, ""), "127.0.0.1:9902"},
		{cfg("tcp", "0.0.0.0", 9903, ""), "127.0.0.1:9903"},
		{cfg("tcp", "10.1.2.3", 9902, ""), "10.1.2.3:9902"},
		{cfg("tcp", "::1", 9902, ""), "[::1]:9902"},
		{cfg("uds", "::", 9902, "/var/run/ecs/appnet_admin.sock"), "unix socket /var/run/ecs/appnet_admin.sock"},
	} {
		c, err := New(tc.c)
		if err != nil || c.Address() != tc.addr {
			t.Errorf("New: %v %v, want %s", c, err, tc.addr)
		}
	}
	if _, err := New(cfg("-", "::", 1, "")); err == nil || !strings.Contains(err.Error(), "APPNET_AGENT_ADMIN_MODE is not set") {
		t.Errorf("New without a management API: %v", err)
	}
}

// Requests reach a server on TCP and on a Unix socket; no server is a *ConnError naming the
// address.
func TestOpenAndDo(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(418)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI())
	})
	tcp := httptest.NewServer(h)
	defer tcp.Close()
	sock := filepath.Join(t.TempDir(), "a.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	uds := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	uds.Start()
	defer uds.Close()
	for _, addr := range []string{tcp.Listener.Addr().String(), "unix:" + sock} {
		c, err := Parse(addr)
		if err != nil {
			t.Fatal(err)
		}
		code, body, err := c.Do(context.Background(), "POST", "/enableLogging?level=debug")
		if err != nil || code != 418 || string(body) != "POST /enableLogging?level=debug" {
			t.Errorf("%s: %d %q %v", addr, code, body, err)
		}
		c.Close()
	}
	c, _ := Parse("unix:" + filepath.Join(t.TempDir(), "none.sock"))
	_, err = c.Open(context.Background(), "GET", "/status")
	var ce *ConnError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot reach the agent's management API at unix socket ") || strings.Contains(err.Error(), `Get "`) {
		t.Errorf("no server: %v", err)
	}
}
