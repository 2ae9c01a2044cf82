// Package promtext is the agent's Prometheus text processing, apart from HTTP: it filters
// Envoy's exposition down to the App Mesh metrics extension's families, renders families as
// Prometheus' own Gather and text encoder would, and differences two renderings for the
// stats snapshots (?delta). internal/api serves what it produces.
//
// The pipeline, one direction:
//
//	Envoy's body ─FilterExtension─▶ *Exposition ─Sorted─▶ []Family ─Texts─▶ the served chunks
//	                                                          └─Delta(previous, current)─▶ []Family
//	the agent's own []*dto.MetricFamily ─Normalize, Render─▶ text
//
// Most families take a fast path (fastpath.go, fastrender.go) that yields exactly expfmt's
// bytes for the narrow subset of the format Envoy writes; everything else goes through expfmt,
// which stays the definition of what is accepted. FuzzFastPathMatchesExpfmt and
// FuzzDeltaMatchesComputeDelta hold the fast paths to expfmt and to computeDelta's rules.
// Why the fast path exists (measured): docs/DESIGN.md.
package promtext
