package render

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/template"
)

// builtinOverrides replace text/template's printing and escaping builtins with the same
// functions as ordinary template functions, so they are guarded like sprig's: chained in a
// loop ({{$s = print $s $s}}) they double a string each time.
var builtinOverrides = template.FuncMap{
	"print":    fmt.Sprint,
	"printf":   fmt.Sprintf,
	"println":  fmt.Sprintln,
	"html":     template.HTMLEscaper,
	"js":       template.JSEscaper,
	"urlquery": template.URLQueryEscaper,
}

// prechecks are the functions whose result can be far larger than their arguments: each is
// checked before it allocates. The argument types are the functions' own (sprig's signatures).
var prechecks = map[string]func(args []reflect.Value) error{
	"repeat": func(a []reflect.Value) error { // repeat(count int, str string)
		return within(a[0].Int(), int64(a[1].Len()), 0)
	},
	"until": func(a []reflect.Value) error { // until(count int) []int
		return withinItems(abs(a[0].Int()))
	},
	"untilStep": func(a []reflect.Value) error { // untilStep(start, stop, step int) []int
		return withinItems(steps(a[0].Int(), a[1].Int(), a[2].Int()))
	},
	"seq": func(a []reflect.Value) error { // seq(params ...int) string
		p := a[0]
		switch p.Len() {
		case 1:
			return withinItems(abs(p.Index(0).Int()))
		case 2:
			return withinItems(abs(p.Index(1).Int() - p.Index(0).Int()))
		case 3:
			return withinItems(steps(p.Index(0).Int(), p.Index(2).Int(), p.Index(1).Int()))
		}
		return nil
	},
	"indent":  indentCheck, // indent(spaces int, v string)
	"nindent": indentCheck,
	"replace": func(a []reflect.Value) error { // replace(old, new, src string)
		old, repl, src := a[0].String(), a[1].String(), a[2].String()
		n := len(src) + 1
		if old != "" {
			n = strings.Count(src, old)
		}
		return within(int64(n), int64(len(repl)), int64(len(src)))
	},
	"regexReplaceAll":            regexReplaceCheck, // (regex, s, repl string)
	"mustRegexReplaceAll":        regexReplaceCheck,
	"regexReplaceAllLiteral":     regexReplaceCheck,
	"mustRegexReplaceAllLiteral": regexReplaceCheck,
	"join": func(a []reflect.Value) error { // join(sep string, v interface{})
		items := reflect.ValueOf(a[1].Interface())
		if items.Kind() != reflect.Slice && items.Kind() != reflect.Array {
			return nil
		}
		return within(int64(items.Len()), int64(a[0].Len()), 0)
	},
	"wrapWith": func(a []reflect.Value) error { // wrapWith(length int, sep, str string)
		return within(int64(a[2].Len())/max(a[0].Int(), 1)+1, int64(a[1].Len()), int64(a[2].Len()))
	},
	"printf": func(a []reflect.Value) error { // printf(format string, args ...any)
		return formatCheck(a[0].String(), a[1])
	},
}

func indentCheck(a []reflect.Value) error {
	lines := int64(strings.Count(a[1].String(), "\n") + 1)
	return within(lines, max(a[0].Int(), 0), int64(a[1].Len()))
}

// regexReplaceCheck bounds the result by a replacement at every position; $ expansions may
// repeat the input in each.
func regexReplaceCheck(a []reflect.Value) error {
	s, repl := a[1].String(), a[2].String()
	each := int64(len(repl)) + int64(strings.Count(repl, "$"))*int64(len(s))
	return within(int64(len(s))+1, each, int64(len(s)))
}

// formatCheck refuses a printf width or precision beyond the limit (fmt would pad to it).
func formatCheck(format string, args reflect.Value) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[j]) >= 0 {
			j++
		}
		for _, f := range strings.FieldsFunc(format[i+1:j], func(r rune) bool { return r < '0' || r > '9' }) {
			if n, err := strconv.Atoi(f); err != nil || n > MaxRenderedBytes {
				return fmt.Errorf("width or precision %s in %q is larger than %d MiB", f, format, MaxRenderedBytes>>20)
			}
		}
		if strings.Contains(format[i+1:j], "*") {
			for k := 0; k < args.Len(); k++ {
				if v := reflect.ValueOf(args.Index(k).Interface()); v.CanInt() && abs(v.Int()) > MaxRenderedBytes {
					return fmt.Errorf("a * width or precision of %d is larger than %d MiB", v.Int(), MaxRenderedBytes>>20)
				}
			}
		}
		i = j
	}
	return nil
}

// within refuses a result of count pieces of each bytes, plus base, beyond MaxRenderedBytes.
func within(count, each, base int64) error {
	if count > 0 && each > 0 && (count > MaxRenderedBytes/each || count*each+base > MaxRenderedBytes) {
		return fmt.Errorf("its result would hold more than %d MiB", MaxRenderedBytes>>20)
	}
	return nil
}

// withinItems refuses a list of n numbers beyond MaxRenderedBytes (8 bytes each).
func withinItems(n int64) error { return within(n, 8, 0) }

// steps is how many numbers untilStep(start, stop, step) makes, saturated at MaxInt64.
func steps(start, stop, step int64) int64 {
	if step == 0 {
		return 0
	}
	n := (float64(stop) - float64(start)) / float64(step)
	if n < 0 {
		n = -n
	}
	return int64(min(n, math.MaxInt64/2))
}

// abs is |n|, saturated (|MinInt64| is MaxInt64).
func abs(n int64) int64 {
	switch {
	case n == math.MinInt64:
		return math.MaxInt64
	case n < 0:
		return -n
	}
	return n
}
