package e2e

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 16, item 5: nothing before Envoy starts can hang the agent or make it deaf to signals.

func mkfifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNonRegularInputsAreRefused: a FIFO (nobody writes to it) named by a user-file variable,
// or put in the template overlay, is refused at once with an error naming the variable; before,
// the agent blocked on it for ever and ignored SIGTERM.
func TestNonRegularInputsAreRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ variable, extra string }{
		{"ENVOY_RESOURCES_CONFIG_FILE", ""},
		{"ENVOY_TRACING_CFG_FILE", ""},
		{"ENVOY_STATS_CONFIG_FILE", ""},
		{"ENVOY_STATS_SINKS_CFG_FILE", ""},
		{"XRAY_SAMPLING_RULE_MANIFEST", "ENABLE_ENVOY_XRAY_TRACING=1"},
		{"APPNET_TEMPLATE_DIR", ""},
	} {
		t.Run(tc.variable, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t, tc.extra)
			fifo := mkfifo(t, a.dir, "fifo.yaml")
			if tc.variable == "APPNET_TEMPLATE_DIR" {
				overlay := filepath.Join(a.dir, "overlay")
				mkdir(t, overlay)
				fifo = mkfifo(t, overlay, "sidecar.yaml.tmpl")
				a.setenv("APPNET_TEMPLATE_DIR=" + overlay)
			} else {
				a.setenv(tc.variable + "=" + fifo)
			}
			if code := a.run(20 * time.Second); code != 1 {
				a.fatalf("exit code %d, want 1", code)
			}
			errs := a.errorLines()
			if len(errs) != 1 || !strings.Contains(errs[0], tc.variable) || !strings.Contains(errs[0], fifo+" is not a regular file (it is a FIFO)") {
				a.fatalf("want one error naming %s and the FIFO, got %q", tc.variable, errs)
			}
		})
	}
}

// TestValidateRefusesNonRegularFiles (items 5 and 16): validate says "not a regular file" for
// a FIFO (before: blocked for ever) and a device like /dev/zero (before: "is 4.0 MiB"). The
// device is a node made in the test's directory, not the real /dev/zero.
func TestValidateRefusesNonRegularFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := []string{mkfifo(t, dir, "fifo.yaml")}
	zero := filepath.Join(dir, "zero")
	if err := unix.Mknod(zero, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))); err == nil {
		files = append(files, zero)
	} else {
		t.Logf("no device node (%v): only the FIFO is checked", err)
	}
	for _, f := range files {
		res := runCommand(t, dir, nil, "validate", f)
		kind := map[bool]string{true: "a FIFO", false: "a character device"}[f != zero]
		if res.code != 1 || !strings.Contains(res.stdout, f+" is not a regular file (it is "+kind+")") {
			t.Errorf("validate %s: exit %d\n%s%s", f, res.code, res.stdout, res.stderr)
		}
	}
}

// runawayOverlay is a template overlay that would run for ever: an empty range over a huge
// number (it allocates nothing and writes nothing, so only a deadline stops it).
func runawayOverlay(t *testing.T, dir string) string {
	t.Helper()
	overlay := filepath.Join(dir, "overlay")
	mkdir(t, overlay)
	writeFile(t, overlay, "sidecar.yaml.tmpl", "# a runaway overlay\n{{range 100000000000}}{{end}}\n", 0o644)
	return overlay
}

// TestRunawayTemplateIsStopped (item 6): an overlay that loops for ever fails the start after
// APPNET_TEMPLATE_TIMEOUT_MS (default 2 s; 300 ms here, so the loop burns little of the CPU
// that the other tests share) with one error naming the file and line. Before, the agent spun
// for ever before starting Envoy.
func TestRunawayTemplateIsStopped(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "APPNET_TEMPLATE_TIMEOUT_MS=300")
	overlay := runawayOverlay(t, a.dir)
	a.setenv("APPNET_TEMPLATE_DIR=" + overlay)
	start := time.Now()
	if code := a.run(30 * time.Second); code != 1 {
		a.fatalf("exit code %d, want 1", code)
	}
	errs := a.errorLines()
	want := filepath.Join(overlay, "sidecar.yaml.tmpl") + ":2:"
	if len(errs) != 1 || !strings.Contains(errs[0], want) ||
		!strings.Contains(errs[0], "in a range: the templates took longer than 300ms (APPNET_TEMPLATE_TIMEOUT_MS)") {
		a.fatalf("want one error naming %s and the timeout, got %q", want, errs)
	}
	t.Logf("stopped after %v", a.exitAt.Sub(start).Round(time.Millisecond))
}

