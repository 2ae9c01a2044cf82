package env

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
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

// Errors lists every invalid variable; Load returns all of them at once.
type Errors []error

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "\n")
}

// Options adjust Load for tests.
type Options struct {
	// FileHasContent reports whether path is an existing non-empty file (following symlinks, D10).
	// Nil means os.Stat.
	FileHasContent func(path string) bool
}

// Load reads every applicable variable from src and validates it. It returns the config and the
// warnings (clamped values, ignored values), or an Errors value naming every bad variable.
func Load(src Source, opts Options) (*Config, []string, error) {
	l := loader{src: src, cfg: &Config{}, opts: opts}
	l.walk(reflect.ValueOf(l.cfg).Elem())
	l.finish()
	if len(l.errs) > 0 {
		return nil, l.warns, l.errs
	}
	return l.cfg, l.warns, nil
}

type loader struct {
	src   Source
	cfg   *Config
	opts  Options
	errs  Errors
	warns []string
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
		if w := f.Tag.Get("when"); w != "" && !predicates[w].test(l.cfg) {
			continue
		}
		raw, _ := l.src(name)
		raw = strings.TrimSpace(raw) // D3: every value is trimmed the same way
		if !utf8.ValidString(raw) {
			l.errs = append(l.errs, fmt.Errorf("%s: the value is not valid UTF-8", name))
			continue
		}
		if err := l.set(fv, f.Tag, raw); err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %w", name, err))
		}
		if name == "ENVOY_CONFIG_FILE" {
			l.cfg.Mode.ExistingFile = !l.cfg.Mode.RelayMode && raw != "" && l.hasContent(raw)
		}
	}
}

func (l *loader) hasContent(path string) bool {
	if l.opts.FileHasContent != nil {
		return l.opts.FileHasContent(path)
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

// set parses raw (or the default when raw is empty) into the field.
func (l *loader) set(fv reflect.Value, tag reflect.StructTag, raw string) error {
	if raw == "" {
		raw = tag.Get("default")
		if raw == "" {
			return nil // unset optional value: zero (nil pointer, empty string)
		}
	}
	if fv.Kind() == reflect.Pointer {
		p := reflect.New(fv.Type().Elem())
		if err := l.set(p.Elem(), tag, raw); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	}
	if d, ok := fv.Addr().Interface().(Decoder); ok {
		return d.Decode(raw)
	}
	switch fv.Interface().(type) {
	case time.Duration:
		return l.setDuration(fv, tag, raw)
	}
	switch fv.Kind() {
	case reflect.String:
		return setString(fv, tag, raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not a boolean; allowed: true, false, 1, 0, t, f", raw)
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := parseInt(raw)
		if err != nil {
			return fmt.Errorf("%q is not an integer%s", raw, rangeText(tag))
		}
		n2, err := l.clampInt(n, tag)
		fv.SetInt(n2)
		return err
	case reflect.Uint16, reflect.Uint32:
		n, err := parseInt(raw)
		if err != nil {
			return fmt.Errorf("%q is not an integer%s", raw, rangeText(tag))
		}
		if max := int64(1)<<(fv.Type().Bits()) - 1; n < 0 || n > max {
			return fmt.Errorf("%d is outside %s", n, allowedRange(tag, 0, max))
		}
		n2, err := l.clampInt(n, tag)
		fv.SetUint(uint64(n2))
		return err
	case reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a number%s", raw, rangeText(tag))
		}
		f2, err := l.clampFloat(f, tag)
		fv.SetFloat(f2)
		return err
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type()) // programming error, caught by tests
	}
	return nil
}

func setString(fv reflect.Value, tag reflect.StructTag, raw string) error {
	if oneof := tag.Get("oneof"); oneof != "" {
		lower := strings.ToLower(raw)
		for _, a := range strings.Split(oneof, ",") {
			if lower == a {
				fv.SetString(lower)
				return nil
			}
		}
		return fmt.Errorf("%q is not allowed; allowed: %s", raw, strings.ReplaceAll(oneof, ",", ", "))
	}
	fv.SetString(raw)
	return nil
}

// setDuration parses integers in the tag's unit, or Go duration syntax without one.
func (l *loader) setDuration(fv reflect.Value, tag reflect.StructTag, raw string) error {
	var d time.Duration
	switch unit := tag.Get("unit"); unit {
	case "s", "ms":
		n, err := parseInt(raw)
		if err != nil {
			return fmt.Errorf("%q is not an integer number of %s%s", raw, unitName(unit), rangeText(tag))
		}
		scale := time.Second
		if unit == "ms" {
			scale = time.Millisecond
		}
		limit := int64(math.MaxInt64 / scale)
		d = time.Duration(min(max(n, -limit), limit)) * scale // saturate; the range check below clamps or rejects
	default:
		var err error
		if d, err = time.ParseDuration(raw); err != nil {
			return fmt.Errorf("%q is not a duration with a unit such as 10s, 1500ms or 1m30s%s", raw, rangeText(tag))
		}
	}
	lo, hi, err := durationBounds(tag)
	if err != nil {
		return err
	}
	switch {
	case lo != nil && d < *lo, hi != nil && d > *hi:
		if tag.Get("clamp") != "true" {
			return fmt.Errorf("%s is outside %s", raw, rangeText(tag)[len("; allowed: "):])
		}
		c := min(max(d, deref(lo, d)), deref(hi, d))
		l.warns = append(l.warns, fmt.Sprintf("%s: %s is outside the allowed range; using %s", tag.Get("env"), raw, showDuration(c, tag.Get("unit"))))
		d = c
	}
	fv.SetInt(int64(d))
	return nil
}

// parseInt parses a decimal integer; a value beyond int64 saturates to the nearest int64 (as
// strconv reports it) so that the range check clamps or rejects it like any other out-of-range value.
func parseInt(raw string) (int64, error) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return n, nil
	}
	return n, err
}

