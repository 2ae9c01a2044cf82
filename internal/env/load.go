package env

import (
	"os"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Source looks a variable up, like os.LookupEnv.
type Source func(name string) (string, bool)

// MapSource serves variables from a map (tests, the `env` report).
func MapSource(m map[string]string) Source {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Overlay returns a source in which the non-empty values of over win (command-line flags).
func Overlay(base Source, over map[string]string) Source {
	return func(k string) (string, bool) {
		if v, ok := over[k]; ok && v != "" {
			return v, true
		}
		return base(k)
	}
}

// Options adjust Load.
type Options struct {
	// FileHasContent reports whether path is an existing non-empty file (following symlinks, D10).
	// Nil means os.Stat.
	FileHasContent func(path string) bool
	// Names lists every variable present in the environment (for os.Environ, EnvironNames).
	// Load warns about those that look like the agent's but are not known (notices.go); nil
	// skips that check.
	Names []string
}

// EnvironNames is the names of the process environment's variables, for Options.Names.
func EnvironNames() []string {
	env := os.Environ()
	names := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
			names = append(names, k)
		}
	}
	return names
}

// Load reads every applicable variable from src and validates it. It returns the config and
// the warnings (clamped values, values the reference maps silently, set variables that are
// ignored, unknown variables with the agent's prefixes), or an Errors value naming every bad
// variable.
func Load(src Source, opts Options) (*Config, []string, error) {
	l := loader{src: src, cfg: &Config{}, opts: opts}
	l.walk(reflect.ValueOf(l.cfg).Elem())
	l.applyRules()
	l.noticeNoEffect()
	l.noticeUnknown()
	if len(l.errs) > 0 {
		return nil, l.warns, l.errs
	}
	return l.cfg, l.warns, nil
}

// loader is one Load: the walk over the tagged Config fills cfg and collects errs and warns.
type loader struct {
	src   Source
	cfg   *Config
	opts  Options
	errs  Errors
	warns []string
	// effects are the variables read but effective only under a predicate (tag `effect`),
	// judged once every variable is loaded.
	effects []guarded
	// read are the names the walk looked up: known names (isKnown) without building the set of
	// them all.
	read []string
}

type guarded struct{ name, predicate string }

func (l *loader) fail(name, msg string) { l.errs = append(l.errs, varError(name, msg)) }

func (l *loader) warn(msg string) { l.warns = append(l.warns, msg) }

// lookup returns a variable's trimmed value (D3: every value is trimmed the same way).
func (l *loader) lookup(name string) string {
	v, _ := l.src(name)
	return strings.TrimSpace(v)
}

func (l *loader) walk(v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Tag.Get("env")
		if name == "" && f.Type.Kind() == reflect.Struct {
			l.walk(fv)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		raw := l.lookup(name)
		l.read = append(l.read, name)
		if w := f.Tag.Get("when"); w != "" {
			if why := predicates[w].whyNot(l.cfg); why != "" {
				l.noticeIgnored(name, raw, why)
				continue
			}
		}
		if e := f.Tag.Get("effect"); e != "" {
			l.effects = append(l.effects, guarded{name, e})
		}
		if !utf8.ValidString(raw) {
			l.fail(name, "the value is not valid UTF-8")
			continue
		}
		if err := l.setField(fv, f.Tag, name, raw); err != nil {
			l.errs = append(l.errs, &VarError{Name: name, Err: err})
		}
		if name == "ENVOY_CONFIG_FILE" {
			l.cfg.Mode.ExistingFile = !l.cfg.Mode.RelayMode && raw != "" && l.hasContent(raw)
		}
	}
}

// rawDecoder is a Decoder that wants the value as set, untrimmed (InlineDocument: the first
// line of a YAML document may be indented like the rest).
type rawDecoder interface {
	DecodeRaw(value string) error
}

// setField sets one field from its trimmed value raw, giving a rawDecoder the value as set.
func (l *loader) setField(fv reflect.Value, tag reflect.StructTag, name, raw string) error {
	if d, ok := fv.Addr().Interface().(rawDecoder); ok {
		if raw == "" {
			return nil
		}
		v, _ := l.src(name)
		return d.DecodeRaw(v)
	}
	return l.set(fv, tag, raw)
}

func (l *loader) hasContent(path string) bool {
	if l.opts.FileHasContent != nil {
		return l.opts.FileHasContent(path)
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}
