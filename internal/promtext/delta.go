package promtext

import (
	dto "github.com/prometheus/client_model/go"
)

// computeDelta returns what changed from the snapshot old to the snapshot cur
// (the reference agent's delta, with its negative and wrapped values fixed):
//
//   - no old snapshot (the first one, or the first after an Envoy restart): cur itself, the
//     cumulative values;
//   - families only in cur, and series only in cur, pass through at their full value;
//     families and series that disappeared are dropped;
//   - counters: cur − old; a counter that went down was reset (Envoy restarted between the
//     snapshots without the agent noticing), so its delta is its new value;
//   - histograms: count, sum and each cumulative bucket count differenced when the buckets
//     match and nothing went down; otherwise the new histogram;
//   - gauges and untyped values: the new value, never differenced; summaries likewise, since
//     quantiles cannot be differenced.
//
// Both inputs are normalised families; neither is modified, and the result may share their
// immutable parts.
func computeDelta(old, cur []*dto.MetricFamily) []*dto.MetricFamily {
	if old == nil {
		return cur
	}
	oldByName := make(map[string]*dto.MetricFamily, len(old))
	for _, f := range old {
		oldByName[f.GetName()] = f
	}
	out := make([]*dto.MetricFamily, 0, len(cur))
	for _, nf := range cur {
		of := oldByName[nf.GetName()]
		if of == nil || of.GetType() != nf.GetType() {
			out = append(out, nf)
			continue
		}
		oldSeries := make(map[string]*dto.Metric, len(of.Metric))
		for _, m := range of.Metric {
			oldSeries[seriesKey(m)] = m
		}
		df := &dto.MetricFamily{Name: nf.Name, Help: nf.Help, Type: nf.Type, Unit: nf.Unit,
			Metric: make([]*dto.Metric, 0, len(nf.Metric))}
		for _, m := range nf.Metric {
			df.Metric = append(df.Metric, deltaSeries(nf.GetType(), m, oldSeries[seriesKey(m)]))
		}
		out = append(out, df)
	}
	return out
}

func deltaSeries(kind dto.MetricType, m, old *dto.Metric) *dto.Metric {
	if old == nil {
		return m
	}
	switch kind {
	case dto.MetricType_COUNTER:
		if m.Counter == nil || old.Counter == nil {
			return m
		}
		v := m.Counter.GetValue() - old.Counter.GetValue()
		if v < 0 {
			return m
		}
		return &dto.Metric{Label: m.Label, TimestampMs: m.TimestampMs, Counter: &dto.Counter{Value: &v}}
	case dto.MetricType_HISTOGRAM:
		if h := histogramDelta(m.Histogram, old.Histogram); h != nil {
			return &dto.Metric{Label: m.Label, TimestampMs: m.TimestampMs, Histogram: h}
		}
	}
	return m
}

// histogramDelta is nil when the two histograms cannot be differenced: different buckets,
// or a count that went down (a reset).
func histogramDelta(cur, old *dto.Histogram) *dto.Histogram {
	if cur == nil || old == nil || len(cur.Bucket) != len(old.Bucket) || cur.GetSampleCount() < old.GetSampleCount() {
		return nil
	}
	buckets := make([]*dto.Bucket, len(cur.Bucket))
	for i, b := range cur.Bucket {
		ob := old.Bucket[i]
		if b.GetUpperBound() != ob.GetUpperBound() || b.GetCumulativeCount() < ob.GetCumulativeCount() {
			return nil
		}
		n, ub := b.GetCumulativeCount()-ob.GetCumulativeCount(), b.GetUpperBound()
		buckets[i] = &dto.Bucket{CumulativeCount: &n, UpperBound: &ub}
	}
	count := cur.GetSampleCount() - old.GetSampleCount()
	sum := cur.GetSampleSum() - old.GetSampleSum()
	return &dto.Histogram{SampleCount: &count, SampleSum: &sum, Bucket: buckets}
}
