package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/appnet/appnet-agent/internal/safefile"
	"github.com/appnet/appnet-agent/internal/validate"
	"github.com/appnet/appnet-agent/templates"
)

// Templates is the parsed set of bootstrap templates: the embedded defaults, with any file of the
// same relative name under an overlay directory replacing its embedded twin. Executions are
// bounded (guard.go) and one at a time.
type Templates struct {
	set     *template.Template
	sources map[string]string // template name → where it came from, for error messages
	mu      sync.Mutex        // one execution at a time: g is its state; also guards the fields below
	g       *guard
	// funcs are the functions templates may call, unguarded: guard wraps those a newly parsed
	// template calls.
	funcs template.FuncMap
	// guarded are the function names already wrapped, instrumented the parse trees already
	// holding the guard calls (guard.go).
	guarded      map[string]bool
	instrumented map[*parse.Tree]bool
	// unparsed are the embedded templates not parsed yet, in lexical order. Without an overlay
	// each is parsed when first executed or included (parseOnUse): a start renders one mode and
	// calls three or four of the eleven files, and parsing them all was a third of the template
	// stage. With an overlay every file is parsed (and its mistakes reported) at load.
	unparsed []string
}

// LoadTemplates parses the embedded templates overlaid by overlayDir (empty: none). Files in
// overlayDir that do not name an embedded template are rejected, so a typo cannot go unnoticed.
// Without an overlay the embedded templates, which are known to parse (their tests), are parsed
// on first use instead.
func LoadTemplates(overlayDir string) (*Templates, error) {
	t := &Templates{sources: map[string]string{}, guarded: map[string]bool{}, instrumented: map[*parse.Tree]bool{}}
	t.set = template.New("").Option("missingkey=error")
	t.funcs = funcMap(t.include)
	maps.Copy(t.funcs, builtinOverrides)
	t.set.Funcs(t.funcs)
	names, err := embeddedTemplates()
	if err != nil {
		return nil, err
	}
	if overlayDir == "" {
		for _, name := range names {
			t.sources[name] = "embedded " + name
		}
		t.unparsed = names
		return t, nil
	}
	known := map[string]bool{}
	for _, name := range names {
		known[name] = true
		if err := t.parse(name, overlayDir); err != nil {
			return nil, err
		}
	}
	if err := checkOverlay(overlayDir, known); err != nil {
		return nil, err
	}
	t.guard()
	return t, nil
}

// parse reads and parses the template file name (from overlayDir when it has one).
func (t *Templates) parse(name, overlayDir string) error {
	text, src, err := readTemplate(name, overlayDir)
	if err != nil {
		return err
	}
	if _, err := t.set.New(name).Parse(text); err != nil {
		return syntaxError(name, src, err)
	}
	t.sources[name] = src
	return nil
}

// prepare parses the template called name ahead of its execution (parseOnUse), under the lock
// that Execute holds.
func (t *Templates) prepare(name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.parseOnUse(name)
}

// parseOnUse makes sure the template called name can be executed: an embedded file not parsed
// yet is parsed and guarded. A name that is no file of the set may be defined inside one not
// parsed yet, and a {{template}} action is looked up only when it runs: then every file left is
// parsed, as LoadTemplates with an overlay does at once (the built-in templates call each other
// only through include, with file names).
func (t *Templates) parseOnUse(name string) error {
	if len(t.unparsed) == 0 {
		return nil
	}
	i := slices.Index(t.unparsed, name)
	if i < 0 {
		if t.set.Lookup(name) != nil {
			return nil
		}
		return t.parseRest()
	}
	t.unparsed = slices.Delete(t.unparsed, i, i+1)
	if err := t.parse(name, ""); err != nil {
		return err
	}
	if t.guard() {
		return t.parseRest()
	}
	return nil
}

// parseRest parses every embedded file not parsed yet.
func (t *Templates) parseRest() error {
	for _, name := range t.unparsed {
		if err := t.parse(name, ""); err != nil {
			return err
		}
	}
	t.unparsed = nil
	t.guard()
	return nil
}

