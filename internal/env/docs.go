package env

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/appnet/appnet-agent/internal/redact"
)

// Var documents one supported variable.
type Var struct {
	Name    string
	Type    string
	Default string
	Allowed string
	When    string // empty: always read
	Effect  string // empty: always effective once read
	Desc    string
}

// Vars lists every supported variable in declaration order, from the struct tags.
func Vars() []Var {
	var out []Var
	eachVar(reflect.TypeOf(Config{}), func(f reflect.StructField, name string) {
		out = append(out, describe(f, name))
	})
	return out
}

// eachVar calls fn, in declaration order, for every field of t that names a variable in its env
// tag, descending into the exported structs that name none.
func eachVar(t reflect.Type, fn func(f reflect.StructField, name string)) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("env")
		if name == "" && f.Type.Kind() == reflect.Struct && f.IsExported() {
			eachVar(f.Type, fn)
			continue
		}
		if name != "" && name != "-" {
			fn(f, name)
		}
	}
}

// describe is the documentation of the variable that field f reads.
func describe(f reflect.StructField, name string) Var {
	v := Var{Name: name, Type: typeName(f.Type, f.Tag), Default: f.Tag.Get("default"), Desc: f.Tag.Get("desc")}
	if o := f.Tag.Get("oneof"); o != "" {
		v.Allowed = strings.ReplaceAll(o, ",", ", ")
	} else if r := rangeText(f.Tag); r != "" {
		v.Allowed = r[len("; allowed: "):]
		if f.Tag.Get("clamp") == "true" {
			v.Allowed += " (clamped)"
		}
	}
	if w := f.Tag.Get("when"); w != "" {
		v.When = predicates[w].doc
	}
	if e := f.Tag.Get("effect"); e != "" {
		v.Effect = predicates[e].doc
	}
	return v
}

func typeName(t reflect.Type, tag reflect.StructTag) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeOf(time.Duration(0)):
		switch tag.Get("unit") {
		case "s":
			return "seconds"
		case "ms":
			return "milliseconds"
		}
		return "duration"
	case reflect.TypeOf(InlineDocument{}):
		return inlineType
	case reflect.TypeOf(JSONObject{}), reflect.TypeOf(PortMapping{}):
		return "JSON object"
	case reflect.TypeOf(SocketPath("")):
		return "socket path"
	case reflect.TypeOf(XRayAddress{}):
		return "address"
	case reflect.TypeOf(SamplingRate{}):
		return "fraction"
	case reflect.TypeOf(BindAddress("")), reflect.TypeOf(IPAddress("")):
		return "IP address"
	case reflect.TypeOf(OTLPEndpoint{}):
		return "URL"
	case reflect.TypeOf(ResourceAttributes("")):
		return "key=value list"
	case reflect.TypeOf(ContainerNames{}):
		return "name list"
	case reflect.TypeOf(ComponentLogLevels{}):
		return "component:level list"
	}
	switch t.Kind() {
	case reflect.Uint16:
		return "port"
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	if tag.Get("oneof") != "" {
		return "enum"
	}
	return "string"
}

// WriteMarkdown writes the variable table used in README.md.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| Variable | Type | Default | Allowed | Read when | Description |\n|---|---|---|---|---|---|\n")
	for _, v := range Vars() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", v.Name, v.Type, code(v.Default), cell(v.Allowed), cell(readWhen(v)), cell(v.Desc))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteText writes every variable with its current value from src, one block per variable.
func WriteText(w io.Writer, src Source) error {
	var b strings.Builder
	for _, v := range Vars() {
		cur, ok := src(v.Name)
		shown := "(unset)"
		switch {
		case ok && v.Type == inlineType:
			shown = describeInline(cur) // may hold secrets: never printed
		case ok:
			shown = fmt.Sprintf("%q", redact.Value(cur)) // credentials in URLs are never printed
		}
		fmt.Fprintf(&b, "%s (%s) = %s\n    default: %s", v.Name, v.Type, shown, orDash(v.Default))
		if v.Allowed != "" {
			fmt.Fprintf(&b, "; allowed: %s", v.Allowed)
		}
		if v.When != "" {
			fmt.Fprintf(&b, "; read when %s", v.When)
		}
		if v.Effect != "" {
			fmt.Fprintf(&b, "; effective when %s", v.Effect)
		}
		fmt.Fprintf(&b, "\n    %s\n", v.Desc)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// inlineType is the type name of InlineDocument variables.
const inlineType = "document"

// describeInline shows an inline document variable's value as its size, encoding and digest,
// or, when it does not decode, its raw size and why (the error names no content).
func describeInline(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return `""`
	}
	var d InlineDocument
	if err := d.DecodeRaw(raw); err != nil {
		return fmt.Sprintf("(hidden: %d bytes as set; invalid: %v)", len(raw), err)
	}
	return "(hidden: " + d.Describe() + ")"
}

// readWhen is the table's "Read when" cell.
func readWhen(v Var) string {
	switch {
	case v.When != "":
		return v.When
	case v.Effect != "":
		return "always; effective when " + v.Effect
	}
	return ""
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
