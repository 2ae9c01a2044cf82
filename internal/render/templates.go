package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/appnet/appnet-agent/templates"
)

// Templates is the parsed set of bootstrap templates: the embedded defaults, with any file of the
// same relative name under an overlay directory replacing its embedded twin.
type Templates struct {
	set     *template.Template
	sources map[string]string // template name → where it came from, for error messages
}

// LoadTemplates parses the embedded templates overlaid by overlayDir (empty: none). Files in
// overlayDir that do not name an embedded template are rejected, so a typo cannot go unnoticed.
func LoadTemplates(overlayDir string) (*Templates, error) {
	t := &Templates{sources: map[string]string{}}
	t.set = template.New("").Option("missingkey=error")
	t.set.Funcs(funcMap(func() *template.Template { return t.set }))
	names, err := embeddedTemplates()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, name := range names {
		known[name] = true
		text, src, err := readTemplate(name, overlayDir)
		if err != nil {
			return nil, err
		}
		if _, err := t.set.New(name).Parse(text); err != nil {
			return nil, syntaxError(name, src, err)
		}
		t.sources[name] = src
	}
	if overlayDir != "" {
		if err := checkOverlay(overlayDir, known); err != nil {
			return nil, err
		}
	}
	return t, nil
}

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
		b, err := os.ReadFile(p)
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

// Execute renders the named template. Errors name the file (embedded or overlay) and line.
func (t *Templates) Execute(name string, data any) ([]byte, error) {
	var b strings.Builder
	if err := t.set.ExecuteTemplate(&b, name, data); err != nil {
		return nil, t.explain(err)
	}
	return []byte(b.String()), nil
}

// explain replaces template names in an execution error ("template: tracing/xray.yaml.tmpl:12:3: ...")
// with their source, so an override's error points at the user's file.
func (t *Templates) explain(err error) error {
	msg := err.Error()
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
