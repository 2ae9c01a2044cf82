package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 7, fault injection: what the host does to the agent.

// TestFullLogFilesystem (issue 7, defect 7): when the log file's filesystem fills up, no line
// is lost silently: the failure is reported on stderr once, Envoy's lines go on to stderr,
// and every line is in the file or on stderr, none twice.
func TestFullLogFilesystem(t *testing.T) {
	t.Parallel()
	requireMountNS(t)
	const lines = 20000 // about 210 KiB: the 64 KiB filesystem fills early
	a := newAgent(t, "STANDIN_STDOUT_LINES="+strconv.Itoa(lines), "APPNET_AGENT_MAX_LOG_FILE_SIZE=10")
	logDir := filepath.Join(a.dir, "logs")
	mkdir(t, logDir)
	a.setenv("APPNET_ENVOY_LOG_DESTINATION=" + logDir)
	a.inMountNS("mount -t tmpfs -o size=64k tmpfs "+logDir, "cp "+logDir+"/appnet_envoy.log "+a.dir+"/envoy.log")
	runUntilLinesDone(a, 1)

	stderr := a.stderr()
	if n := strings.Count(stderr, "cannot write the log file"); n != 1 || !strings.Contains(stderr, "no space left on device") {
		a.fatalf("the write failure is reported %d times on stderr, want once with the reason", n)
	}
	file, err := os.ReadFile(filepath.Join(a.dir, "envoy.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(file) > 0 && file[len(file)-1] != '\n' {
		a.fatalf("the log file ends inside a line: %q", file[max(0, len(file)-40):])
	}
	seen := make([]int, lines+1)
	for _, text := range []string{string(file), stderr} {
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			if m := stdoutLine.FindStringSubmatch(sc.Text()); m != nil {
				n, _ := strconv.Atoi(m[1])
				seen[n]++
			}
		}
	}
	for n := 1; n <= lines; n++ {
		if seen[n] != 1 {
			a.fatalf("line %d seen %d times across the file and stderr, want once", n, seen[n])
		}
	}
	t.Logf("%d bytes reached the 64 KiB file; the rest went to stderr", len(file))
}

// TestHangingMetadata: task and instance metadata endpoints that accept connections and
// never answer cost at most the 2 s budget; Envoy then starts with what is known, and the
// agent says what it could not learn. It runs in a private network namespace, so nothing can
// reach a real metadata service.
func TestHangingMetadata(t *testing.T) {
	t.Parallel()
	requireNetNS(t)
	a := newAgent(t, "AWS_EC2_METADATA_DISABLED", "AWS_REGION=us-west-2", "AWS_EXECUTION_ENV=AWS_ECS_FARGATE",
		"ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:1090", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1090")
	a.prefix = []string{"unshare", "-n", "sh", "-c",
		`ip link set lo up && { "` + standinBin + `" --hang-listen 127.0.0.1:1090 & } && sleep 0.2 && exec "$0" "$@"`}
	a.start()
	a.waitEnvoyUp(1)
	elapsed := regexp.MustCompile(`bootstrap ready .* elapsed=(\S+)`).FindStringSubmatch(a.stderr())
	if elapsed == nil {
		a.fatalf("no bootstrap ready line")
	}
	// The agent's own clock: from its start to the bootstrap.
	if d, err := time.ParseDuration(elapsed[1]); err != nil || d > 3500*time.Millisecond {
		a.fatalf("the bootstrap took %s with hanging metadata, want the 2 s budget (and a little)", elapsed[1])
	}
	if !strings.Contains(a.stderr(), "[warning]") || !strings.Contains(a.stderr(), "metadata") {
		a.fatalf("the agent does not say what it could not learn")
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d", code)
	}
}

var (
	netNSOnce sync.Once
	netNSErr  error
)

func requireNetNS(t *testing.T) {
	t.Helper()
	netNSOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "unshare", "-n", "sh", "-c", "ip link set lo up").CombinedOutput(); err != nil {
			netNSErr = fmt.Errorf("unshare -n: %v %s", err, out)
		}
	})
	if netNSErr != nil {
		t.Skipf("cannot give the agent a private network namespace: %v", netNSErr)
	}
}

