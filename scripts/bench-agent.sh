#!/usr/bin/env bash
# Whole-process benchmarks of the agent, one result per line (all targets: docs/DEVELOPMENT.md):
#   (a) process start → Envoy exec, default App Mesh environment (examples/appmesh.env), median;
#       with a breakdown: the `envoy --version` FIPS probe, the same run without the probe, the
#       agent's own "bootstrap ready" time, and the bare fork+exec floor of this machine;
#   (b) Envoy exit → next Envoy start (the first restart, which has no backoff), median;
#   (c) the agent's VmRSS / VmHWM while supervising envoy-standin.
# Targets: ≤ 8 ms, ≤ 5 ms, ≤ 16 MB. Exit status 0 even when a target is missed (it is reported).
#
# Envoy is a stub that writes a CLOCK_REALTIME timestamp as its first action (C when a C
# compiler is available, else Go, whose runtime start-up then counts against the agent), and
# answers --version at once. The driver takes its timestamp just before it forks the agent.
#
# Usage: scripts/bench-agent.sh        (BENCH_RUNS=15, AGENT=bin/appnet-agent by default;
#                                       the agent is built with `make build` when AGENT is unset)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
runs=${BENCH_RUNS:-15}
if [ -z "${AGENT:-}" ]; then
  make -s build >/dev/null
  AGENT=$PWD/bin/appnet-agent
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-agent.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- the Envoy stub --------------------------------------------------------------------------
cat >"$tmp/stub.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static long long now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
/* Appends "<exec|probe> <start ns> <exit ns>" to $BENCH_STAMPS and exits 0. */
int main(int argc, char **argv) {
  long long start = now();
  int probe = argc > 1 && strcmp(argv[1], "--version") == 0;
  if (probe) {
    fputs("\nenvoy  version: 0000000000000000000000000000000000000000/1.34.0/Clean/RELEASE/BoringSSL\n\n", stdout);
    fflush(stdout);
  }
  const char *path = getenv("BENCH_STAMPS");
  if (path) {
    char buf[96];
    int n = snprintf(buf, sizeof buf, "%s %lld %lld\n", probe ? "probe" : "exec", start, now());
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) { (void)!write(fd, buf, n); close(fd); }
  }
  return 0;
}
EOF
cat >"$tmp/stub.go" <<'EOF'
package main

import (
	"fmt"
	"os"
	"time"
)

// Same protocol as stub.c.
func main() {
	start := time.Now().UnixNano()
	kind := "exec"
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		kind = "probe"
		fmt.Print("\nenvoy  version: 0000000000000000000000000000000000000000/1.34.0/Clean/RELEASE/BoringSSL\n\n")
	}
	if p := os.Getenv("BENCH_STAMPS"); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			fmt.Fprintf(f, "%s %d %d\n", kind, start, time.Now().UnixNano())
			f.Close()
		}
	}
}
EOF
stub_lang=C
if ! { command -v cc >/dev/null && { cc -O2 -static -o "$tmp/envoy" "$tmp/stub.c" 2>/dev/null || cc -O2 -o "$tmp/envoy" "$tmp/stub.c"; }; }; then
  stub_lang=Go
  (cd "$tmp" && GO111MODULE=off "$GO" build -o envoy stub.go)
fi
"$GO" build -o "$tmp/envoy-standin" ./internal/envoystandin

# --- the driver --------------------------------------------------------------------------------
cat >"$tmp/driver.go" <<'EOF'
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	agent   = flag.String("agent", "", "agent binary")
	stub    = flag.String("stub", "", "Envoy stub")
	standin = flag.String("standin", "", "envoy-standin")
	envFile = flag.String("env", "", "example environment")
	dir     = flag.String("dir", "", "scratch directory")
	runs    = flag.Int("runs", 15, "runs per median")
	lang    = flag.String("lang", "C", "stub language")
)

