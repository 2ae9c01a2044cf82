package env

import (
	"reflect"
	"strconv"
	"time"
)

// intBounds reads the min and max tags of an integer variable; nil when absent.
func intBounds(tag reflect.StructTag) (lo, hi *int64) {
	parse := func(key string) *int64 {
		n, err := strconv.ParseInt(tag.Get(key), 10, 64)
		if err != nil {
			return nil
		}
		return &n
	}
	return parse("min"), parse("max")
}

// floatBounds reads the min and max tags of a number variable; nil when absent.
func floatBounds(tag reflect.StructTag) (lo, hi *float64) {
	parse := func(key string) *float64 {
		f, err := strconv.ParseFloat(tag.Get(key), 64)
		if err != nil {
			return nil
		}
		return &f
	}
	return parse("min"), parse("max")
}

// rangeText renders "; allowed: LO..HI" (or ">= LO", "<= HI") from the tags, empty without
// bounds, for parse errors and the variable table. Bounds of integer-unit durations are shown
// in the variable's unit (HC_POLL_INTERVAL_MS: 2000..30000).
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

// inUnit converts a duration bound such as "2s" to the variable's integer unit ("2000" for ms).
func inUnit(bound, unit string) string {
	if bound == "" || (unit != "s" && unit != "ms") {
		return bound
	}
	d, err := parseBound(bound)
	if err != nil {
		return bound
	}
	return showDuration(d, unit)
}

// parseBound parses a duration bound tag: Go syntax, or "0".
func parseBound(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(s)
}
