package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/platform"
)

// Issue 20 part 3, Envoy sized from what the task is given, and its OOM kills told apart.

// TestTaskLimitsSizeEnvoy: `facts` records the task's Limits from task metadata, and
// `render --facts` replays them where the container's cgroup sets no limit: Envoy's
// --concurrency from Limits.CPU (rounded up), the overload manager's limit from
// Limits.Memory — read by the cgroup_memory monitor on Envoy 1.35 and later, by fixed_heap
// before. A facts file written before the task's limits were recorded replays as before.
func TestTaskLimitsSizeEnvoy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := newTaskMock(t, map[string]any{"CPU": 1.5, "Memory": 512})
	host := []string{"PATH=/usr/bin:/bin", "ECS_CONTAINER_METADATA_URI_V4=" + m.url, "AWS_EC2_METADATA_DISABLED=true",
		"APPNET_ENVOY_PATH=" + standinBin, "STANDIN_VERSION=abc/1.35.0/Clean/RELEASE/BoringSSL"}
	facts := runCommand(t, dir, host, "facts").mustSucceed(t, "facts")
	h, err := platform.DecodeHostFacts("facts", []byte(facts.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if h.ECSTask == nil || h.ECSTask.CPU != 1.5 || h.ECSTask.MemoryMiB != 512 {
		t.Fatalf("facts lack the task's limits:\n%s", facts.stdout)
	}
	// The container itself has no limits (ECS on EC2 with task-level limits only), whatever
	// this host's own cgroup says.
	h.CPU = &platform.CPUQuota{Source: "/sys/fs/cgroup/cpu.max"}
	h.Memory = &platform.MemoryLimit{Source: "/sys/fs/cgroup/memory.max"}
	caseFile := writeFile(t, dir, "case.env", strings.Join([]string{"AWS_REGION=us-west-2", "APPMESH_RESOURCE_ARN=mesh/m/virtualNode/n",
		"ECS_CONTAINER_METADATA_URI_V4=" + m.url, "APPNET_ENVOY_HEAP_FROM_CGROUP=true", "APPNET_ENVOY_HEAP_FRACTION=0.5"}, "\n")+"\n", 0o644)
	render := func(version string, h platform.HostFacts) cmdResult {
		t.Helper()
		h.Envoy = &platform.EnvoyFacts{Version: version}
		b, err := platform.EncodeHostFacts(h)
		if err != nil {
			t.Fatal(err)
		}
		f := writeFile(t, dir, "facts-"+strings.ReplaceAll(version, "/", "_")+".json", string(b), 0o644)
		return runCommand(t, dir, nil, "render", "--facts", f, "--env-file", caseFile).mustSucceed(t, "render --facts "+version)
	}
	const limit = "268435456" // 0.5 × 512 MiB
	for _, tc := range []struct{ version, monitor, field string }{
		{"abc/1.35.0/Clean/RELEASE/BoringSSL", "envoy.resource_monitors.cgroup_memory", "max_memory_bytes: " + limit},
		{"abc/1.34.2/Clean/RELEASE/BoringSSL", "envoy.resource_monitors.fixed_heap", "max_heap_size_bytes: " + limit},
	} {
		r := render(tc.version, h)
		if !strings.Contains(r.stdout, "name: "+tc.monitor) || !strings.Contains(r.stdout, tc.field) {
			t.Errorf("Envoy %s: want %s with %s:\n%s", tc.version, tc.monitor, tc.field, r.stdout)
		}
		if !strings.Contains(r.stderr, "the task's memory limit") {
			t.Errorf("Envoy %s: the heap's source is not logged:\n%s", tc.version, r.stderr)
		}
		if !strings.Contains(r.stderr, "--concurrency from the task's CPU limit") || !strings.Contains(r.stderr, "concurrency=2") {
			t.Errorf("Envoy %s: --concurrency 2 from the task's 1.5 vCPUs not logged:\n%s", tc.version, r.stderr)
		}
	}
	// An old facts file (no task limits): no overload manager, Envoy's own concurrency.
	old := h
	old.ECSTask = &platform.ECSTask{Cluster: h.ECSTask.Cluster, TaskARN: h.ECSTask.TaskARN}
	r := render("abc/1.35.0/Clean/RELEASE/BoringSSL", old)
	if strings.Contains(r.stdout, "overload_manager") || strings.Contains(r.stderr, "concurrency=") {
		t.Errorf("a facts file without the task's limits is sized anyway:\n%s\n%s", r.stderr, r.stdout)
	}
}

// TestConcurrencyFromTheTask: at run time the agent gives Envoy --concurrency from the task's
// Limits.CPU where its container has no CPU quota; ENVOY_CONCURRENCY still wins.
func TestConcurrencyFromTheTask(t *testing.T) {
	t.Parallel()
	if q := quotaArgs(t); q != "" {
		t.Skip("this host's cgroup sets a CPU quota, which comes first; the order is unit-tested (TestConcurrency)")
	}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{want: "--concurrency 3"}, // 2.25 vCPUs, rounded up
		{env: []string{"ENVOY_CONCURRENCY=1"}, want: "--concurrency 1"},
	} {
		m := newTaskMock(t, map[string]any{"CPU": 2.25, "Memory": 4096}, "app")
		a, _, _ := lifecycleAgent(t, m, tc.env...)
		argv := strings.Join(envoyStarts(a.events())[0].Argv, " ")
		if !strings.Contains(argv, tc.want) {
			a.fatalf("%v: Envoy's command line %q lacks %q", tc.env, argv, tc.want)
		}
	}
}

