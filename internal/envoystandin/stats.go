package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// stat is one counter or gauge. name is Envoy's full name; base and tags are the
// tag-extracted form Envoy uses for Prometheus (listener.0.0.0.0_15000.downstream_cx_active
// becomes envoy_listener_downstream_cx_active{envoy_listener_address="0.0.0.0_15000"}).
type stat struct {
	name  string
	base  string
	tags  [][2]string
	gauge bool
	value uint64
	used  bool
}

// histogram is a single-series histogram; the stand-in reports one so parsers meet
// Envoy's mixed JSON array and the histogram Prometheus family.
type histogram struct {
	name    string
	bounds  []float64
	samples []float64
}

var defaultBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000}

// statSet is what one /stats request sees.
type statSet struct {
	stats      []stat
	histograms []histogram
}

func counter(name string, v uint64) stat { return stat{name: name, base: name, value: v, used: v != 0} }
func gauge(name string, v uint64) stat {
	return stat{name: name, base: name, gauge: true, value: v, used: true}
}

// tagged builds a stat whose name embeds a tag value, as Envoy's tag extractors see it.
func tagged(s stat, prefix, tagValue, tagName string) stat {
	suffix := strings.TrimPrefix(s.name, prefix+".")
	s.name = prefix + "." + tagValue + "." + suffix
	s.base = prefix + "." + suffix
	s.tags = [][2]string{{tagName, tagValue}}
	return s
}

// mergeStatsText overlays "name: value" lines (STANDIN_STATS_FILE) on the set. Known names
// keep their type; new names become gauges so delta logic never differences them.
// Unparsable lines are ignored.
func (ss *statSet) mergeStatsText(text string) {
	index := map[string]int{}
	for i, s := range ss.stats {
		index[s.name] = i
	}
	for _, line := range strings.Split(text, "\n") {
		name, val, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if err != nil {
			continue
		}
		if i, ok := index[name]; ok {
			ss.stats[i].value, ss.stats[i].used = v, true
			continue
		}
		index[name] = len(ss.stats)
		ss.stats = append(ss.stats, stat{name: name, base: name, gauge: true, value: v, used: true})
	}
}

// statsQuery is the parsed query of /stats.
type statsQuery struct {
	filter   *regexp.Regexp
	usedOnly bool
	kind     string // "", "counters", "gauges", "histograms"
}

func (q statsQuery) keep(name string, used bool, kind string) bool {
	if q.usedOnly && !used {
		return false
	}
	if q.kind != "" && q.kind != "all" && q.kind != kind {
		return false
	}
	return q.filter == nil || q.filter.MatchString(name)
}

func (ss *statSet) selected(q statsQuery) ([]stat, []histogram) {
	var out []stat
	for _, s := range ss.stats {
		kind := "counters"
		if s.gauge {
			kind = "gauges"
		}
		if q.keep(s.name, s.used, kind) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	var hs []histogram
	for _, h := range ss.histograms {
		if q.keep(h.name, len(h.samples) > 0, "histograms") {
			hs = append(hs, h)
		}
	}
	return out, hs
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// quantile is a simple nearest-rank estimate; the values only need to look plausible.
func (h histogram) quantile(p float64) float64 {
	if len(h.samples) == 0 {
		return 0
	}
	s := append([]float64(nil), h.samples...)
	sort.Float64s(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

var quantiles = []float64{0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100}

func renderText(w io.Writer, ss *statSet, q statsQuery) error {
	bw := bufio.NewWriter(w)
	stats, hs := ss.selected(q)
	for _, s := range stats {
		fmt.Fprintf(bw, "%s: %d\n", s.name, s.value)
	}
	for _, h := range hs {
		fmt.Fprintf(bw, "%s:", h.name)
		for _, p := range quantiles {
			v := h.quantile(p)
			fmt.Fprintf(bw, " P%s(nan,%s)", fmtFloat(p), fmtFloat(v))
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

func renderJSON(w io.Writer, ss *statSet, q statsQuery) error {
	stats, hs := ss.selected(q)
	entries := make([]any, 0, len(stats)+1)
	for _, s := range stats {
		entries = append(entries, map[string]any{"name": s.name, "value": s.value})
	}
	if len(hs) > 0 {
		computed := []any{}
		for _, h := range hs {
			values := []any{}
			for _, p := range quantiles {
				values = append(values, map[string]any{"interval": nil, "cumulative": h.quantile(p)})
			}
			computed = append(computed, map[string]any{"name": h.name, "values": values})
		}
		entries = append(entries, map[string]any{"histograms": map[string]any{
			"supported_quantiles": quantiles, "computed_quantiles": computed}})
	}
	return json.NewEncoder(w).Encode(map[string]any{"stats": entries})
}

var promUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_:]`)

func promName(base string) string { return "envoy_" + promUnsafe.ReplaceAllString(base, "_") }

func promLabels(tags [][2]string, extra ...string) string {
	parts := make([]string, 0, len(tags)+1)
	for _, t := range tags {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(t[1])
		parts = append(parts, fmt.Sprintf(`%s="%s"`, promUnsafe.ReplaceAllString(t[0], "_"), v))
	}
	parts = append(parts, extra...)
	return "{" + strings.Join(parts, ",") + "}"
}

// renderPrometheus renders like Envoy: families sorted by name, one TYPE line each, and
// "{}" for series without labels (Envoy prints it; strict parsers must cope).
func renderPrometheus(w io.Writer, ss *statSet, q statsQuery) error {
	bw := bufio.NewWriter(w)
	stats, hs := ss.selected(q)
	type family struct {
		kind  string
		lines []string
	}
	families := map[string]*family{}
	for _, s := range stats {
		name, kind := promName(s.base), "counter"
		if s.gauge {
			kind = "gauge"
		}
		f := families[name]
		if f == nil {
			f = &family{kind: kind}
			families[name] = f
		}
		f.lines = append(f.lines, fmt.Sprintf("%s%s %d", name, promLabels(s.tags), s.value))
	}
	for _, h := range hs {
		name := promName(h.name)
		f := &family{kind: "histogram"}
		sum := 0.0
		for _, v := range h.samples {
			sum += v
		}
		for _, b := range h.bounds {
			n := 0
			for _, v := range h.samples {
				if v <= b {
					n++
				}
			}
			f.lines = append(f.lines, fmt.Sprintf(`%s_bucket{le="%s"} %d`, name, fmtFloat(b), n))
		}
		f.lines = append(f.lines, fmt.Sprintf(`%s_bucket{le="+Inf"} %d`, name, len(h.samples)),
			fmt.Sprintf("%s_sum{} %s", name, fmtFloat(sum)), fmt.Sprintf("%s_count{} %d", name, len(h.samples)))
		families[name] = f
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := families[n]
		if f.kind != "histogram" {
			sort.Strings(f.lines)
		}
		fmt.Fprintf(bw, "# TYPE %s %s\n", n, f.kind)
		for _, l := range f.lines {
			bw.WriteString(l)
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}
