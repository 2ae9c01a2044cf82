package envoyadmin

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
	"github.com/appnet/appnet-agent/internal/testenv/record"
)

// startStandin builds envoy-standin and runs it with an admin on a free loopback port (or a
// Unix socket), returning a client for it and the record file.
func startStandin(t *testing.T, unix bool, env ...string) (*Client, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds envoy-standin")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "envoy")
	_, self, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-o", bin, "./internal/envoystandin")
	build.Dir = filepath.Join(filepath.Dir(self), "..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building envoy-standin: %v\n%s", err, out)
	}
	admin := "admin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: 0}\n"
	sock := filepath.Join(dir, "admin.sock")
	if unix {
		admin = "admin:\n  address:\n    pipe: {path: " + sock + "}\n"
	}
	boot := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(boot, []byte(admin), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "record.jsonl")
	addrFile := filepath.Join(dir, "admin.addr")
	cmd := exec.Command(bin, "-c", boot, "--admin-address-path", addrFile)
	cmd.Env = append(os.Environ(), append(env, "STANDIN_RECORD="+rec)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(addrFile)
		if err == nil && len(b) > 0 {
			var c *Client
			if unix {
				c = New(UDS(sock))
			} else {
				_, port, _ := strings.Cut(string(b), ":")
				p, _ := strconv.Atoi(port)
				c = New(TCP(uint16(p)))
			}
			t.Cleanup(c.Close)
			return c, rec
		}
		if time.Now().After(deadline) {
			t.Fatal("envoy-standin did not report its admin address")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func adminCalls(t *testing.T, rec string) []record.Event {
	t.Helper()
	var out []record.Event
	for _, e := range testenv.ReadRecord[record.Event](t, rec, nil) {
		if e.Event == "admin" {
			out = append(out, e)
		}
	}
	return out
}

// TestAgainstStandin checks every call against envoy-standin, which imitates Envoy's admin.
func TestAgainstStandin(t *testing.T) {
	for _, unix := range []bool{false, true} {
		t.Run(map[bool]string{false: "tcp", true: "uds"}[unix], func(t *testing.T) {
			c, rec := startStandin(t, unix, "STANDIN_DOWNSTREAM_CX=2", "STANDIN_DRAIN_CX_AFTER=0")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if s, err := c.Ready(ctx); err != nil || s != "LIVE" {
				t.Fatalf("Ready = %q, %v", s, err)
			}
			if n, err := c.DownstreamConnections(ctx); err != nil || n != 2 {
				t.Fatalf("DownstreamConnections = %d, %v; want 2", n, err)
			}
			st, err := c.Stats(ctx, `^control_plane\.connected_state$`)
			if err != nil || len(st) != 1 || st["control_plane.connected_state"] != 1 {
				t.Fatalf("Stats = %v, %v", st, err)
			}
			if err := c.SetLogLevel(ctx, "warn"); err != nil {
				t.Fatal(err)
			}
			if err := c.SetLogLevel(ctx, "nonsense"); err == nil {
				t.Error("an unknown level was accepted")
			}
			if err := c.DrainListeners(ctx, true, false); err != nil {
				t.Fatal(err)
			}
			// STANDIN_DRAIN_CX_AFTER=0: connections are gone once draining starts.
			if n, err := c.DownstreamConnections(ctx); err != nil || n != 0 {
				t.Fatalf("after drain: DownstreamConnections = %d, %v; want 0", n, err)
			}
			var saw []string
			for _, e := range adminCalls(t, rec) {
				saw = append(saw, e.Method+" "+e.Path+"?"+e.Query)
				if e.UserAgent != UserAgent {
					t.Errorf("user agent %v", e.UserAgent)
				}
			}
			want := "POST /drain_listeners?graceful"
			if !strings.Contains(strings.Join(saw, "\n"), want) {
				t.Errorf("calls %q lack %q", saw, want)
			}
		})
	}
}