// TestShutdownSignalDuringStart (item 5): SIGTERM while a pre-start step works (here a runaway
// template given a minute) ends the agent at once with exit 0, starting no Envoy and leaving
// no bootstrap behind. Before, the signal was acted on only once the bootstrap was ready.
func TestShutdownSignalDuringStart(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "APPNET_TEMPLATE_TIMEOUT_MS=60000", "ENVOY_CONFIG_FILE",
		"APPNET_E2E_SUBSCRIBED=1") // an unknown variable: warned about after the signal subscription
	a.setenv("APPNET_TEMPLATE_DIR=" + runawayOverlay(t, a.dir))
	a.start()
	if !testenv.Poll(10*time.Second, func() bool { return strings.Contains(a.stderr(), "APPNET_E2E_SUBSCRIBED") }) {
		a.fatalf("the agent never got past reading its environment")
	}
	time.Sleep(200 * time.Millisecond) // into the template execution
	sent := time.Now()
	a.signalNow(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	// Both times are this process's clock.
	if took := a.exitAt.Sub(sent); took > 5*time.Second {
		a.fatalf("the agent took %v to act on SIGTERM before Envoy started", took)
	} else {
		t.Logf("exited %v after SIGTERM", took.Round(time.Millisecond))
	}
	if !strings.Contains(a.stderr(), "Shutdown requested before Envoy started; exiting") {
		a.fatalf("no line saying why the agent exits")
	}
	if _, err := os.Stat(a.rec); err == nil && len(envoyStarts(a.events())) != 0 {
		a.fatalf("Envoy was started")
	}
	if entries, _ := filepath.Glob(filepath.Join(a.dir, "appnet-agent-*")); len(entries) != 0 {
		a.fatalf("a bootstrap directory was left: %v", entries)
	}
}

// TestSignalDuringPackageInit (issue 16, item 14): a SIGTERM that arrives while the agent's
// packages are still being initialised, before main runs, is a clean shutdown request (exit
// 0, Envoy never started), not death by the signal (143). To deliver it there for certain,
// the agent traces its package initialisation (GODEBUG=inittrace=1) into a pipe of one page
// that the test stops reading at earlysignal's line: the agent then blocks on a trace line
// with hundreds of packages still to go.
func TestSignalDuringPackageInit(t *testing.T) {
	t.Parallel()
	// From earlysignal's own line on: the lean entry point's first init (internal/dispatch) runs before it, and a
	// signal before earlysignal has its default action (docs/OPERATIONS.md).
	sigtermDuringTracedInit(t, func(line string) bool {
		return strings.HasPrefix(line, "init github.com/appnet/appnet-agent/internal/earlysignal ")
	}, nil)
}

// sigtermDuringTracedInit runs the agent with its package initialisation traced
// (GODEBUG=inittrace=1) into a pipe of one page, reads the output until atLine says to stop, so
// the process blocks on a trace line with packages still to go, sends SIGTERM, and checks that
// the agent exits 0 — with the line saying why and Envoy never started, or, when check is set,
// as check says (it gets the output after the stop).
func sigtermDuringTracedInit(t *testing.T, atLine func(line string) bool, check func(a *agent, rest string)) {
	a := newAgent(t, "GODEBUG=inittrace=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Skipf("cannot shrink the pipe: %v", err)
	}
	a.errTo = w
	a.start()
	w.Close()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			a.fatalf("the agent's output ended before the line to stop at: %v", err)
		}
		if atLine(line) {
			break
		}
	}
	a.signalNow(syscall.SIGTERM)
	var rest testenv.SafeBuffer
	go func() { _, _ = io.Copy(&rest, br) }()
	code := a.wait(30 * time.Second)
	if check != nil {
		if code != 0 {
			a.fatalf("exit code %d, want 0; output:\n%s", code, tail(rest.String(), 3000))
		}
		check(a, rest.String())
		return
	}
	if code != 0 || !strings.Contains(rest.String(), "Shutdown requested before Envoy started; exiting") {
		ws, _ := a.cmd.ProcessState.Sys().(syscall.WaitStatus)
		a.fatalf("exit code %d (killed by %v), want 0 and a line saying why; output:\n%s", code, ws.Signal(), tail(rest.String(), 3000))
	}
	if len(envoyStarts(a.events())) != 0 {
		a.fatalf("Envoy was started after the shutdown request")
	}
}
