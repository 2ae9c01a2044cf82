package render

import (
	"context"
	"maps"
	"slices"
	"testing"
)

// allParsed loads the embedded templates the way an overlay does, every file at once: an empty
// overlay directory replaces nothing.
func allParsed(t *testing.T) *Templates {
	t.Helper()
	tmpl, err := LoadTemplates(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// templateTexts is each template of the set, by name, as its (instrumented) parse tree prints.
func templateTexts(tmpl *Templates) map[string]string {
	out := map[string]string{}
	for _, x := range tmpl.set.Templates() {
		if x.Tree != nil {
			out[x.Name()] = x.Tree.Root.String()
		}
	}
	return out
}

// TestEmbeddedTemplatesParsedOnUse: without an overlay a render parses only the files it
// executes or includes, and renders the same bytes as with every file parsed at load.
func TestEmbeddedTemplatesParsedOnUse(t *testing.T) {
	tests := []struct {
		name      string
		vars      map[string]string
		parsed    []string // among them
		notParsed []string
	}{
		{"App Mesh with X-Ray", map[string]string{"AWS_REGION": "us-west-2",
			"APPMESH_RESOURCE_ARN": "arn:aws:appmesh:us-west-2:123456789012:mesh/m/virtualNode/n", "ENABLE_ENVOY_XRAY_TRACING": "true"},
			[]string{"sidecar.yaml.tmpl", "tracing/xray.yaml.tmpl"}, []string{"relay.yaml.tmpl", "tracing/jaeger.yaml.tmpl"}},
		{"Service Connect", coldEnvs["service-connect"],
			[]string{"sidecar.yaml.tmpl", "stats/tags.yaml.tmpl", "stats/metrics-extension.yaml.tmpl"}, []string{"relay.yaml.tmpl", "tracing/xray.yaml.tmpl"}},
		{"relay", coldEnvs["relay"], []string{"relay.yaml.tmpl"}, []string{"sidecar.yaml.tmpl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			onUse, err := LoadTemplates("")
			if err != nil {
				t.Fatal(err)
			}
			if n := len(onUse.set.Templates()); n != 0 {
				t.Fatalf("%d templates parsed at load, want none", n)
			}
			got, err := renderVars(tc.vars, Options{Collector: fixedCollector, Templates: onUse})
			if err != nil {
				t.Fatal(err)
			}
			want, err := renderVars(tc.vars, Options{Collector: fixedCollector, Templates: allParsed(t)})
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Bytes) != string(want.Bytes) {
				t.Errorf("parsed on use:\n%s\nall parsed at load:\n%s", got.Bytes, want.Bytes)
			}
			for _, name := range tc.parsed {
				if onUse.set.Lookup(name) == nil {
					t.Errorf("%s was not parsed", name)
				}
			}
			for _, name := range tc.notParsed {
				if onUse.set.Lookup(name) != nil {
					t.Errorf("%s was parsed, but this render does not use it", name)
				}
			}
		})
	}
}

// TestParseOnUseEndsAsLoadingAll: once every file is parsed on use, the set is the one an overlay
// load makes — the same templates, instrumented alike, the same functions guarded — and a
// template defined inside a file not parsed yet is found (every file is parsed for it).
func TestParseOnUseEndsAsLoadingAll(t *testing.T) {
	all := allParsed(t)
	onUse, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	data := xrayData()
	_, errOnUse := onUse.Execute(context.Background(), "otel-root-sampler", data, 0)
	_, errAll := all.Execute(context.Background(), "otel-root-sampler", data, 0)
	if (errOnUse == nil) != (errAll == nil) || errOnUse != nil && errOnUse.Error() != errAll.Error() {
		t.Errorf("a template defined inside a file: parsed on use %v, all parsed %v", errOnUse, errAll)
	}
	if len(onUse.unparsed) != 0 {
		t.Fatalf("left unparsed: %v", onUse.unparsed)
	}
	if got, want := templateTexts(onUse), templateTexts(all); !maps.Equal(got, want) {
		t.Errorf("templates parsed on use:\n%v\nall parsed at load:\n%v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if got, want := slices.Sorted(maps.Keys(onUse.guarded)), slices.Sorted(maps.Keys(all.guarded)); !slices.Equal(got, want) {
		t.Errorf("functions guarded on use %v, all parsed %v", got, want)
	}
	if !maps.Equal(onUse.sources, all.sources) {
		t.Errorf("sources on use %v, all parsed %v", onUse.sources, all.sources)
	}
}