// TestOOMKillAttributed: when Envoy dies of a SIGKILL while the container cgroup's
// memory.events oom_kill count grows, the agent says the kernel's OOM killer killed it (log,
// /status lastExitReason, appnet_agent_envoy_oom_kills_total) and restarts it as after any
// crash; a SIGKILL without an OOM kill is a plain kill. The cgroup is a fake directory
// mounted over /sys/fs/cgroup for the agent alone.
func TestOOMKillAttributed(t *testing.T) {
	t.Parallel()
	requireMountNS(t)
	cg := t.TempDir()
	events := filepath.Join(cg, "memory.events")
	writeEvents := func(n string) {
		t.Helper()
		// Replaced whole, as the kernel's file reads: never half-written.
		tmp := events + ".tmp"
		if err := os.WriteFile(tmp, []byte("low 0\nhigh 0\nmax 3\noom 1\noom_kill "+n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, events); err != nil {
			t.Fatal(err)
		}
	}
	writeEvents("0")
	if err := os.WriteFile(filepath.Join(cg, "memory.max"), []byte("536870912\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newAgent(t)
	a.givenBootstrap("127.0.0.1", "")
	a.withAPI()
	a.inMountNS("mount --bind "+cg+" /sys/fs/cgroup", "true")
	a.start()
	a.waitUp()
	first := a.waitEnvoyUp(1)
	a.waitStatus("HEALTHY", 20*time.Second, func(s api.Status) bool { return s.HealthStatus == api.Healthy })

	// A plain SIGKILL (someone else's): no OOM.
	_ = syscall.Kill(first.Pid, syscall.SIGKILL)
	second := a.waitEnvoyUp(2)
	if strings.Contains(a.stderr(), "OOM killer") {
		a.fatalf("a SIGKILL without an oom_kill was taken for the OOM killer's")
	}
	// The kernel's OOM killer: the count grows, then the SIGKILL.
	writeEvents("1")
	_ = syscall.Kill(second.Pid, syscall.SIGKILL)
	a.waitEnvoyUp(3)
	st := a.waitStatus("the OOM kill in /status", 10*time.Second, func(s api.Status) bool { return strings.Contains(s.LastExitReason, "OOM") })
	if want := "killed by the kernel's OOM killer (limit 536870912 bytes)"; st.LastExitReason != want {
		a.fatalf("lastExitReason %q, want %q", st.LastExitReason, want)
	}
	if n := strings.Count(a.stderr(), "Envoy was killed by the kernel's OOM killer (limit 536870912 bytes)"); n != 1 {
		a.fatalf("the OOM kill is logged %d times, want once", n)
	}
	_, metrics := a.get("GET", "/metrics")
	if !slices.Contains(strings.Split(metrics, "\n"), "appnet_agent_envoy_oom_kills_total 1") {
		a.fatalf("/metrics lacks appnet_agent_envoy_oom_kills_total 1:\n%s", metrics)
	}
}