func deref(p *time.Duration, d time.Duration) time.Duration {
	if p == nil {
		return d
	}
	return *p
}

func durationBounds(tag reflect.StructTag) (lo, hi *time.Duration, err error) {
	parse := func(s string) (*time.Duration, error) {
		if s == "" {
			return nil, nil
		}
		if s == "0" {
			return new(time.Duration), nil
		}
		d, err := time.ParseDuration(s)
		return &d, err
	}
	if lo, err = parse(tag.Get("min")); err != nil {
		return nil, nil, err
	}
	hi, err = parse(tag.Get("max"))
	return lo, hi, err
}

func showDuration(d time.Duration, unit string) string {
	switch unit {
	case "s":
		return strconv.FormatInt(int64(d/time.Second), 10)
	case "ms":
		return strconv.FormatInt(int64(d/time.Millisecond), 10)
	}
	return d.String()
}

func unitName(u string) string {
	if u == "ms" {
		return "milliseconds"
	}
	return "seconds"
}

func (l *loader) clampInt(n int64, tag reflect.StructTag) (int64, error) {
	lo, hasLo := intTag(tag, "min")
	hi, hasHi := intTag(tag, "max")
	if (hasLo && n < lo) || (hasHi && n > hi) {
		if tag.Get("clamp") != "true" {
			return n, fmt.Errorf("%d is outside %s", n, rangeText(tag)[len("; allowed: "):])
		}
		c := n
		if hasLo && c < lo {
			c = lo
		}
		if hasHi && c > hi {
			c = hi
		}
		l.warns = append(l.warns, fmt.Sprintf("%s: %d is outside the allowed range; using %d", tag.Get("env"), n, c))
		return c, nil
	}
	return n, nil
}

func (l *loader) clampFloat(f float64, tag reflect.StructTag) (float64, error) {
	lo, errLo := strconv.ParseFloat(tag.Get("min"), 64)
	hi, errHi := strconv.ParseFloat(tag.Get("max"), 64)
	if (errLo == nil && f < lo) || (errHi == nil && f > hi) {
		if tag.Get("clamp") != "true" {
			return f, fmt.Errorf("%g is outside %s", f, rangeText(tag)[len("; allowed: "):])
		}
		c := f
		if errLo == nil {
			c = math.Max(c, lo)
		}
		if errHi == nil {
			c = math.Min(c, hi)
		}
		l.warns = append(l.warns, fmt.Sprintf("%s: %g is outside the allowed range; using %g", tag.Get("env"), f, c))
		return c, nil
	}
	return f, nil
}

