package supervise

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

func TestDefaultCommandLine(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=0")
	c := loadConfig(t, map[string]string{"APPNET_ENVOY_PATH": standin(t)})
	h.opts.Argv = Args(c, h.boot, Concurrency(c, nil, nil))
	h.run()
	if code := h.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	starts := h.events("start")
	if len(starts) != 1 {
		t.Fatalf("%d starts", len(starts))
	}
	want := []string{standin(t), "-c", h.boot, "-l", "info", "--drain-time-s", "20", "--disable-hot-restart", "--skip-deprecated-logs"}
	if got := argvOf(starts[0]); !slices.Equal(got, want) {
		t.Errorf("argv = %q\nwant   %q", got, want)
	}
}

func TestCommandLineSwitches(t *testing.T) {
	for _, tc := range []struct {
		vars        map[string]string
		concurrency int
		want        []string // after -c PATH
	}{
		{map[string]string{"ENVOY_LOG_LEVEL": "warn", "LISTENER_DRAIN_WAIT_TIME_S": "9"}, 0,
			[]string{"-l", "warn", "--drain-time-s", "9", "--disable-hot-restart", "--skip-deprecated-logs"}},
		{map[string]string{"ENVOY_CONCURRENCY": "4", "DISABLE_HOT_RESTART": "false"}, -1,
			[]string{"-l", "info", "--concurrency", "4", "--drain-time-s", "20", "--skip-deprecated-logs"}},
		{map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "ENVOY_SKIP_DEPRECATED_LOGS": "false", "ENVOY_LOG_LEVEL": "critical"}, -1,
			[]string{"-l", "critical", "--concurrency", "1", "--drain-time-s", "20", "--disable-hot-restart"}},
		{map[string]string{"ENVOY_LOG_LEVEL": "off", "DISABLE_HOT_RESTART": "0", "ENVOY_SKIP_DEPRECATED_LOGS": "0"}, 2,
			[]string{"-l", "off", "--concurrency", "2", "--drain-time-s", "20"}},
	} {
		t.Run(fmt.Sprint(tc.vars), func(t *testing.T) {
			h := newHarness(t, "STANDIN_EXIT_CODE=0")
			vars := map[string]string{"APPNET_ENVOY_PATH": standin(t)}
			for k, v := range tc.vars {
				vars[k] = v
			}
			c := loadConfig(t, vars)
			n := tc.concurrency
			if n < 0 {
				n = Concurrency(c, nil, nil)
			}
			h.opts.Argv = Args(c, h.boot, n)
			h.run()
			if code := h.wait(20 * time.Second); code != 0 {
				t.Fatalf("exit code %d (the stand-in refuses flags Envoy refuses)", code)
			}
			starts := h.events("start")
			if len(starts) != 1 {
				t.Fatalf("%d starts", len(starts))
			}
			want := append([]string{standin(t), "-c", h.boot}, tc.want...)
			if got := argvOf(starts[0]); !slices.Equal(got, want) {
				t.Errorf("argv = %q\nwant   %q", got, want)
			}
		})
	}
}

func TestLogLevelOverride(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=0")
	h.opts.LogLevel = func() string { return "debug" }
	h.run()
	h.wait(20 * time.Second)
	if got := argvOf(h.events("start")[0]); !slices.Contains(got, "debug") || slices.Contains(got, "info") {
		t.Errorf("argv = %q", got)
	}
}

// TestRestartBudget: exit code 3 with restart count 2 gives exactly 3 starts and exit code 3;
// the first restart is immediate, the second waits the initial backoff.
func TestRestartBudget(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=3")
	h.opts.RestartCount = 2
	h.run()
	if code := h.wait(30 * time.Second); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	starts, exits := h.events("start"), h.events("exit")
	if len(starts) != 3 || len(exits) != 3 {
		t.Fatalf("%d starts, %d exits; want 3 and 3", len(starts), len(exits))
	}
	gap1 := starts[1].time().Sub(exits[0].time())
	gap2 := starts[2].time().Sub(exits[1].time())
	t.Logf("exit→start gaps: %v (immediate), %v (after backoff)", gap1, gap2)
	if gap2 < DefaultBackoffInitial {
		t.Errorf("second restart after %v, want ≥ %v", gap2, DefaultBackoffInitial)
	}
	if gap1 > gap2 {
		t.Errorf("first restart (%v) slower than the backed-off second (%v)", gap1, gap2)
	}
	st := h.state()
	if st.Starts != 3 || st.Restarts != 2 || st.Running || st.Phase != PhaseStopped ||
		st.LastExitCode != 3 || st.LastExitReason != "exited with code 3" || !st.Exited || st.LastExitSignal != 0 || st.RestartsLeft != 0 {
		t.Errorf("state = %+v", st)
	}
}

