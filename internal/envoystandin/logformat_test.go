package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/supervise"
)

// The agent's JSON --log-format, rendered as Envoy renders it, is one JSON object with the
// agent's keys; with --log-format-escaped (which Envoy applies to the whole line) it is not
// JSON any more, which is why the agent does not pass that flag.
func TestJSONLogFormat(t *testing.T) {
	l := logLine{time: time.Date(2026, 11, 25, 21, 49, 19, 123456789, time.UTC), level: "warning", logger: "upstream",
		pid: 42, msg: "a \"quoted\"\nmulti-line <message>\t\\ \x01"}
	line := formatPattern(supervise.EnvoyJSONLogFormat, l)
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	want := map[string]any{"time": "2026-11-25T21:49:19.123+00:00", "level": "warning", "logger": "envoy", "pid": 42.0,
		"message": l.msg, "component": "upstream", "thread": 42.0, "source": standinSource + ":1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("keys %v", got)
	}
	if strings.Contains(line, "\n") {
		t.Errorf("a line break inside the line: %q", line)
	}
	if json.Valid([]byte(cEscape(line))) {
		t.Errorf("escaped line still JSON: %s", cEscape(line))
	}
	if got := formatPattern("[%Y-%m-%d %T.%e][%l][%n] %v %q %%", l); got != "[2026-11-25 21:49:19.123][warning][upstream] "+l.msg+" %q %" {
		t.Errorf("default-like pattern: %q", got)
	}
}
