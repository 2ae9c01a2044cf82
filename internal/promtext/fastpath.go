package promtext

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
)

// The metrics-extension filter's fast path.
//
// expfmt's parser costs about 8 µs per series here (a byte-at-a-time state machine building
// protos), so a 100,000-series scrape would take most of a second against a 150 ms target.
// Envoy writes a narrow, regular subset of the text format: one block per family, a TYPE line,
// legacy names, quoted label values. For exactly that subset, renderFast parses a family block
// and renders it as expfmt.MetricFamilyToText would after normalize, byte for byte
// (FuzzFastPathMatchesExpfmt checks this). Anything outside the subset (HELP lines, summaries,
// quoted UTF-8 names, timestamps, odd histogram lines, escapes expfmt rejects, …) returns
// errUseExpfmt and that family goes through expfmt instead, so expfmt remains the definition of
// what is accepted and how it reads.

// errUseExpfmt: the block uses a part of the format the fast path leaves to expfmt.
var errUseExpfmt = errors.New("outside the fast path")

type fastLabel struct {
	name  []byte
	value []byte // unescaped, for ordering
	raw   []byte // as written between the quotes: already escaped as the output needs
}

type fastSeries struct {
	lo, hi int // its labels: fastFamily.labels[lo:hi], sorted by name
	kLo    int // its sort key: fastFamily.keys[kLo:kHi]
	kHi    int
	value  float64
	hist   *fastHistogram
}

type fastHistogram struct {
	bounds, counts []float64
	sum, count     float64
}

type fastFamily struct {
	name   []byte
	kind   dto.MetricType
	typed  bool
	labels []fastLabel
	series []fastSeries
	// keys holds each series' label values, each followed by a NUL: comparing two keys
	// bytewise orders series as comparing their values label by label does (values with a
	// NUL go to expfmt), in one memcmp.
	keys  []byte
	byKey map[string]int // histograms: series key → index in series
}

// fastScratch is the fast path's working memory, reused from one family to the next so a
// scrape allocates it once, at the size of its largest family.
type fastScratch struct {
	labels []fastLabel
	series []fastSeries
	keys   []byte
}

// renderFast appends the rendering of one family block (see splitter) to out, with the
// extension prefix stripped from the name. It returns errUseExpfmt for blocks outside the
// subset; other errors are the same as normalize's. scratch may be nil.
func renderFast(block []byte, family string, out []byte, scratch *fastScratch) ([]byte, dto.MetricType, error) {
	if scratch == nil {
		scratch = &fastScratch{}
	}
	f := fastFamily{name: []byte(family), kind: dto.MetricType_UNTYPED,
		labels: scratch.labels[:0], series: scratch.series[:0], keys: scratch.keys[:0]}
	defer func() { scratch.labels, scratch.series, scratch.keys = f.labels[:0], f.series[:0], f.keys[:0] }()
	if err := f.lines(block); err != nil {
		return out, 0, err
	}
	if len(f.series) == 0 {
		return out, f.kind, nil // an empty family is dropped, as Gather does
	}
	name := f.name[len(extensionPrefix):]
	if !model.LegacyValidation.IsValidMetricName(string(name)) {
		return out, 0, errUseExpfmt // would need quoting
	}
	if err := f.sort(); err != nil {
		return out, 0, err
	}
	return f.render(out, name), f.kind, nil
}

// lines parses a family block line by line.
func (f *fastFamily) lines(block []byte) error {
	for len(block) > 0 {
		line := block
		if i := bytes.IndexByte(block, '\n'); i >= 0 {
			line, block = block[:i], block[i+1:]
		} else {
			block = nil
		}
		if err := f.line(line); err != nil {
			return err
		}
	}
	return nil
}

func (f *fastFamily) line(line []byte) error {
	t := trimLeftBlankTab(line)
	if len(t) == 0 {
		return nil
	}
	if t[0] == '#' {
		return f.comment(t[1:])
	}
	name, rest, ok := legacyName(t)
	if !ok {
		return errUseExpfmt
	}
	suffix := ""
	switch {
	case bytes.Equal(name, f.name):
	case f.kind == dto.MetricType_HISTOGRAM && len(name) > len(f.name) && bytes.HasPrefix(name, f.name):
		suffix = string(name[len(f.name):])
	default:
		return errUseExpfmt // another family's sample: expfmt splits the block
	}
	if f.kind == dto.MetricType_HISTOGRAM && suffix == "" {
		return errUseExpfmt
	}
	rest = trimLeftBlankTab(rest)
	lo := len(f.labels)
	le, hasLe := math.NaN(), false
	if len(rest) > 0 && rest[0] == '{' {
		var err error
		rest, le, hasLe, err = f.labelSet(rest[1:])
		if err != nil {
			return err
		}
	}
	hi := len(f.labels)
	value, err := valueOnly(rest)
	if err != nil {
		return err
	}
	if f.kind != dto.MetricType_HISTOGRAM {
		if hasLe {
			return errUseExpfmt // only histograms treat le specially; keep it simple
		}
		kLo, kHi := f.key(lo, hi)
		f.series = append(f.series, fastSeries{lo: lo, hi: hi, kLo: kLo, kHi: kHi, value: value})
		return nil
	}
	return f.histogramLine(suffix, lo, hi, le, hasLe, value)
}

