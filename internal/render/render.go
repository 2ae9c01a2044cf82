// Package render turns a validated env.Config into the Envoy bootstrap Envoy will read:
// platform facts → template data → rendered YAML → merged user fragments → strictly decoded and
// deeply validated proto → canonical bytes. Only the fact collectors and the final file write touch
// the outside world, and both sit behind small seams so tests are deterministic.
//
// Why this package is shaped as it is: docs/DESIGN.md.
package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"go.yaml.in/yaml/v3"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/validate"
)

// EnvoyAdminSocket is the fixed path of Envoy's admin Unix socket in UDS admin mode and relay mode.
const EnvoyAdminSocket = "/tmp/envoy_admin.sock"

// Options are the seams of Render; zero values mean the real thing.
type Options struct {
	Collector platform.Collector                // platform facts; nil: platform.System
	ReadFile  func(string) ([]byte, error)      // user fragments and manifests; nil: validate.ReadDocument
	Stat      func(string) (os.FileInfo, error) // ENVOY_CONFIG_FILE checks; nil: os.Stat
	Templates *Templates                        // parsed templates; nil: LoadTemplates(cfg.Mode.TemplateDir)
	// CgroupRoot is where the cgroup file systems are (the memory limit for
	// APPNET_ENVOY_HEAP_FROM_CGROUP, the CPU quota for --concurrency); empty:
	// platform.DefaultCgroupRoot.
	CgroupRoot string
}

// Result is a validated bootstrap and what goes with it.
type Result struct {
	Bootstrap *bootstrapv3.Bootstrap
	// Bytes is what Envoy reads: the canonical YAML of Bootstrap, or, for an existing
	// ENVOY_CONFIG_FILE, that file's unchanged content.
	Bytes []byte
	// Existing is true when ENVOY_CONFIG_FILE was used as is (nothing to write).
	Existing bool
	// SideFiles must be written (before the bootstrap) for it to work: path → content.
	SideFiles map[string][]byte
	Warnings  []string
	// Problems is what the validator found: its warnings, and with APPNET_VALIDATION=warn also the errors it
	// would otherwise have stopped at (Problem.Warning tells them apart). Bootstrap is nil when such an error
	// kept the document from decoding; Bytes is then the document as it was merged, for Envoy to judge.
	Problems validate.Problems
	// Facts are the platform facts it was made with; for an existing ENVOY_CONFIG_FILE only
	// the CPU limits (Facts.CPU, Facts.Task), which Envoy's --concurrency still depends on.
	Facts platform.Facts
	// Given is the variable of a bootstrap the user gave whole (ENVOY_CONFIG_FILE used as is,
	// or ENVOY_CONFIG), "" for a generated one.
	Given string
	// FileName is, for ENVOY_CONFIG, the bootstrap's name in the agent's private directory:
	// by its format, as Envoy picks its parser by the name (inlineBootstrap); "" otherwise.
	FileName string
	// fragments are the user fragments merged into a generated bootstrap, to locate problems.
	fragments []fragment
	// Overload says how Envoy's overload manager was derived (heap limit and its source), or
	// why none was; nil when no variable asks for one. Logged at start.
	Overload *Overload
	// deprecations are the deprecated fields and enum values Bootstrap uses (validate.Deprecations),
	// found by the walk that checked it (judge).
	deprecations []validate.Problem
}

// Render produces the bootstrap for cfg exactly as the agent would start Envoy with it, in
// three stages, in the order data flows:
//
//	renderTemplates    platform facts + cfg → template data → rendered YAML, parsed once and linted
//	overlayUserFiles   the user fragments merged into that tree (sidecar modes)
//	validateAndEncode  strict decode → PGV and Envoy's load-time rules → canonical YAML (JSON when
//	                   ENVOY_CONFIG_FILE's name makes Envoy read it as JSON)
//
// An existing ENVOY_CONFIG_FILE skips the first two: it is only validated. With
// APPNET_VALIDATION=warn, what the validator refuses is reported in Result.Problems instead of
// stopping the render.
func Render(ctx context.Context, cfg *env.Config, opts Options) (*Result, error) {
	// The decoder's one-time set-up runs beside the first stage (or the read of a given bootstrap);
	// it never outlives the render.
	warmed := validate.WarmDecoder()
	defer warmed()
	opts = opts.withDefaults()
	switch {
	case cfg.Mode.ExistingFile:
		return existing(ctx, cfg, opts)
	case cfg.Mode.Inline.Set():
		return inlineBootstrap(ctx, cfg, opts)
	}
	if err := checkOutputPath(cfg.Mode.ConfigFile, opts); err != nil {
		return nil, err
	}
	res, doc, err := renderTemplates(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if err := overlayUserFiles(doc, cfg, opts, res); err != nil {
		return nil, err
	}
	format := validate.FormatYAML // the default file is *.yaml (the run command's bootstrapPath)
	if cfg.Mode.ConfigFile != "" {
		format = validate.FormatOf(cfg.Mode.ConfigFile)
	}
	if err := validateAndEncode(doc, res, cfg.Mode.Validation, format); err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, res.bootstrapWarnings(res.Facts.EnvoyVersion)...)
	return res, nil
}