// guard bounds every execution (guard.go): the functions the templates call are wrapped, and
// guard calls are put into the parse trees — of the templates parsed since the last call. It
// reports whether those call another template with a {{template}} action.
func (t *Templates) guard() (callsTemplate bool) {
	current := func() *guard { return t.g }
	wrapped := template.FuncMap{}
	if len(t.guarded) == 0 {
		wrapped[guardLoop] = func() (string, error) { return t.g.loop() }
		wrapped[guardEnter] = func() (string, error) { return t.g.enter() }
		wrapped[guardLeave] = func() (string, error) { return t.g.leave() }
	}
	used, callsTemplate := functionsUsed(t.set, t.instrumented)
	for name := range used {
		if fn, ok := t.funcs[name]; ok && !t.guarded[name] {
			wrapped[name] = guarded(name, fn, current)
			t.guarded[name] = true
		}
	}
	for name := range wrapped {
		t.guarded[name] = true
	}
	t.set.Funcs(wrapped)
	instrument(t.set, t.instrumented)
	return callsTemplate
}

// include executes the named template into a string (for the include function), bounded like
// the execution it is part of.
//
// When a guard stops the execution inside nested includes, text/template would repeat the
// whole chain once per level (a hundred for a recursion); the innermost error, which names the
// file and line where it stopped, is kept and reported alone (Execute).
func (t *Templates) include(name string, data any) (string, error) {
	if err := t.parseOnUse(name); err != nil {
		return "", err
	}
	b := &cappedBuffer{g: t.g}
	err := t.set.ExecuteTemplate(b, name, data)
	if err != nil && t.g != nil && t.g.stopped {
		if t.g.first == nil {
			t.g.first = err
		}
		return "", errStoppedInside
	}
	return b.String(), err
}

// errStoppedInside is include's error once the innermost one is kept (see include).
var errStoppedInside = errors.New("stopped inside")

// embeddedTemplates lists the embedded templates by walking the embedded tree, in lexical order.
func embeddedTemplates() ([]string, error) {
	var names []string
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tmpl") {
			names = append(names, p)
		}
		return err
	})
	return names, err
}

// syntaxError turns text/template's "template: NAME:LINE: message" into "SOURCE:LINE: message", so a
// mistake in an overlay names the user's file and line first, like a compiler.
func syntaxError(name, src string, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "template: "+name+":"); ok {
		return errors.New(src + ":" + rest)
	}
	return errors.New(src + ": " + strings.TrimPrefix(msg, "template: "))
}

func readTemplate(name, overlayDir string) (text, source string, err error) {
	if overlayDir != "" {
		p := filepath.Join(overlayDir, filepath.FromSlash(name))
		b, err := safefile.ReadRegular(p, validate.MaxDocumentBytes) // a FIFO must not block the start
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("APPNET_TEMPLATE_DIR: %w", err)
		}
	}
	b, err := fs.ReadFile(templates.FS, name)
	return string(b), "embedded " + name, err
}

func checkOverlay(dir string, known map[string]bool) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("APPNET_TEMPLATE_DIR: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("APPNET_TEMPLATE_DIR: %s is not a directory", dir)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !known[filepath.ToSlash(rel)] {
			return fmt.Errorf("APPNET_TEMPLATE_DIR: %s does not replace any template (known: %s)", p, strings.Join(sortedKeys(known), ", "))
		}
		return nil
	})
}

// Execute renders the named template within timeout (and until ctx is done), with output and
// values bounded by MaxRenderedBytes and nesting by MaxTemplateDepth (guard.go). Errors name
// the file (embedded or overlay) and line.
func (t *Templates) Execute(ctx context.Context, name string, data any, timeout time.Duration) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if timeout <= 0 {
		timeout = DefaultTemplateTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, timeoutCause(timeout))
	defer cancel()
	if err := t.parseOnUse(name); err != nil {
		return nil, err
	}
	t.g = &guard{ctx: ctx}
	defer func() { t.g = nil }()
	b := &cappedBuffer{g: t.g}
	err := t.set.ExecuteTemplate(b, name, data)
	switch {
	case err != nil && t.g.first != nil:
		err = t.g.first
	case err == nil && t.g.overflow:
		err = fmt.Errorf("template: %s: %w", name, errTooLarge)
	}
	if err != nil {
		return nil, t.explain(err)
	}
	return []byte(b.String()), nil
}

// explain replaces template names in an execution error ("template: tracing/xray.yaml.tmpl:12:3: ...")
// with their source, so an override's error points at the user's file.
func (t *Templates) explain(err error) error {
	msg := guardMessage.Replace(err.Error())
	for name, src := range t.sources {
		if strings.HasPrefix(src, "embedded ") {
			continue
		}
		msg = strings.ReplaceAll(msg, "template: "+name+":", "template: "+src+":")
		msg = strings.ReplaceAll(msg, "\""+name+"\"", "\""+src+"\"")
	}
	return errors.New(msg)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
