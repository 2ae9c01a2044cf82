package render

import (
	"cmp"
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHostileTemplatesAreBounded (issue 16, item 6): an overlay that loops, recurses or builds
// huge values fails fast, with bounded memory, naming its file and line. Before, each of these
// ran for ever or took gigabytes.
func TestHostileTemplatesAreBounded(t *testing.T) {
	// Only the loops are stopped by the clock; the other cases get a timeout so long that
	// only their own bound can stop them, also on a loaded machine or under the race detector.
	const short, long = 300 * time.Millisecond, time.Minute
	tests := []struct {
		name, text string
		want       []string      // in the error, after the overlay file's path
		timeout    time.Duration // default: long
	}{
		{"range over a huge number", "a: 1\n{{range 100000000000}}{{end}}",
			[]string{":2:", "in a range: the templates took longer than 300ms (APPNET_TEMPLATE_TIMEOUT_MS)"}, short},
		{"nested ranges over lists", "{{range until 100000}}{{range until 100000}}{{end}}{{end}}",
			[]string{":1:", "took longer than 300ms"}, short},
		{"include calls itself", `{{define "r"}}{{include "r" .}}{{end}}{{include "r" .}}`,
			[]string{"nested more than 100 deep"}, 0},
		{"template calls itself twice", `{{define "r"}}{{template "r" .}}{{template "r" .}}{{end}}{{template "r" .}}`,
			[]string{"nested more than 100 deep"}, 0},
		{"repeat", "a: {{repeat 1000000000 \"x\"}}", []string{":1:", "repeat: its result would hold more than 4 MiB"}, 0},
		{"until", "{{range until 1000000000}}{{end}}", []string{"until: its result would hold more than 4 MiB"}, 0},
		{"untilStep", "{{range untilStep 0 9000000000000000000 1}}{{end}}", []string{"untilStep: its result would hold"}, 0},
		{"seq", "{{seq 1 1000000000}}", []string{"seq: its result would hold"}, 0},
		{"indent", `{{indent 100000000 "a\nb"}}`, []string{"indent: its result would hold"}, 0},
		{"replace", `{{replace "" (repeat 100000 "x") (repeat 1000 "y")}}`, []string{"replace: its result would hold"}, 0},
		{"printf width", `{{printf "%999999999d" 1}}`, []string{"printf: width or precision 999999999"}, 0},
		{"a string doubled in a loop", `{{$s := "xxxxxxxx"}}{{range 60}}{{$s = print $s $s}}{{end}}`,
			[]string{"print: its"}, 0},
		{"a list of one big string many times", `{{$b := repeat 3000000 "x"}}{{$l := list}}{{range 1000}}{{$l = append $l $b}}{{end}}{{join "" $l}}`,
			[]string{"append: its arguments hold more than 4 MiB"}, 0},
		{"a dict that holds itself", `{{$d := dict}}{{$_ := set $d "self" $d}}{{$d}}`, []string{"set: its result holds more than 4 MiB"}, 0},
		{"lists nested a million deep", `{{$l := list}}{{range 1000000}}{{$l = list $l}}{{end}}`, []string{"list: its"}, 0},
		{"20 MB of output", `{{range 20000}}{{repeat 1000 "x"}}{{end}}`, []string{"the rendered text is larger than 4 MiB, the bootstrap limit"}, 0},
		{"20 MB of output in one value", `{{$b := repeat 4000000 "x"}}{{$b}}{{$b}}{{$b}}{{$b}}{{$b}}`,
			[]string{"the rendered text is larger than 4 MiB, the bootstrap limit"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			skipUnlessBuildHasFuncs(t, tc.text)
			dir := writeOverlay(t, map[string]string{"sidecar.yaml.tmpl": tc.text})
			tmpl, err := LoadTemplates(dir)
			if err != nil {
				t.Fatal(err)
			}
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			timeout := cmp.Or(tc.timeout, long)
			_, err = tmpl.Execute(context.Background(), "sidecar.yaml.tmpl", &Data{}, timeout)
			took := time.Since(start)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("rendered; want an error")
			}
			src := filepath.Join(dir, "sidecar.yaml.tmpl")
			if !strings.Contains(err.Error(), src) {
				t.Errorf("the error does not name %s: %v", src, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q: %v", w, err)
				}
			}
			if took > 10*short && timeout == short { // generous: a loaded machine
				t.Errorf("took %v", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			t.Logf("%v, %d MiB allocated: %v", took.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>20, err)
		})
	}
}

// TestTemplateExecutionIsCancelled: the render's context (a shutdown signal) stops a template
// that would otherwise run until its timeout.
func TestTemplateExecutionIsCancelled(t *testing.T) {
	dir := writeOverlay(t, map[string]string{"sidecar.yaml.tmpl": "{{range 100000000000}}{{end}}"})
	tmpl, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("shutdown requested")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(stop) })
	start := time.Now()
	_, err = tmpl.Execute(ctx, "sidecar.yaml.tmpl", &Data{}, time.Minute)
	if !strings.Contains(fmtErr(err), "shutdown requested") || time.Since(start) > 10*time.Second {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestGuardsKeepTheOutput: the guard calls put into the trees print nothing, and ranges,
// templates and functions work as before.
func TestGuardsKeepTheOutput(t *testing.T) {
	text := `{{define "item"}}- {{.}}{{end}}{{range $i, $v := list "a" "b"}}{{template "item" $v}}
{{end}}{{- range 2}}{{.}}{{end}} {{printf "%03d" 7}} {{include "item" "c" | trim}} {{repeat 3 "x"}}`
	skipUnlessBuildHasFuncs(t, text)
	dir := writeOverlay(t, map[string]string{"sidecar.yaml.tmpl": text})
	tmpl, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.Execute(context.Background(), "sidecar.yaml.tmpl", &Data{}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := "- a\n- b\n01 007 - c xxx"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}
