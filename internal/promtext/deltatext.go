package promtext

import (
	"bytes"
	"errors"
	"fmt"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Snapshots are kept as text: the filtered families exactly as /stats/prometheus?filter
// serves them, one part per family in name order. That is about the size of Envoy's body,
// where parsed families (dto) took more than ten times as much. The delta between two
// snapshots is computed one family at a time — each family parsed (by the fast path, or
// expfmt for what it leaves), differenced with computeDelta's rules and rendered — so only
// the largest family is ever held parsed.

// Delta returns the delta of cur against old (both sorted by name, as Sorted leaves
// them) under computeDelta's rules. Families that are not differenced (gauges, untyped,
// summaries, new families) are shared with cur, not copied. It consumes old: each family's
// text is dropped once used, so the old snapshot shrinks as the delta grows.
func Delta(old, cur []Family) ([]Family, error) {
	byName := make(map[string]*Family, len(old))
	for i := range old {
		byName[old[i].name] = &old[i]
	}
	out := make([]Family, 0, len(cur))
	var scratch [2]fastScratch
	for _, p := range cur {
		o := byName[p.name]
		if o == nil || o.kind != p.kind || (p.kind != dto.MetricType_COUNTER && p.kind != dto.MetricType_HISTOGRAM) {
			out = append(out, p)
			continue
		}
		data, err := deltaFamilyFast(o.data, p.data, p.name, &scratch)
		if errors.Is(err, errUseExpfmt) {
			data, err = deltaFamilyExpfmt(o.data, p.data)
		}
		if err != nil {
			return nil, fmt.Errorf("family %s: %w", p.name, err)
		}
		o.data = nil
		out = append(out, Family{name: p.name, kind: p.kind, data: data})
	}
	return out, nil
}

// deltaFamilyFast differences one family's canonical text with the fast path's parser.
func deltaFamilyFast(old, cur []byte, name string, scratch *[2]fastScratch) ([]byte, error) {
	of, err := parseFastFamily(old, name, &scratch[0])
	if err != nil {
		return nil, err
	}
	cf, err := parseFastFamily(cur, name, &scratch[1])
	if err != nil {
		return nil, err
	}
	defer func() { scratch[0].keep(of); scratch[1].keep(cf) }()
	// Both parses are sorted the same way: walk them side by side.
	j := 0
	for i := range cf.series {
		s := &cf.series[i]
		for j < len(of.series) && compareFast(of, of.series[j], cf, *s) < 0 {
			j++ // a series that disappeared
		}
		if j == len(of.series) || compareFast(of, of.series[j], cf, *s) != 0 {
			continue // a new series: its full value
		}
		o := of.series[j]
		switch {
		case s.hist == nil && o.hist == nil:
			if v := s.value - o.value; v >= 0 { // down: reset, the new value is the delta
				s.value = v
			}
		case s.hist != nil && o.hist != nil:
			fastHistogramDelta(s.hist, o.hist) // or, when it cannot, the new histogram
		}
	}
	return cf.render(make([]byte, 0, len(cur)), []byte(name)), nil
}

// fastHistogramDelta is histogramDelta on the fast path's histograms: it differences cur in
// place (cur is a fresh parse) and reports whether it could.
func fastHistogramDelta(cur, old *fastHistogram) bool {
	if len(cur.bounds) != len(old.bounds) || cur.count < old.count {
		return false
	}
	for i := range cur.counts {
		if cur.bounds[i] != old.bounds[i] || cur.counts[i] < old.counts[i] {
			return false
		}
	}
	for i := range cur.counts {
		cur.counts[i] -= old.counts[i]
	}
	cur.sum -= old.sum
	cur.count -= old.count
	return true
}

// parseFastFamily parses one family's canonical text (as rendered for the filter) with the
// fast path. It returns errUseExpfmt for what the fast path leaves to expfmt.
func parseFastFamily(block []byte, name string, scratch *fastScratch) (*fastFamily, error) {
	f := &fastFamily{name: []byte(name), kind: dto.MetricType_UNTYPED,
		labels: scratch.labels[:0], series: scratch.series[:0], keys: scratch.keys[:0]}
	if err := f.lines(block); err != nil {
		return nil, err
	}
	if err := f.sort(); err != nil {
		return nil, err
	}
	return f, nil
}

// keep hands a parsed family's buffers back for the next one.
func (s *fastScratch) keep(f *fastFamily) {
	if f != nil {
		s.labels, s.series, s.keys = f.labels[:0], f.series[:0], f.keys[:0]
	}
}

// deltaFamilyExpfmt differences one family's canonical text with expfmt and computeDelta,
// for the families the fast path leaves to expfmt.
func deltaFamilyExpfmt(old, cur []byte) ([]byte, error) {
	of, err := parseCanonical(old)
	if err != nil {
		return nil, err
	}
	cf, err := parseCanonical(cur)
	if err != nil {
		return nil, err
	}
	var ft Exposition
	for _, mf := range computeDelta([]*dto.MetricFamily{of}, []*dto.MetricFamily{cf}) {
		if err := ft.add(mf); err != nil {
			return nil, err
		}
	}
	return ft.bytes()
}

// parseCanonical parses one family's canonical text with expfmt.
func parseCanonical(data []byte) (*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if len(fams) != 1 {
		return nil, fmt.Errorf("%d families in one part", len(fams))
	}
	for _, mf := range fams {
		return mf, Normalize(mf)
	}
	return nil, nil
}
