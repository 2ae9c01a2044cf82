package supervise

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"

	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// helperEnv selects a helper mode of the test binary (see helpers in helper_test.go).
const helperEnv = "SUPERVISE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	code := m.Run()
	testenv.RemoveBuilds()
	if code == 0 {
		// signal.Notify's delivery loop lives for the rest of the process once started.
		if err := goleak.Find(goleak.IgnoreAnyFunction("os/signal.loop")); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// standin builds envoy-standin once per test binary.
func standin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs envoy-standin (built by the test)")
	}
	return testenv.Standin(t)
}

// harness runs a Supervisor over envoy-standin with a Unix-socket admin in a temp dir.
type harness struct {
	t       testing.TB
	dir     string
	rec     string
	boot    string
	sock    string
	sigs    chan os.Signal
	stdout  testenv.SafeBuffer
	stderr  testenv.SafeBuffer
	logs    testenv.SafeBuffer
	admin   *envoyadmin.Client
	opts    Options
	sup     *Supervisor
	code    chan int
	cancel  context.CancelFunc
	started time.Time

	mu   sync.Mutex
	last Snapshot // the last state the supervisor reported (Options.OnChange)
}

// state is the supervisor's state as it last reported it through Options.OnChange, the one
// way the agent learns it.
func (h *harness) state() Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
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
	onChange := h.opts.OnChange
	h.opts.OnChange = func(s Snapshot) {
		h.mu.Lock()
		h.last = s
		h.mu.Unlock()
		if onChange != nil {
			onChange(s)
		}
	}
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
		h.t.Fatalf("Run did not return within %v; state %+v", timeout, h.state())
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
	var out []event
	for _, e := range testenv.ReadRecord[event](t, path, func(line string, err error, _ bool) bool {
		t.Errorf("bad record line %q: %v", line, err)
		return true
	}) {
		if kind == "" || e.str("event") == kind {
			out = append(out, e)
		}
	}
	return out
}

// waitLive waits until the current Envoy answers /ready with LIVE.
func (h *harness) waitLive() {
	h.t.Helper()
	testenv.WaitFor(h.t, 20*time.Second, "envoy-standin LIVE", func() bool {
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
