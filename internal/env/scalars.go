package env

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

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
	if fv.Type() == reflect.TypeOf(durationType) {
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
		n, err := l.integer(raw, tag, math.MinInt64, math.MaxInt64)
		if err != nil {
			return err
		}
		fv.SetInt(n)
	case reflect.Uint16, reflect.Uint32:
		n, err := l.integer(raw, tag, 0, int64(1)<<fv.Type().Bits()-1)
		if err != nil {
			return err
		}
		fv.SetUint(uint64(n))
	case reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return fmt.Errorf("%s is beyond the range of a number%s", raw, rangeText(tag))
		case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
			return fmt.Errorf("%q is not a number%s", raw, rangeText(tag))
		}
		lo, hi := floatBounds(tag)
		c, err := bound(l, raw, f, lo, hi, tag, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) })
		if err != nil {
			return err
		}
		fv.SetFloat(c)
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type()) // programming error, caught by tests
	}
	return nil
}

// integer parses a decimal integer and applies the tag's range within [typeMin, typeMax],
// the field type's own range. A value beyond int64 is out of range like any other: clamped
// when the tag says so, else rejected; either way the message quotes the value as given.
func (l *loader) integer(raw string, tag reflect.StructTag, typeMin, typeMax int64) (int64, error) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is not an integer%s", raw, rangeText(tag))
	}
	lo, hi := intBounds(tag)
	if lo == nil && typeMin != math.MinInt64 {
		lo = &typeMin
	}
	if hi == nil && typeMax != math.MaxInt64 {
		hi = &typeMax
	}
	show := func(v int64) string { return strconv.FormatInt(v, 10) }
	if errors.Is(err, strconv.ErrRange) {
		// ParseInt saturated it to the nearest int64: the value is beyond every bound.
		if lo == nil && hi == nil || tag.Get("clamp") != "true" {
			return 0, fmt.Errorf("%s is outside %s", raw, boundsText(lo, hi, show))
		}
	}
	return bound(l, raw, n, lo, hi, tag, show)
}

// bound checks v against [lo, hi] (nil: unbounded). Out of range, it is clamped to the
// nearest bound with a warning when the tag says clamp (R5), else rejected. Messages quote
// raw, the value as given, never a converted one.
func bound[T int64 | float64 | time.Duration](l *loader, raw string, v T, lo, hi *T, tag reflect.StructTag, show func(T) string) (T, error) {
	if (lo == nil || v >= *lo) && (hi == nil || v <= *hi) {
		return v, nil
	}
	allowed := boundsText(lo, hi, show)
	if tag.Get("clamp") != "true" {
		return v, fmt.Errorf("%s is outside %s", raw, allowed)
	}
	c := v
	if lo != nil && c < *lo {
		c = *lo
	}
	if hi != nil && c > *hi {
		c = *hi
	}
	l.warn(fmt.Sprintf("%s: %s is outside the allowed range %s; using %s", tag.Get("env"), raw, allowed, show(c)))
	return c, nil
}

func boundsText[T int64 | float64 | time.Duration](lo, hi *T, show func(T) string) string {
	switch {
	case lo != nil && hi != nil:
		return show(*lo) + ".." + show(*hi)
	case lo != nil:
		return ">= " + show(*lo)
	case hi != nil:
		return "<= " + show(*hi)
	}
	return "the range of a 64-bit integer"
}

func setString(fv reflect.Value, tag reflect.StructTag, raw string) error {
	if allowed := tag.Get("oneof"); allowed != "" {
		v, err := oneOf(raw, allowed)
		if err != nil {
			return err
		}
		raw = v
	}
	fv.SetString(raw)
	return nil
}

// oneOf returns raw lower-cased when it is one of the comma-separated allowed values (compared
// case-insensitively), else an error listing them.
func oneOf(raw, allowed string) (string, error) {
	lower := strings.ToLower(raw)
	for _, a := range strings.Split(allowed, ",") {
		if lower == a {
			return lower, nil
		}
	}
	return "", fmt.Errorf("%q is not allowed; allowed: %s", raw, strings.ReplaceAll(allowed, ",", ", "))
}
