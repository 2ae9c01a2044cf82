package render

import (
	"context"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/validate"
)

// nodeText is the YAML of doc's top-level key.
func nodeText(tb testing.TB, doc *yaml.Node, key string) string {
	tb.Helper()
	n := lookup(doc, key)
	if n == nil {
		return ""
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// stageInputs is the busy benchmark environment, loaded, with its templates and options.
func stageInputs(tb testing.TB) (*env.Config, Options) {
	tb.Helper()
	tmpl, err := LoadTemplates("")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, _, err := env.Load(env.MapSource(benchEnvs[1].vars), env.Options{FileHasContent: func(string) bool { return false }})
	if err != nil {
		tb.Fatal(err)
	}
	return cfg, Options{Collector: fixedCollector, Templates: tmpl, ReadFile: benchReadFile}.withDefaults()
}

// TestStages runs the three stages one by one: each hands the next what Render would.
func TestStages(t *testing.T) {
	cfg, opts := stageInputs(t)
	res, doc, err := renderTemplates(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bootstrap != nil || res.Bytes != nil || nodeText(t, doc, "node") == "" {
		t.Fatalf("after renderTemplates: a tree with a node and nothing decoded yet, got %+v", res)
	}
	before := nodeText(t, doc, "static_resources")
	if err := overlayUserFiles(doc, cfg, opts, res); err != nil {
		t.Fatal(err)
	}
	if after := nodeText(t, doc, "static_resources"); after == before || !strings.Contains(after, "static_app") {
		t.Fatalf("the resources fragment was not merged:\n%s", after)
	}
	if err := validateAndEncode(doc, res, env.ValidationEnforce, validate.FormatYAML); err != nil {
		t.Fatal(err)
	}
	whole, err := Render(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Bytes) != string(whole.Bytes) {
		t.Fatal("the stages one by one differ from Render")
	}
}

// BenchmarkStages times each stage of the busy environment on its own.
func BenchmarkStages(b *testing.B) {
	cfg, opts := stageInputs(b)
	ctx := context.Background()
	b.Run("renderTemplates", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := renderTemplates(ctx, cfg, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("overlayUserFiles", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			res, doc, _ := renderTemplates(ctx, cfg, opts)
			b.StartTimer()
			if err := overlayUserFiles(doc, cfg, opts, res); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validateAndEncode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			res, doc, _ := renderTemplates(ctx, cfg, opts)
			_ = overlayUserFiles(doc, cfg, opts, res)
			b.StartTimer()
			if err := validateAndEncode(doc, res, env.ValidationEnforce, validate.FormatYAML); err != nil {
				b.Fatal(err)
			}
		}
	})
}
