#!/usr/bin/env bash
# Regenerates internal/validate/loadtime/categories_gen.go, the extension-category table of the validator:
# which categories each extension slot accepts (from the go-control-plane module in go.mod) and which extension
# each config type belongs to (from Envoy's extensions_metadata.yaml, which go-control-plane does not ship).
# Usage: scripts/gen-extension-categories.sh PATH/TO/envoy/source/extensions/extensions_metadata.yaml
# Use the metadata of the Envoy release that matches the go-control-plane envoy module (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
metadata=${1:?usage: $0 path/to/envoy/source/extensions/extensions_metadata.yaml}
mod=$(go list -m -f '{{.Dir}}' github.com/envoyproxy/go-control-plane/envoy)
go run ./scripts/gencategories -module "$mod" -metadata "$metadata" -out internal/validate/loadtime/categories_gen.go