func TestZeroRestartsMeansOneStart(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=0")
	h.run()
	if code := h.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if n := len(h.events("start")); n != 1 {
		t.Errorf("%d starts", n)
	}
}

func TestKilledEnvoyIsRestarted(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.opts.RestartCount = 1
	h.run()
	h.waitLive()
	first := h.state()
	if !first.Running || first.PID == 0 || first.Phase != PhaseRunning || first.RestartsLeft != 1 {
		t.Fatalf("state = %+v", first)
	}
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, "a second Envoy", func() bool {
		st := h.state()
		return st.Starts == 2 && st.Running
	})
	st := h.state()
	if st.LastExitCode != 137 || st.LastExitSignal != 9 || !strings.HasPrefix(st.LastExitReason, "killed by signal 9") || st.PID == first.PID || st.RestartsLeft != 0 {
		t.Errorf("state = %+v", st)
	}
	h.waitLive()
	// Budget spent: the next kill ends the agent with 128+9.
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := h.wait(20 * time.Second); code != 137 {
		t.Errorf("exit code %d, want 137", code)
	}
}

func TestCrashExitCode(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=10ms", "STANDIN_EXIT_SIGNAL=SIGSEGV")
	h.run()
	if code := h.wait(20 * time.Second); code != 128+int(syscall.SIGSEGV) {
		t.Errorf("exit code %d, want %d", code, 128+int(syscall.SIGSEGV))
	}
	if r := h.state().LastExitReason; !strings.HasPrefix(r, "killed by signal 11") {
		t.Errorf("reason %q", r)
	}
}

// TestHealthyRunRestoresBudget: runs longer than HealthyAfter never spend the budget.
func TestHealthyRunRestoresBudget(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=200ms", "STANDIN_EXIT_CODE=1")
	h.opts.RestartCount = 1
	// Each run lasts 200 ms of real time; the clock makes it look like an hour.
	var mu sync.Mutex
	offset := time.Duration(0)
	h.opts.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		offset += 30 * time.Minute
		return time.Now().Add(offset)
	}
	var exitsLeft []int // RestartsLeft reported with each exit
	var lastExit time.Time
	h.opts.OnChange = func(s Snapshot) {
		mu.Lock()
		defer mu.Unlock()
		if s.Exited && !s.LastExit.Equal(lastExit) {
			lastExit = s.LastExit
			exitsLeft = append(exitsLeft, s.RestartsLeft)
		}
	}
	h.run()
	testenv.WaitFor(t, 30*time.Second, "four starts", func() bool { return h.state().Starts >= 4 })
	h.cancel()
	if code := h.wait(20 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(exitsLeft) < 4 || exitsLeft[len(exitsLeft)-1] != 0 {
		t.Fatalf("RestartsLeft per exit %v: want at least 4 exits, the last (the shutdown) with none left", exitsLeft)
	}
	for i, left := range exitsLeft[:len(exitsLeft)-1] {
		if left != 1 {
			t.Errorf("exit %d reported %d restarts left, want the restored budget, 1 (all: %v)", i+1, left, exitsLeft)
		}
	}
}

func TestStartFailures(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-exec")
	garbage := filepath.Join(dir, "garbage")
	_ = os.WriteFile(notExec, []byte("#!/bin/sh\nexit 0\n"), 0o644)
	_ = os.WriteFile(garbage, []byte("\x00\x01\x02 not a program"), 0o755)
	for _, tc := range []struct {
		name, path string
		code       int
		reason     string
	}{
		{"missing", filepath.Join(dir, "missing"), 127, "no such file"},
		{"not executable", notExec, 126, "permission denied"},
		{"directory", dir, 126, "permission denied"},
		{"not a program", garbage, 126, "exec format error"},
		{"not in PATH", "no-such-envoy-binary", 127, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.opts.Argv[0] = tc.path
			h.opts.RestartCount = 10
			start := time.Now()
			h.run()
			if code := h.wait(10 * time.Second); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v: a restart loop?", d)
			}
			st := h.state()
			if st.Starts != 0 || !strings.Contains(st.LastExitReason, tc.reason) || st.Phase != PhaseStopped {
				t.Errorf("state = %+v", st)
			}
		})
	}
}

func TestEnvoyOutputIsForwardedLineByLine(t *testing.T) {
	h := newHarness(t, "STANDIN_STDOUT_LINES=500", "STANDIN_STDERR_LINES=300", "STANDIN_LIFETIME=300ms")
	h.run()
	h.wait(20 * time.Second)
	out := strings.Split(strings.TrimSuffix(h.stdout.String(), "\n"), "\n")
	if len(out) != 500 || out[0] != "line 1" || out[499] != "line 500" {
		t.Errorf("stdout: %d lines, first %q", len(out), out[0])
	}
	n := 0
	for _, l := range strings.Split(h.stderr.String(), "\n") {
		if strings.HasPrefix(l, "stderr line ") {
			n++
			if l != "stderr line "+strconv.Itoa(n) {
				t.Fatalf("stderr line %d is %q", n, l)
			}
		}
	}
	if n != 300 {
		t.Errorf("%d stderr lines, want 300", n)
	}
}