// bootstrapWarnings is what a valid bootstrap still gets a warning for, in the words of
// `validate`: deprecated fields (Envoy accepts them), and the aws_iam call credentials when
// the Envoy that will load it (envoyVersion, when known) is 1.35 or later.
func (r *Result) bootstrapWarnings(envoyVersion string) []string {
	b := r.Bootstrap
	if b == nil { // APPNET_VALIDATION=warn let through a document that does not decode
		return nil
	}
	var out []string
	for _, p := range r.deprecations {
		out = append(out, p.String())
	}
	if major, minor, ok := envoyMinor(envoyVersion); ok && (major > 1 || minor >= 35) {
		for _, p := range validate.AwsIamUses(b) {
			out = append(out, fmt.Sprintf("%s (this Envoy is %d.%d)", p, major, minor))
		}
	}
	return out
}

// renderTemplates is the first stage: it collects the platform facts (concurrently with
// loading the templates), plans the template data, executes the mode's template and parses
// the text once into the YAML tree the next stages work on, linted for ambiguous YAML.
func renderTemplates(ctx context.Context, cfg *env.Config, opts Options) (*Result, *yaml.Node, error) {
	facts := make(chan platform.Facts, 1)
	in := PlatformInputs(cfg)
	in.CgroupRoot = opts.CgroupRoot
	go func() { facts <- opts.Collector.Collect(ctx, in) }() // overlaps template parsing
	tmpl := opts.Templates
	var tmplErr error
	if tmpl == nil {
		tmpl, tmplErr = LoadTemplates(cfg.Mode.TemplateDir)
	}
	name := "sidecar.yaml.tmpl"
	if cfg.Mode.RelayMode {
		name = "relay.yaml.tmpl"
	}
	if tmplErr == nil {
		tmplErr = tmpl.prepare(name) // the mode's template, while the facts are collected
	}
	if tmplErr != nil {
		return nil, nil, tmplErr // the collector finishes within its budget and exits on its own
	}
	f := <-facts
	res := &Result{Facts: f, Warnings: slices.Clone(f.Warnings)}
	var (
		p   *plan
		err error
	)
	if cfg.Mode.RelayMode {
		p, err = newRelayPlan(cfg, f)
	} else {
		p, err = newSidecarPlan(cfg, f, opts.ReadFile)
	}
	if err != nil {
		return nil, nil, err
	}
	if p.data.Overload, res.Overload, err = overloadPlan(cfg, f); err != nil {
		return nil, nil, err
	}
	res.Warnings = append(res.Warnings, p.warnings...)
	res.SideFiles = p.sideFiles
	text, err := tmpl.Execute(ctx, name, p.data, cfg.Mode.TemplateTimeout)
	if err != nil {
		return nil, nil, err
	}
	doc, err := validate.Parse(text)
	if err != nil {
		return nil, nil, fmt.Errorf("%s rendered invalid YAML: %w", tmpl.sources[name], err)
	}
	if err := validate.LintNode(doc); err != nil {
		return nil, nil, fmt.Errorf("%s rendered ambiguous YAML: %w", tmpl.sources[name], err)
	}
	return res, doc, nil
}

// overlayUserFiles is the second stage: the user fragments are merged into the rendered tree
// with the reference's rules (sidecar modes; the relay bootstrap takes none). A user
// overload_manager replaces the generated one (the merge warns), which the report notes.
func overlayUserFiles(doc *yaml.Node, cfg *env.Config, opts Options, res *Result) error {
	if cfg.Mode.RelayMode {
		return nil
	}
	generated := lookup(doc, "overload_manager")
	w, merged, err := mergeUserFiles(doc, cfg, opts.ReadFile)
	if err != nil {
		return err
	}
	res.fragments = merged
	res.Warnings = append(res.Warnings, w...)
	noteReplacedOverload(res.Overload, generated, doc)
	return nil
}

