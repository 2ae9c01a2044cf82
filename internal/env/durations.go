package env

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// durationType identifies time.Duration fields, which are parsed by setDuration.
var durationType time.Duration

// setDuration parses integers in the tag's unit ("s" or "ms"), or Go duration syntax without
// one, and applies the range.
func (l *loader) setDuration(fv reflect.Value, tag reflect.StructTag, raw string) error {
	unit := tag.Get("unit")
	lo, hi, err := durationBounds(tag)
	if err != nil {
		return err
	}
	show := func(d time.Duration) string { return showDuration(d, unit) }
	var d time.Duration
	switch unit {
	case "s", "ms":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("%q is not an integer number of %s%s", raw, unitName(unit), rangeText(tag))
		}
		scale := time.Second
		if unit == "ms" {
			scale = time.Millisecond
		}
		limit := int64(math.MaxInt64 / scale)
		if errors.Is(err, strconv.ErrRange) || n > limit || n < -limit {
			if tag.Get("clamp") != "true" || (lo == nil && hi == nil) {
				// time.Duration holds about 292 years; Envoy would accept more, so this is
				// refused rather than silently shortened.
				return fmt.Errorf("%s %s is more than the agent can represent (at most %d %s, about 292 years)%s",
					raw, unitName(unit), limit, unitName(unit), rangeText(tag))
			}
			n = min(max(n, -limit), limit) // beyond every bound: clamped below, quoting raw
		}
		d = time.Duration(n) * scale
	default:
		if d, err = time.ParseDuration(raw); err != nil {
			return fmt.Errorf("%q is not a duration with a unit such as 10s, 1500ms or 1m30s (at most about 292 years)%s", raw, rangeText(tag))
		}
	}
	c, err := bound(l, raw, d, lo, hi, tag, show)
	if err != nil {
		return err
	}
	fv.SetInt(int64(c))
	return nil
}

func durationBounds(tag reflect.StructTag) (lo, hi *time.Duration, err error) {
	parse := func(s string) (*time.Duration, error) {
		if s == "" {
			return nil, nil
		}
		d, err := parseBound(s)
		return &d, err
	}
	if lo, err = parse(tag.Get("min")); err != nil {
		return nil, nil, err
	}
	hi, err = parse(tag.Get("max"))
	return lo, hi, err
}

// showDuration renders d in the variable's unit: whole seconds or milliseconds, or Go syntax.
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