// comment handles "# TYPE name type"; other comments are ignored, HELP goes to expfmt.
func (f *fastFamily) comment(c []byte) error {
	c = trimLeftBlankTab(c)
	i := bytes.IndexAny(c, " \t")
	if i < 0 {
		return nil // a lone word: ignored, by expfmt too
	}
	switch string(c[:i]) {
	case "TYPE":
	case "HELP":
		return errUseExpfmt
	default:
		return nil
	}
	name, rest, ok := legacyName(trimLeftBlankTab(c[i:]))
	if !ok || !bytes.Equal(name, f.name) || f.typed || len(f.series) > 0 || len(rest) == 0 || (rest[0] != ' ' && rest[0] != '\t') {
		return errUseExpfmt
	}
	// expfmt takes the rest of the line, untrimmed at its end, case-insensitively.
	switch string(bytes.ToLower(trimLeftBlankTab(rest))) {
	case "counter":
		f.kind = dto.MetricType_COUNTER
	case "gauge":
		f.kind = dto.MetricType_GAUGE
	case "untyped":
		f.kind = dto.MetricType_UNTYPED
	case "histogram":
		f.kind = dto.MetricType_HISTOGRAM
		f.byKey = map[string]int{}
	default:
		return errUseExpfmt
	}
	f.typed = true
	return nil
}

// labelSet reads name="value" pairs after '{' up to '}', appending them to f.labels (le
// excluded for histograms), sorted by name, and returns what follows the '}'.
func (f *fastFamily) labelSet(s []byte) (rest []byte, le float64, hasLe bool, err error) {
	lo := len(f.labels)
	le = math.NaN()
	for {
		s = trimLeftBlankTab(s)
		if len(s) == 0 {
			return nil, le, false, errUseExpfmt
		}
		if s[0] == '}' {
			s = s[1:]
			break
		}
		n := 0
		for n < len(s) && isLabelChar(s[n], n == 0) {
			n++
		}
		if n == 0 {
			return nil, le, false, errUseExpfmt
		}
		name := s[:n]
		s = trimLeftBlankTab(s[n:])
		if len(s) == 0 || s[0] != '=' {
			return nil, le, false, errUseExpfmt
		}
		s = trimLeftBlankTab(s[1:])
		if len(s) == 0 || s[0] != '"' {
			return nil, le, false, errUseExpfmt
		}
		raw, value, after, ok := quoted(s[1:])
		if !ok || string(name) == model.MetricNameLabel {
			return nil, le, false, errUseExpfmt
		}
		if f.kind == dto.MetricType_HISTOGRAM && string(name) == model.BucketLabel {
			if hasLe {
				return nil, le, false, errUseExpfmt
			}
			// A NaN bound makes expfmt drop the line; leave that to it.
			if le, err = parseValue(value); err != nil || math.IsNaN(le) {
				return nil, le, false, errUseExpfmt
			}
			hasLe = true
		} else {
			f.labels = append(f.labels, fastLabel{name: name, value: value, raw: raw})
		}
		s = trimLeftBlankTab(after)
		if len(s) > 0 && s[0] == ',' {
			s = s[1:]
			continue
		}
		if len(s) > 0 && s[0] == '}' {
			s = s[1:]
			break
		}
		return nil, le, false, errUseExpfmt
	}
	ls := f.labels[lo:]
	// Few labels per series: insertion sort, no allocation.
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && bytes.Compare(ls[j].name, ls[j-1].name) < 0; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
	for i := 1; i < len(ls); i++ {
		if bytes.Equal(ls[i].name, ls[i-1].name) {
			return nil, le, false, errUseExpfmt // expfmt reports duplicate label names
		}
	}
	return s, le, hasLe, nil
}

// quoted reads a label value up to its closing quote. raw is the text as written; value is
// unescaped (a copy only when there are escapes). Escapes expfmt rejects, invalid UTF-8 and
// NUL bytes (see fastFamily.keys) are left to expfmt.
func quoted(s []byte) (raw, value, rest []byte, ok bool) {
	// One pass for the common case: plain ASCII up to the closing quote.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			return s[:i], s[:i], s[i+1:], true
		}
		if c == '\\' || c == 0 || c >= utf8.RuneSelf {
			break // escapes, NUL or UTF-8: the careful loop below
		}
	}
	var v []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			raw = s[:i]
			if !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
				return nil, nil, nil, false
			}
			return raw, v, s[i+1:], true
		case '\\':
			if i+1 >= len(s) {
				return nil, nil, nil, false
			}
			i++
			switch s[i] {
			case '\\', '"':
				v = append(v, s[i])
			case 'n':
				v = append(v, '\n')
			default:
				return nil, nil, nil, false // expfmt: invalid escape sequence
			}
		default:
			v = append(v, c)
		}
	}
	return nil, nil, nil, false
}

