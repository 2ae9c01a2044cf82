package render

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/templates"
)

// writeOverlay creates an APPNET_TEMPLATE_DIR holding files (relative name →
// content) and returns its path.
func writeOverlay(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func embeddedTemplate(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(templates.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// xrayData is template data with the X-Ray tracer on, enough for the tracer templates.
func xrayData() *Data {
	return &Data{Tracing: TracingData{Driver: "xray", XRay: &XRayData{Address: "127.0.0.1", Port: 2000, SegmentName: "m/n"}}}
}

// TestOverlayReplacesOneFile: a file in the overlay replaces its embedded twin
// and only that one; the rest stays embedded and still works with it.
func TestOverlayReplacesOneFile(t *testing.T) {
	overlay := embeddedTemplate(t, "tracing/xray.yaml.tmpl")
	overlay = strings.Replace(overlay, "origin: AWS::AppMesh::Proxy", "origin: overlay-origin", 1)
	if !strings.Contains(overlay, "overlay-origin") {
		t.Fatal("the embedded X-Ray template no longer sets origin; update this test")
	}
	dir := writeOverlay(t, map[string]string{
		"tracing/xray.yaml.tmpl": overlay,
		"README.md":              "notes of the platform team: not a template, ignored",
	})
	tmpl, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(templates.FS, "*/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	top, _ := fs.Glob(templates.FS, "*.tmpl")
	for _, name := range append(names, top...) {
		want := "embedded " + name
		if name == "tracing/xray.yaml.tmpl" {
			want = filepath.Join(dir, "tracing", "xray.yaml.tmpl")
		}
		if got := tmpl.sources[name]; got != want {
			t.Errorf("source of %s = %q, want %q", name, got, want)
		}
	}

	// The embedded sidecar includes the overlaid tracer.
	res, err := renderVars(map[string]string{
		"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n",
		"ENABLE_ENVOY_XRAY_TRACING": "true", "APPNET_TEMPLATE_DIR": dir,
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !containsString(canonicalDoc(t, res), "overlay-origin") {
		t.Errorf("the overlay's origin is not in the bootstrap:\n%s", res.Bytes)
	}
	if !containsString(canonicalDoc(t, res), "appmesh-envoy-management.us-west-2.amazonaws.com:443") {
		t.Errorf("the embedded sidecar template did not render:\n%s", res.Bytes)
	}
}

func TestOverlayErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		exec  string // template to execute with xrayData; "" means the error must come from LoadTemplates
		want  []string
	}{
		{
			name:  "unknown file",
			files: map[string]string{"tracing/x-ray.yaml.tmpl": "name: x\n"},
			want:  []string{"APPNET_TEMPLATE_DIR", "tracing/x-ray.yaml.tmpl", "does not replace any template"},
		},
		{
			name:  "unknown file at the top",
			files: map[string]string{"bootstrap.yaml.tmpl": "name: x\n"},
			want:  []string{"APPNET_TEMPLATE_DIR", "bootstrap.yaml.tmpl", "does not replace any template"},
		},
		{
			name:  "syntax error names the overlay file and line",
			files: map[string]string{"tracing/xray.yaml.tmpl": "name: envoy.tracers.xray\ntyped_config:\n  segment_name: {{ q .X) }}\n"},
			want:  []string{"tracing/xray.yaml.tmpl", ":3:", "unexpected right paren"},
		},
		{
			name:  "missingkey at execution names the overlay file and line",
			files: map[string]string{"tracing/xray.yaml.tmpl": "name: envoy.tracers.xray\nmeta: {{ q .Node.Metadata.nope }}\n"},
			exec:  "tracing/xray.yaml.tmpl",
			want:  []string{"tracing/xray.yaml.tmpl:2:", `map has no entry for key "nope"`},
		},
		{
			name:  "missing field at execution names the overlay file",
			files: map[string]string{"tracing/xray.yaml.tmpl": "{{ with .Tracing.XRay }}segment: {{ q .Segment }}{{ end }}\n"},
			exec:  "tracing/xray.yaml.tmpl",
			want:  []string{"tracing/xray.yaml.tmpl:1:", "Segment"},
		},
		{
			name:  "error in an overlaid partial, reached through the embedded sidecar",
			files: map[string]string{"tracing/xray.yaml.tmpl": "x: {{ q .Node.Metadata.nope }}\n"},
			exec:  "sidecar.yaml.tmpl",
			want:  []string{"tracing/xray.yaml.tmpl:1:", "nope"},
		},
		{
			name:  "q refuses invalid UTF-8",
			files: map[string]string{"tracing/xray.yaml.tmpl": "segment_name: {{ q \"ok\\xffno\" }}\n"},
			exec:  "tracing/xray.yaml.tmpl",
			want:  []string{"tracing/xray.yaml.tmpl:1:", "invalid UTF-8"},
		},
		{
			name:  "q refuses a non-string, which must be written bare",
			files: map[string]string{"tracing/xray.yaml.tmpl": "{{ with .Tracing.XRay }}port_value: {{ q .Port }}{{ end }}\n"},
			exec:  "tracing/xray.yaml.tmpl",
			want:  []string{"tracing/xray.yaml.tmpl:1:", "want a string, got uint16"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeOverlay(t, tt.files)
			tmpl, err := LoadTemplates(dir)
			if tt.exec != "" {
				if err != nil {
					t.Fatalf("LoadTemplates: %v", err)
				}
				data := xrayData()
				data.Node.Metadata = map[string]any{"present": "yes"}
				_, err = tmpl.Execute(context.Background(), tt.exec, data, time.Second)
			}
			if err == nil {
				t.Fatalf("want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			// The user must be pointed at their file, not at the embedded one.
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error does not name a file in the overlay %s:\n%v", dir, err)
			}
			// A syntax error reads like a compiler's: PATH:LINE: message.
			if tt.exec == "" && tt.name == "syntax error names the overlay file and line" {
				want := filepath.Join(dir, "tracing", "xray.yaml.tmpl") + ":3: "
				if !strings.HasPrefix(err.Error(), want) {
					t.Errorf("syntax error %q does not start with %q", err, want)
				}
			}
		})
	}
}

func TestOverlayDirectoryProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), file} {
		if _, err := LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "APPNET_TEMPLATE_DIR") {
			t.Errorf("LoadTemplates(%s) = %v, want an error naming APPNET_TEMPLATE_DIR", dir, err)
		}
	}
}
