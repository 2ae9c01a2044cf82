package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 20 part 2, jobs: POST /shutdown (and /quitquitquit) ends the agent cleanly, and
// `appnet-agent wait` in the application's container waits for Envoy, runs the job, and then
// shuts the agent down.

// apiEnv is what the application's container sets to reach the agent's management API: the
// same variables as the agent's.
func (a *agent) apiEnv() []string {
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	for _, k := range []string{"APPNET_AGENT_ADMIN_MODE", "APPNET_AGENT_HTTP_PORT", "APPNET_AGENT_HTTP_BIND_ADDRESS", "APPNET_AGENT_ADMIN_UDS_PATH"} {
		if v, ok := a.env[k]; ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// TestShutdownEndpoint: POST /shutdown starts the graceful shutdown (drain, SIGTERM to Envoy)
// and the agent exits 0; a repeat, under either name, says it is under way; other methods
// are refused. (Remote clients are refused: TestE2ERemoteMutationRefused.)
func TestShutdownEndpoint(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/shutdown", "/quitquitquit"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			a := startAgent(t, agentOpts{waitLive: true})
			if code, body, _ := a.call("GET", path); code != 405 {
				a.fatalf("GET %s: %d %s, want 405", path, code, body)
			}
			if a.exited() {
				a.fatalf("a GET %s shut the agent down", path)
			}
			code, body, _ := a.call("POST", path)
			if code != 200 || !strings.Contains(body, "graceful shutdown started") {
				a.fatalf("POST %s: %d %q", path, code, body)
			}
			// The API serves until the agent exits: a repeat is answered, and changes nothing.
			if code, body := a.get("POST", "/quitquitquit"); code == 200 && !strings.Contains(body, "under way") {
				a.fatalf("repeated POST: %d %q", code, body)
			}
			if code := a.wait(drainWait + 15*time.Second); code != 0 {
				a.fatalf("agent exit code %d after POST %s, want 0", code, path)
			}
			evs := a.events()
			if len(filter(evs, isDrain)) != 1 || len(filter(evs, isEvent("signal"))) != 1 {
				a.fatalf("want one drain and one signal to Envoy")
			}
			if !strings.Contains(a.stderr(), "Shutdown requested through the management API") {
				a.fatalf("the shutdown's cause is not logged")
			}
		})
	}
}

// TestWait: `appnet-agent wait` returns once the agent reports Envoy ready, over TCP or the
// Unix socket; with a command it runs it, asks the agent to shut down, and exits with the
// command's code; an agent that cannot be reached is a clear error, exit 69.
func TestWait(t *testing.T) {
	t.Parallel()
	t.Run("no command, TCP", func(t *testing.T) {
		t.Parallel()
		a := startAgent(t, agentOpts{})
		r := runCommand(t, a.dir, a.apiEnv(), "wait", "--timeout", "20s")
		if r.code != 0 || !strings.Contains(r.stderr, "Envoy is ready") {
			a.fatalf("wait: exit %d\n%s", r.code, r.stderr)
		}
		if a.exited() {
			a.fatalf("wait without a command shut the agent down")
		}
	})
	t.Run("no command, Unix socket", func(t *testing.T) {
		t.Parallel()
		a := startAgent(t, agentOpts{uds: true})
		r := runCommand(t, a.dir, a.apiEnv(), "wait", "--timeout", "20s")
		if r.code != 0 {
			a.fatalf("wait over the socket: exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("command", func(t *testing.T) {
		t.Parallel()
		a := startAgent(t, agentOpts{})
		r := runCommand(t, a.dir, a.apiEnv(), "wait", "--timeout", "20s", "--", "sh", "-c", "echo job ran; exit 7")
		if r.code != 7 || r.stdout != "job ran\n" {
			a.fatalf("wait -- job: exit %d, stdout %q, want 7 and the job's output\n%s", r.code, r.stdout, r.stderr)
		}
		if code := a.wait(drainWait + 15*time.Second); code != 0 {
			a.fatalf("the agent exited %d after the job, want 0", code)
		}
		if !strings.Contains(a.stderr(), "POST /shutdown") {
			a.fatalf("the agent was not shut down by POST /shutdown")
		}
	})
	t.Run("agent not reachable", func(t *testing.T) {
		t.Parallel()
		port := strconv.Itoa(testenv.FreePort(t))
		env := []string{"APPNET_AGENT_ADMIN_MODE=tcp", "APPNET_AGENT_HTTP_PORT=" + port}
		r := runCommand(t, t.TempDir(), env, "wait", "--timeout", "1s", "--", "sh", "-c", "echo must not run")
		if r.code != 69 || r.stdout != "" || !strings.Contains(r.stderr, "cannot reach the agent's management API at 127.0.0.1:"+port+": connect: connection refused (is the agent running") {
			t.Errorf("wait, no agent: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
		}
		r = runCommand(t, t.TempDir(), nil, "wait", "--timeout", "1s")
		if r.code != 69 || !strings.Contains(r.stderr, "APPNET_AGENT_ADMIN_MODE is not set") {
			t.Errorf("wait, no API variables: exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("signal forwarded", func(t *testing.T) {
		t.Parallel()
		a := startAgent(t, agentOpts{})
		started := filepath.Join(a.dir, "job-started")
		cmd := exec.Command(agentBin, "wait", "--timeout", "20s", "--", "sh", "-c",
			`trap 'echo got TERM; exit 42' TERM; touch "$0"; while :; do sleep 0.05; done`, started)
		cmd.Env = a.apiEnv()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		testenv.WaitFor(t, 20*time.Second, "the job to start", func() bool { _, err := os.Stat(started); return err == nil })
		_ = cmd.Process.Signal(syscall.SIGTERM) // to wait only: it passes it on
		_ = cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 42 || !strings.Contains(out.String(), "got TERM") {
			a.fatalf("wait after SIGTERM: exit %d, want the job's 42\n%s", code, out.String())
		}
		if code := a.wait(drainWait + 15*time.Second); code != 0 {
			a.fatalf("the agent exited %d after the job, want 0", code)
		}
	})
}