// validateAndEncode is the last stage: the tree is decoded strictly into the bootstrap proto,
// checked (PGV in every payload, then Envoy's load-time rules), and encoded as Envoy will read
// it: canonical YAML, or canonical JSON for a file Envoy reads as JSON (a name not ending in
// .yaml or .yml). With APPNET_VALIDATION=warn the validator's errors do not stop it.
func validateAndEncode(doc *yaml.Node, res *Result, mode env.ValidationMode, format validate.Format) error {
	b, ps := validate.ReadNode(doc)
	ps, deprecations, refused := judge(b, ps, mode)
	if refused {
		return fmt.Errorf("the bootstrap is invalid:\n%w", locate(ps.Errors(), doc, res.fragments))
	}
	res.Bootstrap, res.Problems, res.deprecations = b, ps, deprecations
	var err error
	switch {
	case b == nil: // warn mode, and it did not decode: Envoy gets the document as merged
		res.Bytes, err = yaml.Marshal(doc)
	case format == validate.FormatJSON:
		res.Bytes, err = validate.CanonicalJSON(b)
	default:
		res.Bytes, err = validate.CanonicalYAML(b)
	}
	return err
}

// judge adds to a read bootstrap's problems what render and run check beyond decoding (every
// rule, with node.id and node.cluster required), and says whether they refuse it: any error
// does, unless APPNET_VALIDATION=warn lets it through to Envoy. The same walk lists the
// deprecated fields and enum values in use, for bootstrapWarnings.
func judge(b *bootstrapv3.Bootstrap, ps validate.Problems, mode env.ValidationMode) (validate.Problems, []validate.Problem, bool) {
	var deprecations []validate.Problem
	if b != nil {
		var found validate.Problems
		found, deprecations = validate.InspectWithDeprecations(b, validate.Options{RequireNode: true})
		ps = append(ps, found...)
	}
	return ps, deprecations, ps.HasErrors() && mode != env.ValidationWarn
}

func (o Options) withDefaults() Options {
	if o.Collector == nil {
		o.Collector = platform.System
	}
	if o.ReadFile == nil {
		o.ReadFile = validate.ReadDocument // bounded: MaxDocumentBytes
	}
	if o.Stat == nil {
		o.Stat = os.Stat
	}
	return o
}

// existing validates a user-provided, non-empty ENVOY_CONFIG_FILE, read as Envoy will read it
// (by its name), which is then used untouched. Of the platform facts it takes only the CPU
// limits (the container's quota, the task's), which Envoy's command line still needs.
func existing(ctx context.Context, cfg *env.Config, opts Options) (*Result, error) {
	path := cfg.Mode.ConfigFile
	data, err := opts.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ENVOY_CONFIG_FILE: %w", err)
	}
	b, ps := validate.Read(data, validate.FormatOf(path))
	ps, deprecations, refused := judge(b, ps, cfg.Mode.Validation)
	if refused {
		return nil, fmt.Errorf("ENVOY_CONFIG_FILE %s is not a valid bootstrap:\n%w", path, prefixLines(ps.Errors(), path))
	}
	return given(ctx, cfg, opts, &Result{Bootstrap: b, Bytes: data, Existing: true, Given: "ENVOY_CONFIG_FILE", Problems: ps,
		deprecations: deprecations}), nil
}

// given completes the result for a bootstrap the user gave whole: of the platform facts only
// the CPU limits (the container's quota, the task's), which Envoy's command line still needs,
// and the bootstrap's warnings.
func given(ctx context.Context, cfg *env.Config, opts Options, res *Result) *Result {
	if needCPUQuota(cfg) {
		// The task's CPU limit too, where the container's cgroup sets none.
		res.Facts = opts.Collector.Collect(ctx, platform.Inputs{NeedCPUQuota: true, SkipNodeInfo: true, CgroupRoot: opts.CgroupRoot,
			TMDSURI: cfg.Platform.TMDSURIv4})
		res.Warnings = slices.Clone(res.Facts.Warnings)
	}
	res.Warnings = append(res.Warnings, res.bootstrapWarnings("")...)
	return res
}

