#!/usr/bin/env bash
# Whole-process cost of rendering: process start → bootstrap written, for the default App Mesh
# environment, with deep validation, as `make bench` reports it (target: ≤ 8 ms), for
# `appnet-agent render` (the product's entry point, which renders the built-in templates itself
# with the lean validator) and for `appnet-agent-full render` run directly.
#
#   scripts/bench-process.sh            # 21 runs each (RUNS=N to change; at least 9)
#
# It builds the three binaries like `make build` (into a temp dir, so bin/ is untouched), points
# APPNET_ENVOY_PATH at a tiny stub that prints a plain (non-FIPS) version, disables instance
# metadata, and times `appnet-agent render -o FILE` in an otherwise empty environment. hyperfine is
# used when installed (apt-get install hyperfine); otherwise a loop around `date +%s%N`, which adds
# about 1 ms of fork/exec overhead per run. Also prints the maximum RSS (/usr/bin/time -v) and the
# sum of package init times (GODEBUG=inittrace=1; of both processes where one execs the other),
# the usual suspects when the target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-21}
if [ "$runs" -lt 9 ]; then
  echo "RUNS must be at least 9" >&2
  exit 2
fi
target_ms=8

work=$(mktemp -d "${TMPDIR:-/tmp}/appnet-bench-process.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "building $work/appnet-agent{,-full,-supervisor} ..." >&2
go build -tags appnet_lean -trimpath -ldflags '-s -w' -o "$work/appnet-agent" .
go build -trimpath -ldflags '-s -w' -o "$work/appnet-agent-full" .
go build -trimpath -ldflags '-s -w' -o "$work/appnet-agent-supervisor" ./cmd/appnet-agent-supervisor

stub="$work/envoy"
cat >"$stub" <<'STUB'
#!/bin/sh
echo 'envoy  version: 5d2a6a4e5c85c5a7b8b7e8ef2d0ad8bb3d1f9b4e/1.29.4/Clean/RELEASE/BoringSSL'
STUB
chmod 755 "$stub"

out="$work/envoy.yaml"
mkdir -p "$work/home" "$work/tmp"
# The default App Mesh sidecar environment, and nothing else from the caller's environment.
agent_env=(
  env -i
  "PATH=/usr/bin:/bin"
  "HOME=$work/home"
  "TMPDIR=$work/tmp"
  "AWS_REGION=us-west-2"
  "APPMESH_RESOURCE_ARN=arn:aws:appmesh:us-west-2:123456789012:mesh/foo/virtualNode/bar"
  "APPNET_ENVOY_PATH=$stub"
  "AWS_EC2_METADATA_DISABLED=true"
)

# measure LABEL BIN: times `BIN render -o FILE` and prints its figures.
measure() {
  local label=$1 bin=$2 median_ms="" method="" median_s rss_kb="" init_ms init_kb verdict start end
  # One checked run first: a failing render must not be timed as a fast one.
  if ! "${agent_env[@]}" "$bin" render -o "$out" 2>"$work/stderr"; then
    echo "render failed:" >&2
    cat "$work/stderr" >&2
    exit 1
  fi
  [ -s "$out" ] || { echo "render wrote no bootstrap to $out" >&2; exit 1; }

  if command -v hyperfine >/dev/null 2>&1; then
    method="hyperfine -N, 5 warm-up runs"
    "${agent_env[@]}" "$(command -v hyperfine)" -N --warmup 5 --runs "$runs" --style none \
      --export-json "$work/hyperfine.json" "$bin render -o $out" >/dev/null 2>&1
    # "median": 0.0079 (seconds); no jq needed.
    median_s=$(tr -d ' \n' <"$work/hyperfine.json" | sed -n 's/.*"median":\([0-9.eE+-]*\).*/\1/p')
    median_ms=$(awk -v s="$median_s" 'BEGIN { printf "%.1f", s * 1000 }')
  else
    method="date +%s%N loop (includes ~1 ms fork/exec of the timer), 3 warm-up runs"
    for _ in 1 2 3; do "${agent_env[@]}" "$bin" render -o "$out" 2>/dev/null; done
    for _ in $(seq "$runs"); do
      start=$(date +%s%N)
      "${agent_env[@]}" "$bin" render -o "$out" 2>/dev/null
      end=$(date +%s%N)
      echo $(((end - start) / 1000))
    done | sort -n >"$work/us.txt"
    median_ms=$(awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }' "$work/us.txt")
  fi

  if [ -x /usr/bin/time ]; then
    "${agent_env[@]}" /usr/bin/time -v "$bin" render -o "$out" 2>"$work/time.txt" >/dev/null
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): *\([0-9]*\).*/\1/p' "$work/time.txt")
  fi

  "${agent_env[@]}" GODEBUG=inittrace=1 "$bin" render -o "$out" 2>"$work/inittrace.txt" >/dev/null
  init_ms=$(awk '$1 == "init" { sum += $5 } END { printf "%.2f", sum }' "$work/inittrace.txt")
  init_kb=$(awk '$1 == "init" { sum += $8 } END { printf "%.0f", sum / 1024 }' "$work/inittrace.txt")

  verdict="meets"
  if awk -v m="$median_ms" -v t="$target_ms" 'BEGIN { exit !(m > t) }'; then
    verdict="MISSES"
  fi
  echo "$label (start → bootstrap written): median $median_ms ms over $runs runs ($method); $verdict the ≤ $target_ms ms target"
  if [ -n "$rss_kb" ]; then
    echo "$label max RSS: $(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }') MB"
  fi
  echo "$label package init (GODEBUG=inittrace=1, one run): $init_ms ms, $init_kb KB allocated"
}

measure "appnet-agent render" "$work/appnet-agent"
measure "appnet-agent-full render" "$work/appnet-agent-full"
