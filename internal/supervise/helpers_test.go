package supervise

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"
)

// helperEnv selects a helper mode of the test binary (see helpers in helper_test.go).
const helperEnv = "SUPERVISE_TEST_HELPER"

var standinDir string

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	code := m.Run()
	if standinDir != "" {
		_ = os.RemoveAll(standinDir)
	}
	if code == 0 {
		// signal.Notify's delivery loop lives for the rest of the process once started.
		if err := goleak.Find(goleak.IgnoreAnyFunction("os/signal.loop")); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	standinOnce sync.Once
	standinPath string
	standinErr  error
)

// standin builds envoy-standin once per test binary.
func standin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs envoy-standin (built by the test)")
	}
	standinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "supervise-standin-")
		if err != nil {
			standinErr = err
			return
		}
		standinDir = dir
		standinPath = filepath.Join(dir, "envoy")
		_, self, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", standinPath, "./internal/envoystandin")
		cmd.Dir = filepath.Join(filepath.Dir(self), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			standinErr = fmt.Errorf("building envoy-standin: %v\n%s", err, out)
		}
	})
	if standinErr != nil {
		t.Fatal(standinErr)
	}
	return standinPath
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// harness runs a Supervisor over envoy-standin with a Unix-socket admin in a temp dir.
type harness struct {
	t       testing.TB
	dir     string
	rec     string
	boot    string
	sock    string
	sigs    chan os.Signal
	stdout  syncBuffer
	stderr  syncBuffer
	logs    syncBuffer
	admin   *envoyadmin.Client
	opts    Options
	sup     *Supervisor
	code    chan int
	cancel  context.CancelFunc
	started time.Time
}

// newHarness prepares Options for a standin with the given STANDIN_* environment; callers
// adjust h.opts and then call run.
func newHarness(t testing.TB, env ...string) *harness {
	t.Helper()
	bin := standin(t)
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, rec: filepath.Join(dir, "record.jsonl"), boot: filepath.Join(dir, "bootstrap.yaml"),
		sock: filepath.Join(dir, "admin.sock"), sigs: make(chan os.Signal, 4), code: make(chan int, 1)}
	boot := "admin:\n  address:\n    pipe: {path: " + h.sock + "}\n"
	if err := os.WriteFile(h.boot, []byte(boot), 0o600); err != nil {
		t.Fatal(err)
	}
	h.admin = envoyadmin.New(envoyadmin.UDS(h.sock))
	h.admin.Timeout = time.Second
	t.Cleanup(h.admin.Close)
	logger := hclog.New(&hclog.LoggerOptions{Output: &h.logs, Level: hclog.Debug, TimeFormat: "15:04:05.000"})
	h.opts = Options{
		Argv:         []string{bin, "-c", h.boot, "-l", "info", "--drain-time-s", "5", "--disable-hot-restart", "--skip-deprecated-logs"},
		Env:          append(os.Environ(), append([]string{"STANDIN_RECORD=" + h.rec}, env...)...),
		Stdout:       &h.stdout,
		Stderr:       &h.stderr,
		Signals:      h.sigs,
		Admin:        h.admin,
		Logger:       logger,
		RestartCount: 0,
		DrainWait:    5 * time.Second,
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("supervisor log:\n%s", h.logs.String())
			if b, err := os.ReadFile(h.rec); err == nil {
				t.Logf("record:\n%s", b)
			}
			t.Logf("envoy stderr (tail):\n%s", tail(h.stderr.String(), 3000))
		}
	})
	return h
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// run starts Run in a goroutine. The test's cleanup cancels it and waits for it to return.
func (h *harness) run() {
	h.t.Helper()
	h.sup = New(h.opts)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.started = time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.code <- h.sup.Run(ctx)
	}()
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			h.t.Error("Run did not return after cancel")
		}
	})
}

// wait returns Run's exit code.
func (h *harness) wait(timeout time.Duration) int {
	h.t.Helper()
	select {
	case c := <-h.code:
		h.code <- c // keep it for a second look
		return c
	case <-time.After(timeout):
		h.t.Fatalf("Run did not return within %v; state %+v", timeout, h.sup.State())
		return -1
	}
}

// event is one line of the standin's record file.
type event map[string]any

func (e event) str(k string) string {
	s, _ := e[k].(string)
	return s
}

func (e event) num(k string) int {
	f, _ := e[k].(float64)
	return int(f)
}

func (e event) time() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.str("time"))
	return t
}

func (h *harness) events(kind string) []event {
	return readEvents(h.t, h.rec, kind)
}

func readEvents(t testing.TB, path, kind string) []event {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Errorf("bad record line %q: %v", sc.Text(), err)
			continue
		}
		if kind == "" || e.str("event") == kind {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLive waits until the current Envoy answers /ready with LIVE.
func (h *harness) waitLive() {
	h.t.Helper()
	waitFor(h.t, 20*time.Second, "envoy-standin LIVE", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := h.admin.Ready(ctx)
		return err == nil && s == "LIVE"
	})
}

func argvOf(e event) []string {
	raw, _ := e["argv"].([]any)
	out := make([]string, len(raw))
	for i, a := range raw {
		out[i], _ = a.(string)
	}
	return out
}

// procState returns the state letter of /proc/PID/stat ("" when the process is gone).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// gone reports whether pid no longer runs (absent, or a zombie nobody reaped yet).
func gone(pid int) bool {
	st := procState(pid)
	return st == "" || st == "Z" || st == "X"
}
