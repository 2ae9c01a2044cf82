#!/usr/bin/env bash
# Runs the agent with an example environment. Envoy is envoy-standin unless APPNET_ENVOY_PATH names a
# real Envoy. Stop it with Ctrl-C (a graceful drain, as in a container).
set -euo pipefail
cd "$(dirname "$0")/.."
example=${1:-examples/service-connect.env}
[ -f "$example" ] || { echo "no such example: $example" >&2; exit 2; }
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in ''|'#'*) continue ;; esac
  export "${line%%=*}=${line#*=}"
done < "$example"
export APPNET_ENVOY_PATH="${APPNET_ENVOY_PATH:-$PWD/bin/envoy-standin}"
port="${APPNET_AGENT_HTTP_PORT:-9902}"
cat >&2 <<MSG
appnet-agent: running $example with Envoy at $APPNET_ENVOY_PATH
  bootstrap:   bin/appnet-agent render          (same environment)
  status:      curl -s http://127.0.0.1:$port/status
  stats:       curl -s 'http://127.0.0.1:$port/stats/prometheus?usedonly'
  drain:       curl -s -X POST 'http://127.0.0.1:$port/drain_listeners?inboundonly'
  log level:   curl -s -X POST 'http://127.0.0.1:$port/enableLogging?level=debug'
  stop:        Ctrl-C
MSG
exec bin/appnet-agent