// storm sends n shutdown signals (SIGTERM, SIGINT, SIGQUIT in turn, and SIGHUPs, which are
// ignored) as fast as it can.
func (a *agent) storm(n int) {
	sigs := []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT}
	for i := range n {
		_ = a.cmd.Process.Signal(sigs[i%len(sigs)])
	}
}

// TestSignalStorms: a burst of signals before Envoy starts, during the restart back-off and
// during the drain ends in one defined exit each: no hang, no panic, no Envoy left.
func TestSignalStorms(t *testing.T) {
	t.Parallel()
	t.Run("before Envoy starts", func(t *testing.T) {
		t.Parallel()
		requireNetNS(t)
		// Rendering waits on hanging metadata; the storm comes meanwhile.
		a := newAgent(t, "AWS_EC2_METADATA_DISABLED", "AWS_REGION=us-west-2", "AWS_EXECUTION_ENV=AWS_ECS_FARGATE",
			"ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:1090", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1090")
		a.prefix = []string{"unshare", "-n", "sh", "-c",
			`ip link set lo up && { "` + standinBin + `" --hang-listen 127.0.0.1:1090 & } && sleep 0.2 && exec "$0" "$@"`}
		// The storm is to come while the rendering hangs (a signal during package
		// initialisation is TestSignalDuringPackageInit's). An unknown variable makes the agent
		// log a warning right after it read the environment, which is before the (hanging)
		// rendering.
		a.setenv("APPNET_E2E_SUBSCRIBED=1")
		a.start()
		pid := a.agentPid()
		if !testenv.Poll(10*time.Second, func() bool { return strings.Contains(a.stderr(), "APPNET_E2E_SUBSCRIBED") }) {
			a.fatalf("the agent never got past reading its environment")
		}
		a.stormPid(pid, 200)
		if code := a.wait(20 * time.Second); code != 0 {
			a.fatalf("exit code %d, want 0 (nothing was started)", code)
		}
		if _, err := os.Stat(a.rec); err == nil && len(envoyStarts(a.events())) != 0 {
			a.fatalf("Envoy was started after a shutdown request")
		}
		if !strings.Contains(a.stderr(), "Shutdown requested before Envoy started; exiting") {
			a.fatalf("no line saying why the agent exits")
		}
	})
	t.Run("during the restart back-off", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "STANDIN_EXIT_CODE=7", "STANDIN_LIFETIME=50ms", "APPNET_ENVOY_RESTART_COUNT=10")
		a.start()
		a.waitFor("a back-off", 20*time.Second, func([]event) bool {
			return strings.Contains(a.stderr(), "Restarting Envoy after a delay")
		})
		a.storm(200)
		if code := a.wait(20 * time.Second); code != 7 {
			a.fatalf("exit code %d, want 7 (the failed Envoy's)", code)
		}
		if n := strings.Count(a.stderr(), "Shutdown requested while Envoy is not running; exiting"); n != 1 {
			a.fatalf("%d shutdown lines, want 1", n)
		}
	})
	t.Run("during the drain", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "STANDIN_DOWNSTREAM_CX=3", "LISTENER_DRAIN_WAIT_TIME_S=60")
		a.start()
		up := a.waitEnvoyUp(1)
		a.signal(syscall.SIGTERM)
		a.waitEvent("the drain request", 1, 20*time.Second, isDrain)
		a.storm(200)
		code := a.wait(20 * time.Second)
		// The second signal ends the drain wait, a later one the SIGTERM grace: Envoy stopped
		// (0) or was killed (137), depending on how the storm fell.
		if code != 0 && code != 128+int(syscall.SIGKILL) {
			a.fatalf("exit code %d, want 0 or 137", code)
		}
		if !testenv.Poll(5*time.Second, func() bool { return !a.owns(up.Pid) }) {
			a.fatalf("Envoy %d still running", up.Pid)
		}
	})
}