// checkOutputPath keeps the reference's rule: a named ENVOY_CONFIG_FILE must exist (an empty file
// is filled), so a typo in the path fails loudly instead of writing somewhere unexpected.
func checkOutputPath(path string, opts Options) error {
	if path == "" {
		return nil
	}
	st, err := opts.Stat(path)
	if err != nil {
		return fmt.Errorf("ENVOY_CONFIG_FILE: %s: %w (create an empty file there to have it generated, or unset the variable)", path, unwrapPathError(err))
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("ENVOY_CONFIG_FILE: %s is not a regular file", path)
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func prefixLines(err error, prefix string) error {
	var b strings.Builder
	for _, l := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(&b, "%s: %s\n", prefix, l)
	}
	return errors.New(strings.TrimSuffix(b.String(), "\n"))
}

// PlatformInputs are the platform.Inputs Render collects facts with for c (also what
// `appnet-agent facts` uses for its endpoints and Envoy path).
func PlatformInputs(c *env.Config) platform.Inputs {
	in := platform.Inputs{
		EnvoyPath:    c.Mode.EnvoyPath,
		Region:       c.XDS.Region,
		NeedRegion:   true,
		IMDSEndpoint: c.XDS.IMDSEndpoint,
		IMDSDisabled: c.XDS.IMDSDisabled,
		// Read only when it applies (not with APPNET_ENVOY_MAX_HEAP_BYTES or an existing file).
		NeedMemoryLimit: c.Overload.FromCgroup,
		NeedCPUQuota:    needCPUQuota(c),
	}
	if c.XDS.IMDSTestingHost != "" {
		in.IMDSEndpoint = c.XDS.IMDSTestingHost
	}
	// The Envoy version also picks the overload manager's memory monitor (cgroup_memory from
	// 1.35) when the limit comes from the container or the task.
	if c.Mode.RelayMode {
		in.ProbeEnvoy = c.Relay.Domain == "" && c.Mode.XDSEndpoint == "" || c.Overload.FromCgroup
		return in
	}
	in.ProbeEnvoy = !c.RelayClient() && c.Mode.XDSEndpoint == "" || c.Overload.FromCgroup
	in.ExecutionEnv = c.Platform.ExecutionEnv
	in.ContainerInstanceARN = c.Platform.ContainerInstanceARN
	in.TMDSURI = cmpOr(c.Platform.TMDSURIv4, c.Platform.TMDSURI)
	in.K8sVersion, in.K8sPodUID, in.K8sControllerVersion = c.Platform.K8sVersion, c.Platform.K8sPodUID, c.Platform.K8sControllerVersion
	in.ContainerIPMapping = c.Metadata.ContainerIPMapping
	return in
}

// needCPUQuota: Envoy's --concurrency comes from the container's CPU quota unless
// ENVOY_CONCURRENCY sets it or relay mode fixes it at 1 (supervise.Concurrency).
func needCPUQuota(c *env.Config) bool { return c.Admin.Concurrency <= 0 && !c.Mode.RelayMode }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mergeUserFiles merges the user fragments, each from its file or its inline variable, in the
// reference agent's order. It returns the fragments' trees, to locate problems in them.
func mergeUserFiles(doc *yaml.Node, c *env.Config, readFile func(string) ([]byte, error)) ([]string, []fragment, error) {
	var warnings []string
	var merged []fragment
	for _, g := range c.Fragments() {
		if !g.Set() {
			continue
		}
		f := fragment{variable: g.Variable(), path: g.Path}
		data, err := f.read(g, readFile)
		if err != nil {
			return nil, nil, err
		}
		src, err := parseFragment(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: cannot parse %s: %w", f.variable, f.what(), err)
		}
		if src == nil || len(src.Content) == 0 {
			if g.FileVar == "ENVOY_RESOURCES_CONFIG_FILE" {
				warnings = append(warnings, fmt.Sprintf("%s: %s is empty; ignored", f.variable, f.what()))
				continue
			}
			return nil, nil, fmt.Errorf("%s: %s is empty", f.variable, f.what())
		}
		f.root, f.oneLine = src, bytes.IndexByte(bytes.TrimSpace(data), '\n') < 0
		merged = append(merged, f)
		w, err := merge(doc, src, f.variable)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: cannot merge %s into the bootstrap: %w", f.variable, f.what(), err)
		}
		warnings = append(warnings, w...)
		if g.FileVar == "ENVOY_STATS_SINKS_CFG_FILE" {
			if lookup(doc, "stats_sinks") == nil {
				return nil, nil, fmt.Errorf("%s: %s contains no stats_sinks", f.variable, f.what())
			}
		}
	}
	return warnings, merged, nil
}
