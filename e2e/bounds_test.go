package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deepLuaBootstrap is a valid 800 KB bootstrap whose Lua filter nests 400,000 parentheses.
func deepLuaBootstrap() string {
	const n = 400000
	code := "return " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n)
	return `node: {id: node1, cluster: c1}
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: s
          route_config: {name: r}
          http_filters:
          - name: envoy.filters.http.lua
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
              default_source_code: {inline_string: "` + code + `"}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
`
}

// TestValidateDeeplyNestedLua (issue 16, item 15): validate on an 800 KB bootstrap with
// 400,000 levels of Lua nesting reports what LuaJIT says ("chunk has too many syntax levels")
// at a small multiple of the file's size. Before: accepted, after 4 s and 300 MB.
func TestValidateDeeplyNestedLua(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeFile(t, dir, "deep-lua.yaml", deepLuaBootstrap(), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBin, "validate", path)
	cmd.Env = []string{}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak, samples := sampleAgentPeakRSS(cmd.Process.Pid, cmd.Wait)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout.String())
	}
	if !strings.Contains(stdout.String(), filepath.Base(path)) || !strings.Contains(stdout.String(), "chunk has too many syntax levels") {
		t.Fatalf("validate says:\n%s", stdout.String())
	}
	if raceBuild {
		t.Logf("peak RSS %d MiB (not checked under -race)", peak>>20)
		return
	}
	if samples == 0 {
		t.Fatal("the agent's peak RSS was never read while it ran")
	}
	// Alone it peaks near 42 MiB. Parsing the Lua, as before the bound, took 300 MB and more.
	if peak > 150<<20 {
		t.Fatalf("peak RSS %d MiB for an 800 KB file", peak>>20)
	}
	t.Logf("peak RSS %d MiB (%d samples)", peak>>20, samples)
}

// sampleAgentPeakRSS reads the peak RSS (VmHWM) of process pid every millisecond while it runs
// the agent binary, until wait returns, and gives the last (largest) value and the number of
// reads. Not the child's rusage: Go starts children with vfork, and the kernel's maxrss of a
// child counts the memory it shared with this (large, busy) test process before its exec.
func sampleAgentPeakRSS(pid int, wait func() error) (peak int64, samples int) {
	agent, err := os.Stat(agentBin)
	done := make(chan struct{})
	go func() { _ = wait(); close(done) }()
	for tick := time.NewTicker(time.Millisecond); ; {
		select {
		case <-done:
			tick.Stop()
			return peak, samples
		case <-tick.C:
		}
		// Only once the exec is done: before it, the child's memory is this process's.
		if exe, e := os.Stat(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || e != nil || !os.SameFile(exe, agent) {
			continue
		}
		if v := peakRSS(pid); v > 0 {
			peak, samples = max(peak, v), samples+1
		}
	}
}

// TestGoldenEscapesCaseNames (issue 16, item 16): a case file named with terminal escape
// sequences is reported with them escaped; before, they went raw to the terminal.
func TestGoldenEscapesCaseNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := filepath.Join(dir, "cases")
	mkdir(t, cases)
	writeFile(t, cases, "red\x1b[31m\x07.env", offlineEnvFile, 0o644) // no expectation: reported as broken
	res := runCommand(t, dir, nil, "golden", "cases")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stdout)
	}
	if strings.ContainsAny(res.stdout, "\x1b\x07") {
		t.Fatalf("control characters reached the terminal: %q", res.stdout)
	}
	if !strings.Contains(res.stdout, `cases/red\x1b[31m\x07`) {
		t.Fatalf("the case name is not shown escaped: %q", res.stdout)
	}
}
