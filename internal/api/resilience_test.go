package api

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 7, failure channels: when the management API's listener dies, the failure is logged,
// the listener bound again (with back-off) and /status answers again; Envoy is not touched.
func TestServerListenerDeathIsSurvived(t *testing.T) {
	f := newFakeEnvoy(t)
	var out testenv.SafeBuffer
	cfg := testConfig{adminMode: "tcp"}.env()
	cfg.API.HTTPPort = uint16(testenv.FreePort(t))
	svc := New(Options{Config: cfg, Admin: adminFor(t, f.srv), Logger: logging.New(&out, "info")})
	if err := svc.Listen(); err != nil {
		t.Fatal(err)
	}
	svc.Start()
	defer svc.Stop()
	url := "http://" + svc.Addr().String() + "/status"
	get := func() int {
		res, err := http.Get(url)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("/status: %d", code)
	}
	svc.main.mu.Lock()
	_ = svc.main.ln.Close() // the listener dies under the server
	svc.main.mu.Unlock()
	testenv.WaitFor(t, 10*time.Second, "/status again", func() bool { return get() == 200 })
	logs := out.String()
	if !strings.Contains(logs, "The management API server failed; restarting it in 250ms. Envoy is not affected.") ||
		!strings.Contains(logs, "Server started again, "+svc.Addr().String()) {
		t.Fatalf("logs:\n%s", logs)
	}
	http.DefaultClient.CloseIdleConnections()
}

// A Unix socket file removed (or replaced) by someone else is noticed and bound again.
func TestServerSocketRemovedIsBoundAgain(t *testing.T) {
	f := newFakeEnvoy(t)
	sock := filepath.Join(t.TempDir(), "api.sock")
	var out testenv.SafeBuffer
	cfg := testConfig{adminMode: "uds", udsPath: sock}.env()
	svc := New(Options{Config: cfg, Admin: adminFor(t, f.srv), Logger: logging.New(&out, "info")})
	if err := svc.Listen(); err != nil {
		t.Fatal(err)
	}
	svc.Start()
	client := testenv.UnixClient(sock)
	get := func() int {
		res, err := client.Get("http://agent/status")
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("/status: %d", code)
	}
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 15*time.Second, "/status on a new socket", func() bool { return get() == 200 })
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != socketMode {
		t.Fatalf("the new socket: %v %v", fi, err)
	}
	if logs := out.String(); !strings.Contains(logs, "was removed or replaced") {
		t.Fatalf("logs:\n%s", logs)
	}
	svc.Stop()
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is left behind after Stop: %v", err)
	}
}