// stormPid is storm aimed at pid (the agent under a launcher).
func (a *agent) stormPid(pid, n int) {
	sigs := []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT}
	for i := range n {
		_ = syscall.Kill(pid, sigs[i%len(sigs)])
	}
}

// TestAgentAsPID1: as PID 1 of its own pid namespace (a container), the agent runs Envoy,
// drains it on SIGTERM and exits 0, leaving no process behind in the namespace.
func TestAgentAsPID1(t *testing.T) {
	t.Parallel()
	a := newAgent(t)
	a.prefix = []string{requireUnshare(t), "-fp", "--mount-proc"}
	a.start()
	ns := pidNS(a.agentPid())
	a.waitEnvoyUp(1)
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	if left := procsIn(ns); len(left) > 0 {
		a.fatalf("processes left in the namespace: %+v", left)
	}
}

// TestManagementSocketRemoved: someone removes the agent's Unix socket file; the agent notices,
// says so, and binds it again, while Envoy runs on untouched.
func TestManagementSocketRemoved(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "api.sock")
	a := newAgent(t, "APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+sock)
	a.start()
	up := a.waitEnvoyUp(1)
	client := testenv.UnixClient(sock)
	get := func() int {
		res, err := client.Get("http://agent/status")
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	if !testenv.Poll(10*time.Second, func() bool { return get() == 200 }) {
		a.fatalf("/status never answered on %s", sock)
	}
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	if !testenv.Poll(20*time.Second, func() bool { return get() == 200 }) {
		a.fatalf("/status did not come back after the socket was removed")
	}
	if !strings.Contains(a.stderr(), "was removed or replaced") || !strings.Contains(a.stderr(), "Server started again") {
		a.fatalf("the agent did not say what happened")
	}
	if n := len(envoyStarts(a.events())); n != 1 || !a.owns(up.Pid) {
		a.fatalf("Envoy was touched: %d starts", n)
	}
}

// TestManagementSocketInUse (issue 16, item 3): a second agent given the management socket
// path of a running one exits 1 before starting Envoy, saying the socket is in use, and
// leaves the first agent's socket alone; the first keeps answering on it. (It used to delete
// the live socket, and the two then took it from each other for ever.)
func TestManagementSocketInUse(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "api.sock")
	first := newAgent(t, "APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+sock)
	first.start()
	first.waitEnvoyUp(1)
	client := testenv.UnixClient(sock)
	answers := func() bool {
		res, err := client.Get("http://agent/status")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}
	if !testenv.Poll(10*time.Second, answers) {
		first.fatalf("/status never answered on %s", sock)
	}
	before, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}

	second := newAgent(t, "APPNET_AGENT_ADMIN_MODE=uds", "APPNET_AGENT_ADMIN_UDS_PATH="+sock)
	if code := second.run(30 * time.Second); code != 1 {
		second.fatalf("second agent: exit code %d, want 1", code)
	}
	if errs := second.errorLines(); len(errs) != 1 || !strings.Contains(errs[0], "APPNET_AGENT_ADMIN_UDS_PATH") || !strings.Contains(errs[0], "is in use") {
		second.fatalf("second agent: error lines %q, want one naming APPNET_AGENT_ADMIN_UDS_PATH and saying the socket is in use", errs)
	}
	if _, err := os.Stat(second.rec); err == nil && len(envoyStarts(second.events())) > 0 {
		second.fatalf("the second agent started Envoy")
	}
	// Past the first agent's socket check period: it would have noticed a replaced file.
	time.Sleep(1500 * time.Millisecond)
	if after, err := os.Lstat(sock); err != nil || !os.SameFile(before, after) {
		first.fatalf("the first agent's socket was removed or replaced: %v", err)
	}
	if !answers() || strings.Contains(first.stderr(), "was removed or replaced") {
		first.fatalf("the first agent lost its socket")
	}
}
