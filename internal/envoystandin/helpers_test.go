package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Timeouts are generous: CI machines are slow and these tests start real processes.
const (
	startTimeout = 20 * time.Second
	exitTimeout  = 20 * time.Second
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBuilds()
	os.Exit(code)
}

type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	dir            string
	record         string
	stdout, stderr *testenv.SafeBuffer
	done           chan struct{}
	client         *http.Client
	base           string // "http://host:port" for requests
	socket         string
}

type runConfig struct {
	env       []string
	args      []string // replaces the default "-c <bootstrap> -l info"
	bootstrap string   // replaces the generated bootstrap; "%PORT%" and "%SOCK%" are substituted
	pipe      bool     // admin on a Unix socket instead of TCP
	noWait    bool     // do not wait for the admin listener
}

// start runs the stand-in and kills it at cleanup, whatever happens in the test.
func start(t *testing.T, cfg runConfig) *proc {
	t.Helper()
	bin := testenv.Standin(t)
	dir := t.TempDir()
	p := &proc{t: t, dir: dir, record: filepath.Join(dir, "record.jsonl"),
		stdout: &testenv.SafeBuffer{}, stderr: &testenv.SafeBuffer{}, done: make(chan struct{})}
	port := testenv.FreePort(t)
	// Socket paths must stay short (108 bytes), and t.TempDir can be long.
	sockDir, err := os.MkdirTemp("", "sa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	p.socket = filepath.Join(sockDir, "admin.sock")
	boot := cfg.bootstrap
	if boot == "" {
		boot = "admin:\n  address:\n    socket_address:\n      address: 127.0.0.1\n      port_value: %PORT%\n"
		if cfg.pipe {
			boot = "admin:\n  address:\n    pipe:\n      path: %SOCK%\n      mode: 384\n"
		}
	}
	boot = strings.NewReplacer("%PORT%", fmt.Sprint(port), "%SOCK%", p.socket).Replace(boot)
	bootPath := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(bootPath, []byte(boot), 0o600); err != nil {
		t.Fatal(err)
	}
	args := cfg.args
	if args == nil {
		args = []string{"-c", bootPath, "-l", "info"}
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "%BOOT%", bootPath)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	env := []string{"STANDIN_RECORD=" + p.record}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STANDIN_") {
			env = append(env, kv)
		}
	}
	p.cmd.Env = append(env, cfg.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(exitTimeout):
			t.Errorf("stand-in %d did not die after SIGKILL", p.cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("stand-in stderr:\n%s", p.stderr.String())
		}
	})
	if cfg.pipe {
		p.base = "http://127.0.0.1:9901"
		p.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", p.socket)
			}}}
	} else {
		p.base = fmt.Sprintf("http://127.0.0.1:%d", port)
		p.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	}
	if !cfg.noWait {
		p.waitEvent("admin_listening", startTimeout)
	}
	return p
}

// events returns the recorded events of one kind (all when kind is "").
func (p *proc) events(kind string) []map[string]any {
	p.t.Helper()
	var out []map[string]any
	for _, m := range testenv.ReadRecord[map[string]any](p.t, p.record, func(line string, err error, _ bool) bool {
		p.t.Helper()
		p.t.Fatalf("record line is not JSON: %q: %v", line, err)
		return false
	}) {
		if kind == "" || m["event"] == kind {
			out = append(out, m)
		}
	}
	return out
}

func (p *proc) waitEvent(kind string, timeout time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ev := p.events(kind); len(ev) > 0 {
			return ev[0]
		}
		select {
		case <-p.done:
			if ev := p.events(kind); len(ev) > 0 {
				return ev[0]
			}
			p.t.Fatalf("stand-in exited (%v) before %q; stderr:\n%s", p.cmd.ProcessState, kind, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatalf("no %q event within %v", kind, timeout)
	return nil
}

// wait returns the process state once it has exited.
func (p *proc) wait(timeout time.Duration) *os.ProcessState {
	p.t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState
	case <-time.After(timeout):
		p.t.Fatalf("stand-in still running after %v", timeout)
		return nil
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) do(method, path string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp.StatusCode, string(body)
}

func (p *proc) get(path string) (int, string)  { return p.do(http.MethodGet, path) }
func (p *proc) post(path string) (int, string) { return p.do(http.MethodPost, path) }

// runOnce runs the stand-in to completion (for flag and bootstrap errors).
func runOnce(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(testenv.Standin(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(exitTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not exit", args)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}