func main() {
	flag.Parse()
	base := baseEnv()

	// (a) start → exec, with the probe (the default App Mesh env runs it) and without.
	var toExec, toProbe, probeRun, render, noProbe, floor []float64
	for i := -1; i < *runs; i++ { // run -1 warms the page cache and is not counted
		st, log := runAgent(base, i, "APPNET_ENVOY_RESTART_COUNT=0")
		st2, _ := runAgent(base, i, "APPNET_ENVOY_RESTART_COUNT=0", "APPMESH_XDS_ENDPOINT=appmesh-envoy-management.us-west-2.amazonaws.com:443")
		f := direct()
		if i < 0 {
			continue
		}
		toExec = append(toExec, ms(st.execs[0][0]-st.t0))
		if len(st.probes) > 0 {
			toProbe = append(toProbe, ms(st.probes[0][0]-st.t0))
			probeRun = append(probeRun, ms(st.execs[0][0]-st.probes[0][0]))
		}
		if m := regexp.MustCompile(`bootstrap ready elapsed=([0-9.]+)(µs|ms|s)`).FindStringSubmatch(log); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			render = append(render, v*map[string]float64{"µs": 1e-3, "ms": 1, "s": 1e3}[m[2]])
		}
		if len(st2.probes) != 0 {
			fail("the probe ran although APPMESH_XDS_ENDPOINT was set")
		}
		noProbe = append(noProbe, ms(st2.execs[0][0]-st2.t0))
		floor = append(floor, f)
	}
	a := median(toExec)
	fmt.Printf("start → Envoy exec (App Mesh env, median of %d): %.2f ms  [target ≤ 8 ms] %s\n", *runs, a, verdict(a <= 8))
	fmt.Printf("  breakdown (medians): agent start → probe exec %.2f ms; probe exec → Envoy exec %.2f ms; "+
		"without the probe (APPMESH_XDS_ENDPOINT set) %.2f ms; in-process \"bootstrap ready\" %.2f ms; "+
		"bare fork+exec of the %s stub %.2f ms\n",
		median(toProbe), median(probeRun), median(noProbe), median(render), *lang, median(floor))

	// (b) exit → next start: two starts, the first restart is immediate.
	var gap []float64
	for i := -1; i < *runs; i++ {
		st, _ := runAgent(base, i, "APPNET_ENVOY_RESTART_COUNT=1")
		if len(st.execs) != 2 {
			fail(fmt.Sprintf("%d Envoy starts, want 2", len(st.execs)))
		}
		if i >= 0 {
			gap = append(gap, ms(st.execs[1][0]-st.execs[0][1]))
		}
	}
	b := median(gap)
	fmt.Printf("Envoy exit → next Envoy start (median of %d): %.2f ms  [target ≤ 5 ms] %s (min %.2f, max %.2f)\n",
		*runs, b, verdict(b <= 5), slices.Min(gap), slices.Max(gap))

	// (c) RSS while supervising a long-running envoy-standin.
	rss, hwm := supervisingRSS(base)
	fmt.Printf("agent RSS while supervising: VmRSS %.1f MiB, VmHWM %.1f MiB  [target ≤ 16 MB] %s\n",
		rss, hwm, verdict(hwm <= 16))
}

func verdict(ok bool) string {
	if ok {
		return "OK"
	}
	return "MISSED"
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "bench-agent:", msg)
	os.Exit(1)
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err.Error())
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// baseEnv is the example environment with instance metadata off (no EC2 here: the SDK
// would wait for its timeout) and free ports.
func baseEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + *dir, "AWS_EC2_METADATA_DISABLED=true"}
	f, err := os.Open(*envFile)
	if err != nil {
		fail(err.Error())
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		env = append(env, line)
	}
	return append(env, "APPNET_AGENT_HTTP_PORT="+freePort(), "ENVOY_ADMIN_ACCESS_PORT="+freePort())
}

