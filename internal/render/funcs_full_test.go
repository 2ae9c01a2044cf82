//go:build !appnet_lean

// The full build's template functions: sprig's (minus unsafeSprig) beside our own; the lean build has
// only builtInFuncs (funcs_test.go).

package render

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTemplateFuncs: our functions behave, and sprig's environment, network,
// time, random and unsafe-quoting functions are not there at all (a parse
// error, so an overlay using them fails at start-up, not at some later render).
func TestTemplateFuncs(t *testing.T) {
	run := func(t *testing.T, text string) (string, error) {
		t.Helper()
		dir := writeOverlay(t, map[string]string{"tracing/xray.yaml.tmpl": text})
		tmpl, err := LoadTemplates(dir)
		if err != nil {
			return "", err
		}
		out, err := tmpl.Execute(context.Background(), "tracing/xray.yaml.tmpl", xrayData(), time.Second)
		return string(out), err
	}
	ok := []struct{ name, text, want string }{
		{"toJson map", `{{ toJson (dict "b" 1 "a" "x<&>y") }}`, `{"a":"x<&>y","b":1}`},
		{"toJson list", `{{ toJson (list "a" 2 true) }}`, `["a",2,true]`},
		{"toJson string quoted", `{{ toJson "a\"b\nc" }}`, `"a\"b\nc"`},
		{"q escapes", `{{ q "a\"b\\c\nd\te\u2028" }}`, `"a\"b\\c\nd\te\u2028"`},
		{"sprig basics stay", `{{ upper "a" }}{{ "b,c" | splitList "," | join "+" }}{{ indent 2 "x" }}`, "Ab+c  x"},
		{"include", `{{ define "p" }}[{{ . }}]{{ end }}{{ include "p" "x" | upper }}`, "[X]"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := run(t, tt.text)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("toJson reports errors", func(t *testing.T) {
		// sprig's toJson would render "" and carry on; ours fails loudly.
		if _, err := run(t, `{{ toJson (float64 "+Inf") }}`); err == nil || !strings.Contains(err.Error(), "toJson") {
			t.Errorf("toJson of +Inf: %v, want an error", err)
		}
	})
	t.Run("pbDuration", func(t *testing.T) {
		dir := writeOverlay(t, map[string]string{"tracing/xray.yaml.tmpl": `{{ pbDuration . }}`})
		tmpl, err := LoadTemplates(dir)
		if err != nil {
			t.Fatal(err)
		}
		for in, want := range map[time.Duration]string{0: "0s", 1500 * time.Millisecond: "1.500s", 90 * time.Second: "90s", time.Microsecond: "0.000001s"} {
			got, err := tmpl.Execute(context.Background(), "tracing/xray.yaml.tmpl", in, time.Second)
			if err != nil || string(got) != want {
				t.Errorf("pbDuration(%s) = %q, %v; want %q", in, got, err, want)
			}
		}
		if _, err := run(t, `{{ pbDuration "5s" }}`); err == nil || !strings.Contains(err.Error(), "want a time.Duration") {
			t.Errorf("pbDuration of a string: %v, want an error", err)
		}
	})

	forbidden := []string{"env", "expandenv", "getHostByName", "now", "date", "randAlpha", "randInt", "uuidv4", "squote",
		"genPrivateKey", "derivePassword", "toPrettyJson", "mustToJson"}
	for _, name := range unsafeSprig {
		if name != "toJson" && !slices.Contains(forbidden, name) {
			forbidden = append(forbidden, name)
		}
	}
	for _, name := range forbidden {
		t.Run("forbidden "+name, func(t *testing.T) {
			_, err := run(t, "a: 1\nb: {{ "+name+" \"x\" }}\n")
			if err == nil || !strings.Contains(err.Error(), `function "`+name+`" not defined`) || !strings.Contains(err.Error(), ":2:") {
				t.Errorf("want a parse error on line 2 naming %s, got %v", name, err)
			}
		})
	}
}
