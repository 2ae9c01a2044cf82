package cli

import (
	"flag"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/safefile"
)

// envFlags choose where render and facts read variables from: the process
// environment by default; with --env-file or --env only those (hermetic, so a
// CI machine's own variables never leak into a golden), unless --inherit-env
// puts the process environment underneath.
type envFlags struct {
	files   listFlag
	assigns assignFlag
	inherit bool
}

func (e *envFlags) register(fs *flag.FlagSet) {
	fs.Var(&e.files, "env-file", "read variables from `FILE` (KEY=VALUE lines, # comments; repeatable, later files win) instead of the process environment")
	fs.Var(&e.assigns, "env", "set variable `KEY=VALUE` (repeatable; wins over --env-file); the process environment is then not read")
	fs.BoolVar(&e.inherit, "inherit-env", false, "with --env-file or --env: the process environment underneath them")
}

// load reads the variables from where the flags say and validates them, logging warnings.
func (e *envFlags) load(log hclog.Logger) (*env.Config, error) {
	src, names, warnings, err := e.source()
	if err != nil {
		return nil, err
	}
	cfg, loadWarnings, err := env.Load(src, env.Options{Names: names})
	for _, w := range append(warnings, loadWarnings...) {
		log.Warn(w)
	}
	return cfg, err
}

// source returns the variable source, the names it holds (for env.Options.Names) and the
// env files' warnings.
func (e *envFlags) source() (env.Source, []string, []string, error) {
	if len(e.files) == 0 && len(e.assigns.vars) == 0 {
		return os.LookupEnv, env.EnvironNames(), nil, nil
	}
	fileVars, warnings, err := env.ReadEnvFiles(e.files)
	if err != nil {
		return nil, nil, nil, err
	}
	var base env.Source
	var names []string
	if e.inherit {
		base, names = os.LookupEnv, env.EnvironNames()
	}
	for k := range fileVars {
		names = append(names, k)
	}
	for k := range e.assigns.vars {
		names = append(names, k)
	}
	return env.Layered(base, fileVars, e.assigns.vars), names, warnings, nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// assignFlag is a repeatable KEY=VALUE flag; a later KEY wins.
type assignFlag struct{ vars map[string]string }

func (a *assignFlag) String() string { return "" }

func (a *assignFlag) Set(v string) error {
	k, val, err := env.ParseAssignment(v)
	if err != nil {
		return err
	}
	if a.vars == nil {
		a.vars = map[string]string{}
	}
	a.vars[k] = val
	return nil
}

// outputRules is what the help of -o and --junit says about the path (safefile.WriteOutput).
const outputRules = "- is stdout; a regular file is replaced atomically, a device or FIFO written in place; " +
	"a symbolic link is written through to its target in place, never replaced"

// writeOutput writes data to the -o file (safefile.WriteOutput: "-" or none is stdout);
// it returns the exit code.
func writeOutput(out string, data []byte, mode os.FileMode, stdout, stderr io.Writer) int {
	if out == "" {
		out = "-"
	}
	if err := safefile.WriteOutput(out, data, mode, stdout); err != nil {
		return fail(stderr, err)
	}
	return 0
}
