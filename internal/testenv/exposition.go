package testenv

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Exposition is a parsed Prometheus text exposition: family name → family.
type Exposition map[string]*dto.MetricFamily

// ParseExposition parses body (metric names of the classic character set) after checking it
// with promlint, the rules of `promtool check metrics`: a lint problem is an error too.
func ParseExposition(body string) (Exposition, error) {
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("lint: %v", problems)
	}
	return ParseText(body)
}

// ParseText parses body (metric names of the classic character set) without linting it:
// Envoy's own output breaks the naming rules.
func ParseText(body string) (Exposition, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	return Exposition(fams), err
}

// Value is the value of the series of family name with exactly the given label pairs
// ("name", "value", ...); ok is false when there is none.
func (e Exposition) Value(name string, labelPairs ...string) (v float64, ok bool) {
	for _, m := range e[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := len(have) == len(labelPairs)/2
		for i := 0; match && i+1 < len(labelPairs); i += 2 {
			match = have[labelPairs[i]] == labelPairs[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Label is the value of label name on the first series of family fam ("" when none).
func (e Exposition) Label(fam, name string) string {
	for _, m := range e[fam].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
	}
	return ""
}