type stamps struct {
	t0     int64
	execs  [][2]int64 // [start, exit] per Envoy start
	probes [][2]int64
}

// runAgent runs the agent once over the stub with a fresh empty bootstrap file (so it renders
// every time) and returns the stub's timestamps and the agent's log.
func runAgent(base []string, i int, extra ...string) (stamps, string) {
	boot := filepath.Join(*dir, fmt.Sprintf("boot-%d.yaml", i))
	stampFile := filepath.Join(*dir, fmt.Sprintf("stamps-%d", i))
	_ = os.WriteFile(boot, nil, 0o600)
	_ = os.Remove(stampFile)
	cmd := exec.Command(*agent)
	cmd.Env = append(slices.Clone(base), append(extra, "ENVOY_CONFIG_FILE="+boot, "APPNET_ENVOY_PATH="+*stub, "BENCH_STAMPS="+stampFile)...)
	var log strings.Builder
	cmd.Stderr = &log
	t0 := time.Now().UnixNano()
	if err := cmd.Run(); err != nil {
		fail(fmt.Sprintf("agent: %v\n%s", err, log.String()))
	}
	st := stamps{t0: t0}
	b, err := os.ReadFile(stampFile)
	if err != nil {
		fail(fmt.Sprintf("the stub never ran: %v\n%s", err, log.String()))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var kind string
		var s, e int64
		fmt.Sscan(line, &kind, &s, &e)
		if kind == "probe" {
			st.probes = append(st.probes, [2]int64{s, e})
		} else {
			st.execs = append(st.execs, [2]int64{s, e})
		}
	}
	if len(st.execs) == 0 {
		fail("no Envoy exec recorded")
	}
	return st, log.String()
}

// direct forks and execs the stub itself: the floor any agent has to pay twice (its own exec
// and Envoy's).
func direct() float64 {
	stampFile := filepath.Join(*dir, "stamps-direct")
	_ = os.Remove(stampFile)
	cmd := exec.Command(*stub)
	cmd.Env = []string{"BENCH_STAMPS=" + stampFile}
	t0 := time.Now().UnixNano()
	if err := cmd.Run(); err != nil {
		fail(err.Error())
	}
	b, _ := os.ReadFile(stampFile)
	var kind string
	var s int64
	fmt.Sscan(string(b), &kind, &s)
	return ms(s - t0)
}

// supervisingRSS starts the agent over envoy-standin, lets it settle for 3 s after Envoy is
// up, and reads the agent's VmRSS and VmHWM in MiB.
func supervisingRSS(base []string) (rss, hwm float64) {
	boot := filepath.Join(*dir, "boot-rss.yaml")
	rec := filepath.Join(*dir, "record-rss")
	_ = os.WriteFile(boot, nil, 0o600)
	cmd := exec.Command(*agent)
	cmd.Env = append(slices.Clone(base), "ENVOY_CONFIG_FILE="+boot, "APPNET_ENVOY_PATH="+*standin, "STANDIN_RECORD="+rec,
		"LISTENER_DRAIN_WAIT_TIME_S=5")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fail(err.Error())
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, _ := os.ReadFile(rec); strings.Contains(string(b), `"event":"admin_listening"`) {
			break
		}
		if time.Now().After(deadline) {
			fail("envoy-standin did not come up under the agent")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // health checks, stats snapshots, API: the steady state
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		fail(err.Error())
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}
EOF
(cd "$tmp" && GO111MODULE=off "$GO" build -o driver driver.go)

echo "bench-agent: $AGENT ($(du -h "$AGENT" | cut -f1)), Envoy stub in $stub_lang, $(nproc) CPUs, $runs runs"
"$tmp/driver" -agent "$AGENT" -stub "$tmp/envoy" -standin "$tmp/envoy-standin" -env examples/appmesh.env \
  -dir "$tmp" -runs "$runs" -lang "$stub_lang" | sed 's/^/bench-agent: /'
