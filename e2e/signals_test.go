package e2e

import (
	"bufio"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestSignalDuringPackageInit (issue 16, item 14): a SIGTERM that arrives while the agent's
// packages are still being initialised, before main runs, is a clean shutdown request (exit
// 0, Envoy never started), not death by the signal (143). To deliver it there for certain,
// the agent traces its package initialisation (GODEBUG=inittrace=1) into a pipe of one page
// that the test stops reading at the first package of this module: the agent then blocks on
// a trace line with hundreds of packages still to go.
func TestSignalDuringPackageInit(t *testing.T) {
	t.Parallel()
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
			a.fatalf("the agent's trace ended before a package of this module: %v", err)
		}
		if strings.HasPrefix(line, "init github.com/appnet/appnet-agent/") {
			break
		}
	}
	a.signal(syscall.SIGTERM)
	var rest testenv.SafeBuffer
	go func() { _, _ = io.Copy(&rest, br) }()
	code := a.wait(30 * time.Second)
	if code != 0 || !strings.Contains(rest.String(), "Shutdown requested before Envoy started; exiting") {
		ws, _ := a.cmd.ProcessState.Sys().(syscall.WaitStatus)
		a.fatalf("exit code %d (killed by %v), want 0 and a line saying why; output:\n%s", code, ws.Signal(), tail(rest.String(), 3000))
	}
	if len(envoyStarts(a.events())) != 0 {
		a.fatalf("Envoy was started after the shutdown request")
	}
}

// TestOutputReaderGone (issue 16, item 2): the reader of the agent's stdout and stderr goes
// away (a log driver restarts, a `| tee` ends) while Envoy keeps printing. The agent must not
// die of SIGPIPE (141, taking Envoy down through the parent-death signal without a drain): it
// counts the lost lines and still drains Envoy on SIGTERM.
func TestOutputReaderGone(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "STANDIN_STDOUT_LINES=3000", "STANDIN_STDERR_LINES=3000", "STANDIN_LINE_INTERVAL=1ms")
	a.withAPI()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a.outTo, a.errTo = w, w
	a.start()
	w.Close()
	if _, err := r.Read(make([]byte, 1)); err != nil { // the agent has started writing
		t.Fatal(err)
	}
	r.Close()
	up := a.waitEnvoyUp(1)
	a.waitFor("Envoy's lines printed", 30*time.Second, func(evs []event) bool { return len(filter(evs, isEvent("lines_done"))) == 2 })
	a.waitMetrics("Envoy's 6000 lines counted as lost", 10*time.Second, func(fams testenv.Exposition) bool {
		v1, _ := fams.Value("appnet_agent_output_lines_lost_total", "stream", "stdout")
		v2, _ := fams.Value("appnet_agent_output_lines_lost_total", "stream", "stderr")
		return v1+v2 >= 6000
	})
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	if len(filter(a.events(), isDrain)) == 0 || len(filter(a.events(), isSignal(up.Pid, "SIGTERM"))) != 1 {
		a.fatalf("Envoy was not drained and stopped")
	}
}

// TestRepeatedSignalIsOneRequest (issue 16, item 17): a wrapper that sends SIGTERM to the
// agent and to its process group delivers it twice at once; that is one request, and the
// drain runs its course instead of being skipped as for a second signal.
func TestRepeatedSignalIsOneRequest(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "LISTENER_DRAIN_WAIT_TIME_S=20", "STANDIN_DOWNSTREAM_CX=3", "STANDIN_DRAIN_CX_AFTER=1500ms")
	a.start()
	up := a.waitEnvoyUp(1)
	pid := a.agentPid()
	_ = syscall.Kill(pid, syscall.SIGTERM)
	// Sent at once, the second would often merge with the first while it is still pending;
	// a wrapper's second kill comes after some work, by when the first was taken.
	time.Sleep(100 * time.Millisecond)
	_ = syscall.Kill(-pid, syscall.SIGTERM) // the agent's group: the agent alone (Envoy has its own)
	if code := a.wait(40 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	evs := a.events()
	drains, terms := filter(evs, isDrain), filter(evs, isSignal(up.Pid, "SIGTERM"))
	if len(drains) == 0 || len(terms) != 1 {
		a.fatalf("%d drain requests, %d SIGTERMs to Envoy; want a drain and one SIGTERM", len(drains), len(terms))
	}
	if d := terms[0].Time.Sub(drains[0].Time); d < 1400*time.Millisecond {
		a.fatalf("Envoy's SIGTERM %v after the drain request, want after its connections closed (1.5 s): the repeated signal cut the drain short", d)
	}
}