// valueOnly parses the sample value, which must end the line: timestamps go to expfmt.
func valueOnly(s []byte) (float64, error) {
	s = trimLeftBlankTab(s)
	if len(s) == 0 {
		return 0, errUseExpfmt
	}
	for _, c := range s {
		if c == ' ' || c == '\t' {
			return 0, errUseExpfmt
		}
	}
	v, err := parseValue(s)
	if err != nil {
		return 0, errUseExpfmt
	}
	return v, nil
}

// parseValue reads a float as expfmt does: strconv.ParseFloat without the forms it takes
// but the text format does not (hex exponents, digit separators).
func parseValue(s []byte) (float64, error) {
	if bytes.ContainsAny(s, "pP_") {
		return 0, errUseExpfmt
	}
	return strconv.ParseFloat(string(s), 64)
}

func (f *fastFamily) histogramLine(suffix string, lo, hi int, le float64, hasLe bool, value float64) error {
	key := string(seriesKeyBytes(f.labels[lo:hi]))
	i, ok := f.byKey[key]
	if !ok {
		i = len(f.series)
		f.byKey[key] = i
		kLo, kHi := f.key(lo, hi)
		f.series = append(f.series, fastSeries{lo: lo, hi: hi, kLo: kLo, kHi: kHi, hist: &fastHistogram{}})
	} else {
		f.labels = f.labels[:lo] // same labels as the series' first line
	}
	h := f.series[i].hist
	switch suffix {
	case "_bucket":
		if !hasLe || !validCount(value) {
			return errUseExpfmt
		}
		h.bounds = append(h.bounds, le)
		h.counts = append(h.counts, value)
	case "_sum":
		if hasLe {
			return errUseExpfmt
		}
		h.sum = value
	case "_count":
		if hasLe || !validCount(value) {
			return errUseExpfmt
		}
		h.count = value
	default:
		return errUseExpfmt
	}
	return nil
}

// key appends the sort key of the labels [lo:hi] to f.keys.
func (f *fastFamily) key(lo, hi int) (int, int) {
	kLo := len(f.keys)
	for _, l := range f.labels[lo:hi] {
		f.keys = append(f.keys, l.value...)
		f.keys = append(f.keys, 0)
	}
	return kLo, len(f.keys)
}

// validCount: counts expfmt stores without complaint and renders back unchanged.
func validCount(v float64) bool { return v >= 0 && v < 1<<63 }

func seriesKeyBytes(ls []fastLabel) []byte {
	var b []byte
	for _, l := range ls {
		b = append(b, l.name...)
		b = append(b, 0)
		b = append(b, l.value...)
		b = append(b, 0)
	}
	return b
}

// compareFast orders series a of f and b of g as normalize orders series: by label count,
// then label values in label-name order, then label names. f and g may be different
// families (deltatext.go merges two parses of one family).
func compareFast(f *fastFamily, a fastSeries, g *fastFamily, b fastSeries) int {
	la, lb := f.labels[a.lo:a.hi], g.labels[b.lo:b.hi]
	if len(la) != len(lb) {
		return len(la) - len(lb)
	}
	if c := bytes.Compare(f.keys[a.kLo:a.kHi], g.keys[b.kLo:b.kHi]); c != 0 {
		return c
	}
	for i := range la {
		if c := bytes.Compare(la[i].name, lb[i].name); c != 0 {
			return c
		}
	}
	return 0
}

// sort orders the series as normalize does and rejects duplicates with its message.
func (f *fastFamily) sort() error {
	cmp := func(a, b fastSeries) int { return compareFast(f, a, f, b) }
	// Ties are duplicates, an error either way, so stability does not matter. Envoy's own
	// order is often already right: checking costs one pass.
	if !slices.IsSortedFunc(f.series, cmp) {
		slices.SortFunc(f.series, cmp)
	}
	for i := 1; i < len(f.series); i++ {
		if cmp(f.series[i], f.series[i-1]) == 0 {
			m := &dto.Metric{}
			for _, l := range f.labels[f.series[i].lo:f.series[i].hi] {
				m.Label = append(m.Label, &dto.LabelPair{Name: strPtr(string(l.name)), Value: strPtr(string(l.value))})
			}
			return errDuplicateSeries(string(f.name[len(extensionPrefix):]), m)
		}
	}
	return nil
}

// legacyName reads a legacy metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) ending at '{', a blank, a
// tab or the end; anything else (a quoted name, a stray character) is not ok.
func legacyName(s []byte) (name, rest []byte, ok bool) {
	n := 0
	for n < len(s) {
		c := s[n]
		if c == ':' || isLabelChar(c, n == 0) {
			n++
			continue
		}
		break
	}
	if n == 0 || (n < len(s) && s[n] != '{' && s[n] != ' ' && s[n] != '\t') {
		return nil, nil, false
	}
	return s[:n], s[n:], true
}

func isLabelChar(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

func trimLeftBlankTab(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}
