package golden

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/render"
	"github.com/appnet/appnet-agent/internal/safefile"
	"github.com/appnet/appnet-agent/internal/validate"
)

// Render renders a bootstrap from vars alone (no process environment) with
// the facts collector, exactly as `appnet-agent render --env-file` does. It
// returns env.Load's warnings and the render's.
func Render(ctx context.Context, vars map[string]string, facts platform.Collector) (*render.Result, []string, error) {
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	cfg, warnings, err := env.Load(env.MapSource(vars), env.Options{Names: names})
	if err != nil {
		return nil, warnings, err
	}
	res, err := render.Render(ctx, cfg, render.Options{Collector: facts})
	if err != nil {
		return nil, warnings, err
	}
	return res, append(warnings, res.Warnings...), nil
}

// Status is the outcome of one case.
type Status string

// Outcomes. Pass and Updated count as success.
const (
	Pass    Status = "pass"
	Updated Status = "updated" // --update rewrote (or created) the expectation
	Fail    Status = "fail"    // the result differs from the expectation
	Broken  Status = "error"   // the case itself is broken: no expectation, bad env or facts file, ...
)

// Result is what running one case found.
type Result struct {
	Case   Case
	Status Status
	// Summary is one line: why it failed, or what was updated.
	Summary string
	// Detail is the diff, the unexpected error or bootstrap; may be empty.
	Detail string
	// Warnings are the render's warnings (validator findings included).
	Warnings []string
	Duration time.Duration
}

// OK reports whether the case passed (or was updated).
func (r Result) OK() bool { return r.Status == Pass || r.Status == Updated }

// Runner runs cases.
type Runner struct {
	// TemplateDir is APPNET_TEMPLATE_DIR for every case that does not set it.
	TemplateDir string
	// Facts are the shared platform facts; a case's NAME.facts.json overrides
	// them section by section. The zero value is a host where nothing answers.
	Facts platform.HostFacts
	// Update rewrites expectations that no longer match.
	Update bool
	// Timeout bounds one render; 0 means 30 s.
	Timeout time.Duration
}

// Run runs every case in order.
func (r *Runner) Run(ctx context.Context, cases []Case) []Result {
	out := make([]Result, 0, len(cases))
	for _, c := range cases {
		out = append(out, r.RunCase(ctx, c))
	}
	return out
}

// RunCase renders one case and checks (or, with Update, rewrites) its
// expectation.
func (r *Runner) RunCase(ctx context.Context, c Case) Result {
	start := time.Now()
	res := r.runCase(ctx, c)
	res.Case, res.Duration = c, time.Since(start)
	return res
}