func intTag(tag reflect.StructTag, key string) (int64, bool) {
	n, err := strconv.ParseInt(tag.Get(key), 10, 64)
	return n, err == nil
}

// rangeText renders "; allowed: LO..HI" (or "≥ LO") from the tags, empty without bounds. Bounds of
// integer-unit durations are shown in the variable's unit (HC_POLL_INTERVAL_MS: 2000..30000).
func rangeText(tag reflect.StructTag) string {
	lo, hi := inUnit(tag.Get("min"), tag.Get("unit")), inUnit(tag.Get("max"), tag.Get("unit"))
	switch {
	case lo != "" && hi != "":
		return "; allowed: " + lo + ".." + hi
	case lo != "":
		return "; allowed: >= " + lo
	case hi != "":
		return "; allowed: <= " + hi
	}
	return ""
}

func allowedRange(tag reflect.StructTag, lo, hi int64) string {
	if r := rangeText(tag); r != "" {
		return r[len("; allowed: "):]
	}
	return fmt.Sprintf("%d..%d", lo, hi)
}

// finish applies the rules that involve more than one variable.
func (l *loader) finish() {
	c := l.cfg
	if c.API.HCPollInterval == 0 {
		// The reference falls back to the readiness interval when HC_POLL_INTERVAL_MS is unset.
		c.API.HCPollInterval = 10 * time.Second
		if v, ok := l.src("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S"); ok && strings.TrimSpace(v) != "" {
			c.API.HCPollInterval = min(max(c.Readiness.Interval, 2*time.Second), 30*time.Second)
			if c.API.HCPollInterval != c.Readiness.Interval {
				l.warns = append(l.warns, fmt.Sprintf("HC_POLL_INTERVAL_MS: unset, and APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S (%s) is outside 2s..30s; polling every %s", c.Readiness.Interval, c.API.HCPollInterval))
			}
		}
	}
	if m := c.Stats.MetricExtension; m != "" && m != "0" && m != "1" {
		l.warns = append(l.warns, fmt.Sprintf("APPMESH_METRIC_EXTENSION_VERSION: %q is not 1; the metrics extension stays disabled", c.Stats.MetricExtension))
	}
	var tracers []string
	for name, on := range map[string]bool{"ENABLE_ENVOY_XRAY_TRACING": c.Tracing.XRay, "ENABLE_ENVOY_DATADOG_TRACING": c.Tracing.Datadog, "ENABLE_ENVOY_JAEGER_TRACING": c.Tracing.Jaeger} {
		if on {
			tracers = append(tracers, name)
		}
	}
	if len(tracers) > 1 {
		slices.Sort(tracers)
		l.errs = append(l.errs, fmt.Errorf("%s: only a single envoy trace driver can be configured; enable only one of ENABLE_ENVOY_XRAY_TRACING, ENABLE_ENVOY_DATADOG_TRACING or ENABLE_ENVOY_JAEGER_TRACING", strings.Join(tracers, ", ")))
	}
	if v, ok := l.src("APPNET_AGENT_ADMIN_MODE"); ok && strings.TrimSpace(v) == "" {
		tcp := "tcp" // set but empty still starts the API, like the reference
		c.API.AdminMode = &tcp
	}
}

// inUnit converts a duration bound such as "2s" to the variable's integer unit ("2000" for ms).
func inUnit(bound, unit string) string {
	if bound == "" || (unit != "s" && unit != "ms") {
		return bound
	}
	d, err := time.ParseDuration(bound)
	if bound == "0" {
		d, err = 0, nil
	}
	if err != nil {
		return bound
	}
	return showDuration(d, unit)
}
