package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/supervise"
)

// jsonLogLine is the schema both the agent's and Envoy's lines share with
// APPNET_LOG_FORMAT=json.
type jsonLogLine struct {
	Time      string         `json:"time"`
	Level     string         `json:"level"`
	Logger    string         `json:"logger"`
	PID       int            `json:"pid"`
	Message   string         `json:"message"`
	Fields    map[string]any `json:"fields"`
	Component string         `json:"component"` // Envoy's lines: its logger
	Thread    int            `json:"thread"`
	Source    string         `json:"source"`
}

var rfc3339Millis = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$`)

// TestJSONLogs (issue 21): with APPNET_LOG_FORMAT=json every line of the agent's output, its
// own and Envoy's (relayed as they are), is one JSON object with time, level, logger and
// message; Envoy gets the JSON --log-format (and not --log-format-escaped, which would escape
// the pattern's quotes) and ENVOY_COMPONENT_LOG_LEVEL as --component-log-level.
func TestJSONLogs(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "APPNET_LOG_FORMAT=json", "ENVOY_COMPONENT_LOG_LEVEL=upstream:debug, Connection:trace")
	a.start()
	start := a.waitEvent("Envoy's start", 1, 20*time.Second, isEnvoyStart)
	a.waitEnvoyUp(1)
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d", code)
	}
	argv := start.Argv
	if i := slices.Index(argv, "--component-log-level"); i < 0 || argv[i+1] != "upstream:debug,connection:trace" {
		a.fatalf("argv %q: want --component-log-level upstream:debug,connection:trace", argv)
	}
	if i := slices.Index(argv, "--log-format"); i < 0 || argv[i+1] != supervise.EnvoyJSONLogFormat {
		a.fatalf("argv %q: want the JSON --log-format", argv)
	}
	if slices.Contains(argv, "--log-format-escaped") {
		a.fatalf("argv %q: --log-format-escaped breaks the JSON", argv)
	}
	loggers := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(a.stderr(), "\n"), "\n") {
		var l jsonLogLine
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			a.fatalf("not a JSON log line (%v): %q", err, line)
		}
		if !rfc3339Millis.MatchString(l.Time) || l.Level == "" || l.Message == "" || l.PID == 0 {
			a.fatalf("incomplete line %q", line)
		}
		loggers[l.Logger]++
		if l.Logger == "envoy" && l.Component == "" {
			a.fatalf("Envoy line without its component: %q", line)
		}
	}
	if loggers["appnet-agent"] == 0 || loggers["envoy"] == 0 || len(loggers) != 2 {
		a.fatalf("lines per logger %v: want the agent's and Envoy's", loggers)
	}
}

// A bad component stops the agent before Envoy starts, naming it; the error is a JSON line
// too.
func TestComponentLogLevelRefused(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "APPNET_LOG_FORMAT=json", "ENVOY_COMPONENT_LOG_LEVEL=upstream:debug,conection:trace")
	if code := a.run(30 * time.Second); code != 1 {
		a.fatalf("exit %d, want 1", code)
	}
	var l jsonLogLine
	if err := json.Unmarshal([]byte(strings.TrimSpace(a.stderr())), &l); err != nil || l.Level != "error" ||
		!strings.Contains(l.Message, `ENVOY_COMPONENT_LOG_LEVEL: "conection" is not a component of Envoy's logger; did you mean connection?`) {
		a.fatalf("stderr %q (%v)", a.stderr(), err)
	}
	if starts := filter(a.events(), isEvent("start")); len(starts) != 0 {
		a.fatalf("Envoy was started: %v", starts)
	}
}
