package promtext

import (
	"math"
	"strconv"

	dto "github.com/prometheus/client_model/go"
)

// Rendering for the fast path (fastpath.go): the same bytes expfmt.MetricFamilyToText writes
// for a normalised family.

var typeNames = map[dto.MetricType]string{
	dto.MetricType_COUNTER: "counter", dto.MetricType_GAUGE: "gauge",
	dto.MetricType_UNTYPED: "untyped", dto.MetricType_HISTOGRAM: "histogram",
}

// render writes the family as MetricFamilyToText does, preceded by an empty line.
func (f *fastFamily) render(out, name []byte) []byte {
	out = append(out, "\n# TYPE "...)
	out = append(out, name...)
	out = append(out, ' ')
	out = append(out, typeNames[f.kind]...)
	out = append(out, '\n')
	for _, s := range f.series {
		ls := f.labels[s.lo:s.hi]
		if s.hist == nil {
			out = sampleLine(out, name, "", ls, math.NaN(), false, s.value)
			continue
		}
		h, inf := s.hist, false
		for i, b := range h.bounds {
			out = sampleLine(out, name, "_bucket", ls, b, true, h.counts[i])
			inf = inf || math.IsInf(b, +1)
		}
		if !inf {
			out = sampleLine(out, name, "_bucket", ls, math.Inf(+1), true, h.count)
		}
		out = sampleLine(out, name, "_sum", ls, math.NaN(), false, h.sum)
		out = sampleLine(out, name, "_count", ls, math.NaN(), false, h.count)
	}
	return out
}

func sampleLine(out, name []byte, suffix string, ls []fastLabel, le float64, hasLe bool, v float64) []byte {
	out = append(out, name...)
	out = append(out, suffix...)
	if len(ls) > 0 || hasLe {
		sep := byte('{')
		for _, l := range ls {
			out = append(out, sep)
			out = append(out, l.name...)
			out = append(out, '=', '"')
			out = append(out, l.raw...)
			out = append(out, '"')
			sep = ','
		}
		if hasLe {
			out = append(out, sep)
			out = append(out, `le="`...)
			out = appendFloat(out, le)
			out = append(out, '"')
		}
		out = append(out, '}')
	}
	out = append(out, ' ')
	out = appendFloat(out, v)
	return append(out, '\n')
}

// appendFloat formats like the exposition writer: shortest 'g', +Inf/-Inf/NaN, and no -0.
func appendFloat(out []byte, f float64) []byte {
	switch {
	case f == 0:
		return append(out, '0')
	case f > -1e6 && f < 1e6 && f == math.Trunc(f):
		// Small integers, most counters: 'g' prints them as integers (exponent < 6).
		return strconv.AppendInt(out, int64(f), 10)
	case math.IsNaN(f):
		return append(out, "NaN"...)
	case math.IsInf(f, +1):
		return append(out, "+Inf"...)
	case math.IsInf(f, -1):
		return append(out, "-Inf"...)
	}
	return strconv.AppendFloat(out, f, 'g', -1, 64)
}
