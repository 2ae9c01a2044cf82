#!/usr/bin/env bash
# Whole-process benchmarks of the agent (targets: docs/DEVELOPMENT.md), as `make bench` runs them:
#   - process start → Envoy exec, for the App Mesh and Service Connect example environments
#     (examples/*.env), with the agent's own "bootstrap ready" time beside it: no user input, the
#     entry point's lean path;
#   - the same for Service Connect with user input (a resources file,
#     examples/ecs/parameters/envoy-resources.yaml), which the entry point hands to
#     appnet-agent-full: through the entry point, through appnet-agent-full run directly, and the
#     difference (the exec);
#   - Envoy exit → next Envoy start (the first restart, which has no back-off);
#   - the agent's VmRSS and RssAnon while it supervises envoy-standin with the API on.
# Each figure is printed as median [min–max] over BENCH_PAIRS runs, and against the baseline
# agent — the previous design, built from the commit docs/bench-baseline.txt names — as
# interleaved pairs (A B, B A, ...) with the ratio taken pair by pair, so the comparison holds
# while a shared machine's speed drifts. Exit status 0 even when a target is missed.
#
# Envoy is a stub that writes a CLOCK_REALTIME timestamp as its first action (C when a C
# compiler is available, else Go, whose runtime start-up then counts against the agent), and
# answers --version at once. The driver (scripts/benchagent) stamps just before it forks.
#
# Usage: scripts/bench-agent.sh
#   BENCH_PAIRS=15 (timings), BENCH_RSS_PAIRS=3 (memory, 3 s each);
#   AGENT=bin/appnet-agent (built with `make build` when unset), the product's entry point, with
#   appnet-agent-full and appnet-agent-supervisor next to it as installed;
#   BASELINE_AGENT=path, or BASELINE_COMMIT=rev (default: the commit in docs/bench-baseline.txt),
#   or BASELINE_COMMIT=none for this build alone.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
pairs=${BENCH_PAIRS:-${BENCH_RUNS:-15}}
rss_pairs=${BENCH_RSS_PAIRS:-3}
if [ -z "${AGENT:-}" ]; then
  make -s build >/dev/null
  AGENT=$PWD/bin/appnet-agent
fi
for sibling in appnet-agent-full appnet-agent-supervisor; do
  [ -x "$(dirname "$AGENT")/$sibling" ] ||
    { echo "bench-agent: no $sibling next to $AGENT: the entry point needs it (make build builds the three)" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-agent.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- the baseline ------------------------------------------------------------------------------
baseline=${BASELINE_AGENT:-}
if [ -z "$baseline" ]; then
  commit=${BASELINE_COMMIT:-$(sed -n 's/^commit: *\([0-9a-f]*\).*/\1/p' docs/bench-baseline.txt)}
  if [ "$commit" != none ] && [ -n "$commit" ]; then
    if git cat-file -e "$commit^{commit}" 2>/dev/null; then
      echo "bench-agent: building the baseline agent at $commit ..." >&2
      mkdir "$tmp/baseline-src"
      git archive "$commit" | tar -x -C "$tmp/baseline-src"
      (cd "$tmp/baseline-src" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags '-s -w -buildid=' -o "$tmp/baseline-agent" .)
      baseline=$tmp/baseline-agent
    else
      echo "bench-agent: baseline commit $commit is not in this clone; timing this build alone" >&2
    fi
  fi
fi

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
/* Appends "<exec|probe> <start ns> <exit ns>" to $BENCH_STAMPS and exits 0; as Envoy (not the
   probe) it first runs for $BENCH_STUB_RUN_MS, so its exit is seen by the agent's steady state,
   not during its start. */
int main(int argc, char **argv) {
  long long start = now();
  int probe = argc > 1 && strcmp(argv[1], "--version") == 0;
  if (probe) {
    fputs("\nenvoy  version: 0000000000000000000000000000000000000000/1.34.0/Clean/RELEASE/BoringSSL\n\n", stdout);
    fflush(stdout);
  }
  const char *run = getenv("BENCH_STUB_RUN_MS");
  if (!probe && run) usleep(atoi(run) * 1000);
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
	} else if ms, err := time.ParseDuration(os.Getenv("BENCH_STUB_RUN_MS") + "ms"); err == nil {
		time.Sleep(ms)
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
"$GO" build -o "$tmp/driver" ./scripts/benchagent

echo "bench-agent: $AGENT ($(du -h "$AGENT" | cut -f1); appnet-agent-full $(du -h "$(dirname "$AGENT")/appnet-agent-full" | cut -f1)), baseline ${baseline:-none}${baseline:+ ($(du -h "$baseline" | cut -f1))}, Envoy stub in $stub_lang, $(nproc) CPUs, $pairs pairs"
"$tmp/driver" -agent "$AGENT" -baseline "$baseline" -stub "$tmp/envoy" -standin "$tmp/envoy-standin" \
  -dir "$tmp" -pairs "$pairs" -rss-pairs "$rss_pairs" | sed 's/^/bench-agent: /'
echo "bench-agent: the baseline's figures as recorded (docs/bench-baseline.txt):"
sed -n '/^figures:/,$p' docs/bench-baseline.txt | sed 's/^/bench-agent:   /'
