package dispatch

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/appnet/appnet-agent/internal/env"
)

func TestNeedsFull(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	full := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte("admin: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // "" for lean
	}{
		{name: "run, no flags", want: ""},
		{name: "run flags", args: []string{"-logLevel", "debug", "--envoyReadiness"}, want: ""},
		{name: "readiness probe", args: []string{"-envoyReadiness=true"}, want: ""},
		{name: "run help", args: []string{"-h"}, want: ""},
		{name: "version", args: []string{"--version"}, want: ""},
		{name: "help of a command", args: []string{"help", "validate"}, want: ""},
		{name: "validate", args: []string{"validate", "f.yaml"}, want: "the validate command"},
		{name: "render", args: []string{"render", "-o", "x.yaml", "--format=json"}, want: ""},
		{name: "render with variables from a file", args: []string{"render", "--env-file", "a.env"}, want: "-env-file"},
		{name: "render with variables as arguments", args: []string{"render", "-env=A=B"}, want: "-env"},
		{name: "render with user input", args: []string{"render"}, env: map[string]string{"ENVOY_STATS_SINKS_CFG": "x"}, want: "ENVOY_STATS_SINKS_CFG is set"},
		{name: "golden", args: []string{"golden", "dir"}, want: "the golden command"},
		{name: "wait for a job", args: []string{"wait", "--", "./job", "--env", "x"}, env: map[string]string{"ENVOY_CONFIG": "x"}, want: ""},
		{name: "admin", args: []string{"admin", "status"}, want: ""},
		{name: "an unknown word is the full build's to refuse", args: []string{"rnu"}, want: "the rnu command"},
		{name: "redaction", args: []string{"redact-config-dump"}, want: "the redact-config-dump command"},
		{name: "config path flag", args: []string{"--envoyConfigPath=/x.yaml"}, want: "-envoyConfigPath"},
		{name: "config path flag, separate value", args: []string{"-logLevel", "info", "-envoyConfigPath", "/x"}, want: "-envoyConfigPath"},
		{name: "flag value that looks like the flag", args: []string{"-logLevel", "envoyConfigPath"}, want: ""},
		{name: "bootstrap with content", env: map[string]string{"ENVOY_CONFIG_FILE": full}, want: "ENVOY_CONFIG_FILE is set"},
		{name: "empty bootstrap file is filled", env: map[string]string{"ENVOY_CONFIG_FILE": empty}, want: ""},
		{name: "missing bootstrap file is written", env: map[string]string{"ENVOY_CONFIG_FILE": filepath.Join(dir, "new.yaml")}, want: ""},
		{name: "a directory is the full build's to refuse", env: map[string]string{"ENVOY_CONFIG_FILE": dir}, want: "ENVOY_CONFIG_FILE is set"},
		{name: "inline bootstrap", env: map[string]string{"ENVOY_CONFIG": "admin: {}"}, want: "ENVOY_CONFIG is set"},
		{name: "resources file", env: map[string]string{"ENVOY_RESOURCES_CONFIG_FILE": "/r.yaml"}, want: "ENVOY_RESOURCES_CONFIG_FILE is set"},
		{name: "inline tracing", env: map[string]string{"ENVOY_TRACING_CFG": "{}"}, want: "ENVOY_TRACING_CFG is set"},
		{name: "template overlay", env: map[string]string{"APPNET_TEMPLATE_DIR": "/t"}, want: "APPNET_TEMPLATE_DIR is set"},
		{name: "blank is unset", env: map[string]string{"APPNET_TEMPLATE_DIR": "", "ENVOY_STATS_CONFIG": ""}, want: ""},
		{name: "other variables are the templates'", env: map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "1", "APPMESH_RESOURCE_ARN": "x"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NeedsFull(tt.args, func(k string) string { return tt.env[k] }, os.Stat)
			if got != tt.want {
				t.Errorf("NeedsFull(%q, %v) = %q, want %q", tt.args, tt.env, got, tt.want)
			}
		})
	}
}

// TestUnreadableBootstrapIsFull: a stat error other than "does not exist" is the full build's to report.
func TestUnreadableBootstrapIsFull(t *testing.T) {
	stat := func(string) (fs.FileInfo, error) { return nil, fs.ErrPermission }
	if got := NeedsFull(nil, func(k string) string { return map[string]string{"ENVOY_CONFIG_FILE": "/x"}[k] }, stat); got == "" {
		t.Error("an ENVOY_CONFIG_FILE that cannot be stat'ed went to the lean build")
	}
}

