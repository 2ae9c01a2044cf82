package promtext

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Normalize puts a family in the canonical order Prometheus' Gather gives (label pairs by
// name, series by label values) and rejects what Gather rejects and a scraper could not
// ingest: repeated label names and duplicate series.
func Normalize(mf *dto.MetricFamily) error {
	for _, m := range mf.Metric {
		sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		for i := 1; i < len(m.Label); i++ {
			if m.Label[i].GetName() == m.Label[i-1].GetName() {
				return fmt.Errorf("family %s: label %s repeated in one series", mf.GetName(), m.Label[i].GetName())
			}
		}
	}
	sort.SliceStable(mf.Metric, func(i, j int) bool { return compareSeries(mf.Metric[i], mf.Metric[j]) < 0 })
	for i := 1; i < len(mf.Metric); i++ {
		if sameLabels(mf.Metric[i], mf.Metric[i-1]) {
			return errDuplicateSeries(mf.GetName(), mf.Metric[i])
		}
	}
	return nil
}

func errDuplicateSeries(family string, m *dto.Metric) error {
	return fmt.Errorf("family %s: duplicate series %s", family, seriesKey(m))
}

// compareSeries orders series by their label values in label-name order; series with fewer
// labels first when the sets differ in size, then by label names.
func compareSeries(a, b *dto.Metric) int {
	if len(a.Label) != len(b.Label) {
		return len(a.Label) - len(b.Label)
	}
	for i := range a.Label {
		if c := strings.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	for i := range a.Label {
		if c := strings.Compare(a.Label[i].GetName(), b.Label[i].GetName()); c != 0 {
			return c
		}
	}
	return 0
}

func sameLabels(a, b *dto.Metric) bool {
	if len(a.Label) != len(b.Label) {
		return false
	}
	for i := range a.Label {
		if a.Label[i].GetName() != b.Label[i].GetName() || a.Label[i].GetValue() != b.Label[i].GetValue() {
			return false
		}
	}
	return true
}

// seriesKey identifies a series within its family (labels sorted by normalize). The
// separators cannot occur in label names and are escaped in values by %q.
func seriesKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.Label {
		b.WriteString(l.GetName())
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.GetValue()))
		b.WriteByte(',')
	}
	return b.String()
}

// Exposition collects rendered families, as the reference agent serves them: each family
// preceded by an empty line, then its text exposition (# HELP only when Envoy sent help,
// which it does not). Each family is its own chunk, so no buffer of the whole output is
// ever regrown.
type Exposition struct {
	parts []Family
}

// Family is one rendered family of an Exposition: its text, preceded by an empty line, with
// its name and type.
type Family struct {
	name string
	kind dto.MetricType
	data []byte
}

// add renders one normalised family.
func (ft *Exposition) add(mf *dto.MetricFamily) error {
	if len(mf.Metric) == 0 {
		return nil // Gather drops empty families
	}
	var b bytes.Buffer
	b.WriteByte('\n')
	if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
		return fmt.Errorf("family %s: %w", mf.GetName(), err)
	}
	ft.parts = append(ft.parts, Family{name: mf.GetName(), kind: mf.GetType(), data: b.Bytes()})
	return nil
}

// chunks returns the exposition in family-name order and its length, after the checks
// Gather makes (see sorted).
func (ft *Exposition) chunks() ([][]byte, int, error) {
	parts, err := ft.Sorted()
	if err != nil {
		return nil, 0, err
	}
	out := Texts(parts)
	n := 0
	for _, c := range out {
		n += len(c)
	}
	return out, n, nil
}

// Sorted returns the families in name order after the checks Gather makes: a family
// name used twice, or a family colliding with a histogram's or summary's _sum, _count or
// _bucket series, is an error rather than an ambiguous output.
func (ft *Exposition) Sorted() ([]Family, error) {
	sort.Slice(ft.parts, func(i, j int) bool { return ft.parts[i].name < ft.parts[j].name })
	names := make(map[string]bool, len(ft.parts))
	for i, p := range ft.parts {
		if i > 0 && ft.parts[i-1].name == p.name {
			return nil, fmt.Errorf("family %s appears twice", p.name)
		}
		names[p.name] = true
	}
	for _, p := range ft.parts {
		if p.kind != dto.MetricType_HISTOGRAM && p.kind != dto.MetricType_SUMMARY {
			continue
		}
		for _, suffix := range []string{"_sum", "_count", "_bucket"} {
			if names[p.name+suffix] {
				return nil, fmt.Errorf("family %s collides with the %s series of %s", p.name+suffix, suffix, p.name)
			}
		}
	}
	return ft.parts, nil
}

// Size is the rendered text's length in bytes (0 for nil).
func (ft *Exposition) Size() int {
	if ft == nil {
		return 0
	}
	n := 0
	for _, p := range ft.parts {
		n += len(p.data)
	}
	return n
}

// Texts is the families' texts, in order: the exposition, in chunks.
func Texts(parts []Family) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = p.data
	}
	return out
}

// bytes is chunks joined.
func (ft *Exposition) bytes() ([]byte, error) {
	chunks, n, err := ft.chunks()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// Render renders normalised families (see Normalize) as an Exposition does, sorted by name,
// in one buffer.
func Render(fams []*dto.MetricFamily) ([]byte, error) {
	var ft Exposition
	for _, mf := range fams {
		if err := ft.add(mf); err != nil {
			return nil, err
		}
	}
	return ft.bytes()
}