func TestCopyLines(t *testing.T) {
	long := strings.Repeat("y", 100<<10) // longer than the read buffer
	huge := strings.Repeat("z", maxLine+10)
	in := "a\n\nb\n" + long + "\n" + huge + "\nlast"
	var w recordingWriter
	if err := copyLines(bufio.NewReaderSize(strings.NewReader(in), 64<<10), &w); err != nil {
		t.Fatal(err)
	}
	want := []string{"a\n", "\n", "b\n", long + "\n", huge[:maxLine], huge[maxLine:] + "\n", "last\n"}
	if !slices.Equal(w.writes, want) {
		t.Errorf("%d writes, want %d", len(w.writes), len(want))
		for i := range min(len(w.writes), len(want)) {
			if w.writes[i] != want[i] {
				t.Errorf("write %d: %d bytes, want %d", i, len(w.writes[i]), len(want[i]))
			}
		}
	}
}

type recordingWriter struct{ writes []string }

func (r *recordingWriter) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func TestProcessSetup(t *testing.T) {
	h := newHarness(t, "STANDIN_LIFETIME=1h")
	h.run()
	h.waitLive()
	pid := h.state().PID
	start := h.events("start")[0]
	if got := start.num("pdeathsig"); got != int(syscall.SIGKILL) {
		t.Errorf("pdeathsig = %d, want SIGKILL", got)
	}
	if start.num("pgid") != pid {
		t.Errorf("pgid = %d, want Envoy's own group %d", start.num("pgid"), pid)
	}
	if start.num("ppid") != os.Getpid() {
		t.Errorf("ppid = %d", start.num("ppid"))
	}
	if lim, _ := start["rlimit_nofile"].([]any); len(lim) != 2 || lim[0] != lim[1] {
		t.Errorf("rlimit_nofile = %v, want soft = hard", start["rlimit_nofile"])
	}
	fds, _ := start["fds"].(map[string]any)
	if len(fds) != 3 || !strings.HasPrefix(fds["1"].(string), "pipe:") || !strings.HasPrefix(fds["2"].(string), "pipe:") {
		t.Errorf("fds = %v, want exactly 0, 1, 2 with pipes on 1 and 2", fds)
	}
	if hasPermittedNetAdmin() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "CapAmb:"); ok {
				amb, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				if amb&(1<<12) == 0 {
					t.Errorf("Envoy's ambient set %s lacks NET_ADMIN", strings.TrimSpace(v))
				}
			}
		}
		// The agent's own threads are left as they were.
		if c, _ := getCaps(); c.data[0].Inheritable&(1<<12) != 0 {
			t.Error("NET_ADMIN left in this thread's inheritable set")
		}
	} else {
		t.Log("no NET_ADMIN in the permitted set: ambient check skipped")
	}
}

func TestStateAndOnChange(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=2")
	var mu sync.Mutex
	var phases []Phase
	h.opts.RestartCount = 1
	h.opts.OnChange = func(s Snapshot) {
		mu.Lock()
		defer mu.Unlock()
		if len(phases) == 0 || phases[len(phases)-1] != s.Phase {
			phases = append(phases, s.Phase)
		}
	}
	agentStart := time.Now().Add(-time.Hour)
	h.opts.AgentStarted = agentStart
	h.run()
	h.wait(20 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	want := []Phase{PhaseStarting, PhaseRunning, PhaseRestarting, PhaseStarting, PhaseRunning, PhaseStopped}
	if !slices.Equal(phases, want) {
		t.Errorf("phases = %v, want %v", phases, want)
	}
	if st := h.state(); !st.AgentStarted.Equal(agentStart) || st.EnvoyStarted.IsZero() || st.LastExit.IsZero() {
		t.Errorf("state = %+v", st)
	}
}

func TestRunTwice(t *testing.T) {
	h := newHarness(t, "STANDIN_EXIT_CODE=0")
	h.run()
	h.wait(20 * time.Second)
	if code := h.sup.Run(context.Background()); code != 1 {
		t.Errorf("second Run = %d", code)
	}
	if n := len(h.events("start")); n != 1 {
		t.Errorf("%d starts", n)
	}
}

func TestEmptyArgv(t *testing.T) {
	if code := New(Options{}).Run(context.Background()); code != 1 {
		t.Errorf("exit code %d", code)
	}
}
