package supervise

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// runHelper is the test binary re-executed as a small agent (TestMain dispatches here when
// SUPERVISE_TEST_HELPER is set). It returns the process exit code.
func runHelper(mode string) int {
	bin, dir := os.Getenv("SUPERVISE_STANDIN"), os.Getenv("SUPERVISE_DIR")
	log := hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Debug})
	boot := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(boot, []byte("admin:\n  address:\n    pipe: {path: "+filepath.Join(dir, "admin.sock")+"}\n"), 0o600); err != nil {
		fmt.Println(err)
		return 2
	}
	opts := Options{
		Argv:   []string{bin, "-c", boot},
		Env:    append(os.Environ(), "STANDIN_RECORD="+filepath.Join(dir, "record.jsonl")),
		Logger: log,
	}
	switch mode {
	case "pdeathsig":
		// Supervise a long-lived Envoy until killed.
		opts.Env = append(opts.Env, "STANDIN_LIFETIME=1h")
		New(opts).Run(context.Background())
		return 0
	case "pid1":
		return helperPID1(opts, log)
	}
	fmt.Println("unknown helper mode", mode)
	return 2
}

// helperPID1 runs as PID 1: Envoy exits after spawning orphans (killed with its group, then
// re-parented to PID 1 as zombies); a shell leaves an orphan in its own session that exits
// later. Every one must be reaped.
func helperPID1(opts Options, log hclog.Logger) int {
	if os.Getpid() != 1 {
		fmt.Println("not PID 1")
		return 2
	}
	r, stop, err := startReaper(log)
	if err != nil {
		fmt.Println("NewReaper:", err)
		return 2
	}
	defer stop()
	opts.Reaper = r
	opts.RestartCount = 2
	opts.BackoffInitial = -1
	opts.Env = append(opts.Env, "STANDIN_LIFETIME=150ms", "STANDIN_SPAWN_ORPHAN=50ms")
	code := New(opts).Run(context.Background())
	if err := exec.Command("sh", "-c", "setsid sleep 0.2 & exit 0").Run(); err != nil {
		fmt.Println("shell:", err)
		return 2
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		zombies, others := scanProc()
		if len(zombies) == 0 && len(others) == 0 {
			fmt.Printf("Envoy exit code %d; no zombies\n", code)
			return 0
		}
		if time.Now().After(deadline) {
			fmt.Printf("zombies %v, other processes %v left\n", zombies, others)
			return 1
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scanProc lists the namespace's processes other than this one, split into zombies and the
// rest.
func scanProc() (zombies, others []string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid := 0
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		desc := strings.TrimSpace(string(b))
		if len(desc) > 60 {
			desc = desc[:60]
		}
		if procState(pid) == "Z" {
			zombies = append(zombies, desc)
		} else {
			others = append(others, desc)
		}
	}
	return zombies, others
}

// TestPdeathsig: SIGKILL the agent (a helper process running a supervisor) and Envoy dies too.
func TestPdeathsig(t *testing.T) {
	bin := standin(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=pdeathsig", "SUPERVISE_STANDIN="+bin, "SUPERVISE_DIR="+dir)
	var out testenv.SafeBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("helper output:\n%s", out.String())
		}
	}()
	rec := filepath.Join(dir, "record.jsonl")
	var envoy int
	testenv.WaitFor(t, 30*time.Second, "Envoy started by the helper", func() bool {
		for _, e := range readEvents(t, rec, "admin_listening") {
			envoy = e.num("pid")
		}
		return envoy > 0
	})
	if gone(envoy) {
		t.Fatal("Envoy not running")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	testenv.WaitFor(t, 10*time.Second, "Envoy to die with its supervisor", func() bool { return gone(envoy) })
}
