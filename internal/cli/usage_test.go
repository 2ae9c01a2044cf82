package cli

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/agentrun"
	"github.com/appnet/appnet-agent/internal/dispatch"
)

func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	code = Main(args, nil, &out, &errs)
	return code, out.String(), errs.String()
}

// TestEveryCommandHasHelp: -h and --help on every command (run included) print its usage,
// flags and examples to stdout and exit 0; an unknown flag, before or after the operands,
// exits 2 with the error and the usage on stderr.
func TestEveryCommandHasHelp(t *testing.T) {
	type cmd struct {
		name   string   // "" for run
		prefix []string // how to reach it
	}
	all := []cmd{{name: "", prefix: []string{"-logLevel", "info"}}}
	for _, c := range commands {
		if c.run != nil {
			all = append(all, cmd{name: c.names[0], prefix: []string{c.names[0]}})
		}
	}
	for _, c := range all {
		head := strings.TrimSpace("usage: appnet-agent " + c.name)
		t.Run("appnet-agent "+strings.Join(c.prefix, " "), func(t *testing.T) {
			for _, h := range []string{"-h", "--help", "-help"} {
				code, stdout, stderr := runMain(append(c.prefix, h)...)
				if code != 0 || !strings.HasPrefix(stdout, head+" ") || !strings.Contains(stdout, "\nExamples:\n  ") || stderr != "" {
					t.Errorf("%s: exit %d, stdout:\n%s\nstderr:\n%s", h, code, stdout, stderr)
				}
			}
			for _, bad := range [][]string{{"--no-such-flag"}, {"operand", "--no-such-flag"}} {
				code, stdout, stderr := runMain(append(c.prefix, bad...)...)
				if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "error: flag provided but not defined: -no-such-flag\n"+head+" ") {
					t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", bad, code, stdout, stderr)
				}
			}
		})
	}
}

// TestHelpCommand: the overview lists every command; `help CMD` is `CMD --help`; a bad
// command name is an error naming it.
func TestHelpCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-h", "-logLevel", "x"}} {
		code, stdout, _ := runMain(args...)
		if code != 0 || !strings.HasPrefix(stdout, "Usage:\n  appnet-agent [-envoyConfigPath PATH]") {
			t.Errorf("%q: exit %d\n%s", args, code, stdout)
		}
		for _, c := range commands {
			if !strings.Contains(stdout, "  appnet-agent "+c.names[0]+" "+c.usage.synopsis+"\n") {
				t.Errorf("%q does not list %s", args, c.names[0])
			}
		}
	}
	for _, name := range []string{"render", "validate", "golden", "version"} {
		_, want, _ := runMain(name, "--help")
		if code, got, _ := runMain("help", name); code != 0 || got != want {
			t.Errorf("help %s: exit %d\n%s\nwant %s --help:\n%s", name, code, got, name, want)
		}
	}
	if code, got, _ := runMain("help", "run"); code != 0 || !strings.HasPrefix(got, "usage: appnet-agent [-envoyConfigPath") {
		t.Errorf("help run: exit %d\n%s", code, got)
	}
	if code, _, stderr := runMain("help", "rendr"); code != 2 || !strings.Contains(stderr, "help rendr: no such command") {
		t.Errorf("help rendr: exit %d, stderr %q", code, stderr)
	}
}

// TestUsageErrorsNameTheValue: every usage error says which value is wrong, exits 2 and
// prints the usage; `--` ends the flags, so validate opens a file named --help.
func TestUsageErrorsNameTheValue(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"render", "--format", "xml"}, "error: --format xml: want yaml or json\n"},
		{[]string{"render", "--format=xml"}, "error: --format xml: want yaml or json\n"},
		{[]string{"render", "envoy.yaml"}, `error: unexpected argument "envoy.yaml": appnet-agent render takes no arguments`},
		{[]string{"facts", "now"}, `error: unexpected argument "now": appnet-agent facts takes no arguments`},
		{[]string{"env", "APPNET_X"}, `error: unexpected argument "APPNET_X"`},
		{[]string{"version", "--short"}, "error: flag provided but not defined: -short"},
		{[]string{"validate"}, "error: no FILE given"},
		{[]string{"golden"}, "error: no CASES given"},
		{[]string{"golden", "--template-dir", notDir, "cases"}, "error: --template-dir " + notDir + ": not a directory"},
		{[]string{"render", "--env", "NOVALUE"}, `invalid value "NOVALUE" for flag -env`},
		{[]string{"rendr"}, `error: unknown command "rendr" (commands: render, facts, golden, validate, env, wait, admin, version, help)`},
		{[]string{"-logLevel"}, "error: flag needs an argument: -logLevel"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runMain(tt.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "error: ") || !strings.Contains(stderr, tt.want) ||
			!strings.Contains(stderr, "\nusage: appnet-agent") {
			t.Errorf("%q: exit %d (want 2), stdout %q, stderr:\n%s\nwant %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	code, stdout, _ := runMain("validate", "--", "--help")
	if code != 1 || !strings.HasPrefix(stdout, "--help: ") || !strings.Contains(stdout, "no such file") {
		t.Errorf("validate -- --help: exit %d, stdout %q; want the file --help reported missing", code, stdout)
	}
}

// TestVersionFlag: --version and -version print what version prints.
func TestVersionFlag(t *testing.T) {
	// A test binary carries no module versions; e2e's TestVersion checks the real binary's.
	_, want, _ := runMain("version")
	if !strings.HasPrefix(want, "appnet-agent dev\ncommit: unknown\ngo: go") || !strings.Contains(want, "\ngo-control-plane: ") ||
		!strings.Contains(want, "\nenvoy API: ") {
		t.Errorf("version:\n%s", want)
	}
	for _, flag := range []string{"--version", "-version"} {
		if code, got, _ := runMain(flag); code != 0 || got != want {
			t.Errorf("%s: exit %d\n%s", flag, code, got)
		}
	}
}

// TestLeanCommandsAreCommands: every name internal/dispatch lets the lean build serve is a
// subcommand or alias of this table, and none of them validates configuration the agent did
// not write (validate, golden, the config-dump redaction), which only the full build can.
func TestLeanCommandsAreCommands(t *testing.T) {
	for _, name := range dispatch.LeanCommands {
		cmd := lookup([]string{name})
		if cmd == nil {
			t.Errorf("dispatch.LeanCommands names %q, which is not a command", name)
			continue
		}
		if slices.Contains([]string{"validate", "golden", agentrun.RedactCommand}, cmd.names[0]) {
			t.Errorf("dispatch.LeanCommands names %q, which needs the full validator", name)
		}
	}
}