// TestUserInputVarsMatchEnvTags: UserInputVars is exactly the variables internal/env tags input:"user", so a new
// fragment variable cannot reach the lean build unnoticed.
func TestUserInputVarsMatchEnvTags(t *testing.T) {
	var tagged []string
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Tag.Get("input") == "user" {
				tagged = append(tagged, f.Tag.Get("env"))
			} else if v := f.Tag.Get("input"); v != "" {
				t.Errorf("field %s: input:%q, want \"user\" or no tag", f.Name, v)
			}
			if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") == "" {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[env.Config]())
	want := slices.Sorted(slices.Values(UserInputVars))
	slices.Sort(tagged)
	if !slices.Equal(tagged, want) {
		t.Errorf("variables tagged input:\"user\" in internal/env:\n  %v\nUserInputVars:\n  %v", tagged, want)
	}
}

// TestSiblingPaths: a sibling is looked for under its own name, then under the release name of the executable
// looking for it, whichever of the two builds that is.
func TestSiblingPaths(t *testing.T) {
	const sup = "appnet-agent-supervisor"
	tests := []struct {
		self, name string
		want       []string
	}{
		{"/usr/bin/appnet-agent", FullName, []string{"/usr/bin/appnet-agent-full"}},
		{"/usr/bin/appnet-agent", sup, []string{"/usr/bin/appnet-agent-supervisor"}},
		{"/usr/bin/appnet-agent-full", sup, []string{"/usr/bin/appnet-agent-supervisor"}},
		{"/opt/appnet-agent_v1.2.3_linux_amd64", FullName, []string{"/opt/appnet-agent-full", "/opt/appnet-agent-full_v1.2.3_linux_amd64"}},
		{"/opt/appnet-agent_v1.2.3_linux_amd64", sup, []string{"/opt/appnet-agent-supervisor", "/opt/appnet-agent-supervisor_v1.2.3_linux_amd64"}},
		// The full build under its release name (exec'd by the entry point for user input) finds the supervisor's.
		{"/opt/appnet-agent-full_v1.2.3_linux_amd64", sup, []string{"/opt/appnet-agent-supervisor", "/opt/appnet-agent-supervisor_v1.2.3_linux_amd64"}},
		{"/opt/my-appnet-agent", sup, []string{"/opt/appnet-agent-supervisor", "/opt/my-appnet-agent-supervisor"}},
		{"/opt/agent", sup, []string{"/opt/appnet-agent-supervisor"}},
	}
	for _, tt := range tests {
		if got := siblingPaths(tt.self, tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("siblingPaths(%q, %q) = %q, want %q", tt.self, tt.name, got, tt.want)
		}
	}
}

// TestRenders: only a run or render that will render a bootstrap starts its set-up early, and only a run starts
// Envoy.
func TestRenders(t *testing.T) {
	for _, tc := range []struct {
		args                 []string
		renders, startsEnvoy bool
	}{
		{nil, true, true},
		{[]string{"-logLevel", "debug"}, true, true},
		{[]string{"--envoyConfigPath=/tmp/b.yaml"}, true, true},
		{[]string{"-envoyReadiness"}, false, false},
		{[]string{"--envoyReadiness=true"}, false, false},
		{[]string{"-logLevel", "info", "-envoyReadiness"}, false, false},
		{[]string{"-h"}, false, false},
		{[]string{"--help"}, false, false},
		{[]string{"render"}, true, false},
		{[]string{"render", "-o", "b.yaml", "--format=json"}, true, false},
		{[]string{"render", "--help"}, false, false},
		{[]string{"validate", "b.yaml"}, false, false},
		{[]string{"version"}, false, false},
		{[]string{"wait"}, false, false},
		{[]string{"help", "render"}, false, false},
	} {
		if got := Renders(tc.args); got != tc.renders {
			t.Errorf("Renders(%q) = %v, want %v", tc.args, got, tc.renders)
		}
		if got := StartsEnvoy(tc.args); got != tc.startsEnvoy {
			t.Errorf("StartsEnvoy(%q) = %v, want %v", tc.args, got, tc.startsEnvoy)
		}
	}
}
