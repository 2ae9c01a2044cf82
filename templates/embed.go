// Package templates holds the embedded default bootstrap templates. APPNET_TEMPLATE_DIR overlays
// them file by file: a file there with the same relative name replaces the embedded one.
package templates

import "embed"

// FS holds every *.tmpl file, at the top and one directory down; names are relative paths
// such as "tracing/xray.yaml.tmpl". A new directory of templates needs no change here.
//
//go:embed *.tmpl */*.tmpl
var FS embed.FS
