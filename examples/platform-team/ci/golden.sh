#!/bin/sh
# Golden-test the platform team's bootstraps: every cases/NAME.env is rendered with the overlay in
# templates/ and the platform facts in facts.json, and compared with cases/NAME.yaml or NAME.error.
# Exit 0: all passed; 1: a case failed; 2: usage. JUNIT=FILE also writes a JUnit XML report.
# APPNET_AGENT names the binary (default: appnet-agent on PATH).
set -eu
cd "$(dirname "$0")/.."
exec "${APPNET_AGENT:-appnet-agent}" golden --template-dir templates --facts facts.json ${JUNIT:+--junit "$JUNIT"} "$@" cases