func (r *Runner) runCase(ctx context.Context, c Case) Result {
	if c.Problem != "" {
		return broken(c.Problem)
	}
	vars, warnings, err := r.vars(c)
	if err != nil {
		return broken(err.Error())
	}
	facts := r.Facts
	if c.Facts != "" {
		data, err := os.ReadFile(c.Facts)
		if err != nil {
			return broken(err.Error())
		}
		if facts, err = platform.OverrideHostFacts(facts, c.Facts, data); err != nil {
			return broken(err.Error())
		}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, renderWarnings, renderErr := Render(ctx, vars, platform.Replay(facts))
	warnings = append(warnings, renderWarnings...)

	var out Result
	switch {
	case c.Error != "":
		out = r.checkError(c, res, renderErr)
	case c.YAML != "":
		out = r.checkYAML(c, res, renderErr)
	case r.Update && renderErr == nil:
		out = r.write(c.Name+YAMLExt, res.Bootstrap, "created")
	case r.Update:
		out = failed("renders an error, so no "+c.Name+YAMLExt+" was created (write "+c.Name+ErrorExt+" if the error is expected)", renderErr.Error())
	default:
		out = broken(fmt.Sprintf("no expectation: add %s%s (expected bootstrap) or %s%s (expected error), or run with --update to create %s%s",
			c.Name, YAMLExt, c.Name, ErrorExt, c.Name, YAMLExt))
	}
	out.Warnings = warnings
	return out
}

// vars reads the case's variables over the runner's defaults.
func (r *Runner) vars(c Case) (map[string]string, []string, error) {
	data, err := os.ReadFile(c.Env)
	if err != nil {
		return nil, nil, err
	}
	fv, warnings, err := env.ParseEnvFile(c.Env, data)
	if err != nil {
		return nil, nil, err
	}
	vars := map[string]string{}
	if r.TemplateDir != "" {
		vars["APPNET_TEMPLATE_DIR"] = r.TemplateDir
	}
	for _, v := range fv {
		vars[v.Key] = v.Value
	}
	return vars, warnings, nil
}

func (r *Runner) checkYAML(c Case, res *render.Result, renderErr error) Result {
	if renderErr != nil {
		return failed(fmt.Sprintf("want the bootstrap of %s, got an error%s", c.YAML, r.notUpdated()), renderErr.Error())
	}
	data, err := os.ReadFile(c.YAML)
	if err != nil {
		return broken(err.Error())
	}
	want, err := validate.Bootstrap(data)
	if err != nil {
		if r.Update {
			return r.write(c.YAML, res.Bootstrap, "rewrote invalid")
		}
		return broken(fmt.Sprintf("%s is not a valid bootstrap:\n%v", c.YAML, err))
	}
	m, err := Compare(want, res.Bootstrap, c.YAML, "rendered "+c.Env)
	switch {
	case err != nil:
		return broken(err.Error())
	case m == nil:
		return Result{Status: Pass}
	case r.Update:
		return r.write(c.YAML, res.Bootstrap, "updated")
	}
	return Result{Status: Fail, Summary: "the rendered bootstrap differs from " + c.YAML, Detail: m.String()}
}

func (r *Runner) checkError(c Case, res *render.Result, renderErr error) Result {
	want, err := ReadErrorFile(c.Error)
	if err != nil {
		return broken(err.Error())
	}
	if renderErr == nil {
		yaml, _ := validate.CanonicalYAML(res.Bootstrap)
		return failed(fmt.Sprintf("want an error (%s), got a bootstrap%s", c.Error, r.notUpdated()), string(yaml))
	}
	msg := renderErr.Error()
	var missing []string
	for _, w := range want {
		if !strings.Contains(msg, w) {
			missing = append(missing, w)
		}
	}
	switch {
	case len(missing) == 0:
		return Result{Status: Pass}
	case r.Update:
		if err := safefile.Replace(c.Error, []byte(msg+"\n"), 0o644); err != nil {
			return broken(err.Error())
		}
		return Result{Status: Updated, Summary: "updated " + c.Error}
	}
	return failed(fmt.Sprintf("the error does not contain %q (%s)", missing, c.Error), msg)
}

// notUpdated is the note --update adds to a failure it does not fix.
func (r *Runner) notUpdated() string {
	if r.Update {
		return "; not updated"
	}
	return ""
}

// write stores b's canonical YAML as an expectation.
func (r *Runner) write(path string, b *bootstrapv3.Bootstrap, verb string) Result {
	data, err := validate.CanonicalYAML(b)
	if err == nil {
		err = safefile.Replace(path, data, 0o644) // never through a link: it could lead anywhere
	}
	if err != nil {
		return broken(err.Error())
	}
	return Result{Status: Updated, Summary: verb + " " + path}
}

// ReadErrorFile reads NAME.error: every line that is neither blank nor a #
// comment must appear in the error (so one file can check, e.g., both a file
// name and a line number).
func ReadErrorFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var want []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("%s: no expected error text (every line that is not blank or a # comment must appear in the error)", path)
	}
	return want, nil
}

func broken(summary string) Result { return Result{Status: Broken, Summary: summary} }

func failed(summary, detail string) Result {
	return Result{Status: Fail, Summary: summary, Detail: detail}
}
