#!/usr/bin/env bash
# Regenerates the variable table in README.md (between the BEGIN/END markers) from the config tags.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(go run . env --markdown)
awk -v table="$table" '
  /<!-- BEGIN VARIABLES -->/ { print; print table; skip=1; next }
  /<!-- END VARIABLES -->/   { skip=0 }
  !skip { print }
' README.md > README.md.tmp && mv README.md.tmp README.md
