package env

import (
	"slices"
	"strings"
	"testing"
)

// Issue 21: ENVOY_COMPONENT_LOG_LEVEL is checked against Envoy's logger names and levels,
// and an error names the bad component.
func TestComponentLogLevel(t *testing.T) {
	for _, tc := range []struct {
		value, want, err string
	}{
		{"upstream:debug,connection:trace", "upstream:debug,connection:trace", ""},
		{" Upstream : DEBUG , http2:warn ", "upstream:debug,http2:warn", ""},
		{"mcp:off,dynamic_modules:critical,golang:warning", "mcp:off,dynamic_modules:critical,golang:warning", ""},
		{"upstrem:debug", "", `ENVOY_COMPONENT_LOG_LEVEL: "upstrem" is not a component of Envoy's logger; did you mean upstream?`},
		{"frobnicator:debug", "", `ENVOY_COMPONENT_LOG_LEVEL: "frobnicator" is not a component of Envoy's logger; allowed: admin, alternate_protocols_cache,`},
		{"upstream:verbose", "", `ENVOY_COMPONENT_LOG_LEVEL: upstream: "verbose" is not a log level; allowed: trace, debug, info, warn, warning, error, critical, off`},
		{"upstream", "", `ENVOY_COMPONENT_LOG_LEVEL: "upstream" is not COMPONENT:LEVEL`},
		{"upstream:", "", `"upstream:" is not COMPONENT:LEVEL`},
		{"upstream:debug,", "", "item 2 is empty"},
		{"upstream:debug,upstream:info", "", "upstream is given twice"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c, _, err := load(t, map[string]string{"ENVOY_COMPONENT_LOG_LEVEL": tc.value})
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if err == nil && c.Agent.ComponentLevels.String() != tc.want {
				t.Errorf("%q, want %q", c.Agent.ComponentLevels, tc.want)
			}
		})
	}
	c, _, err := load(t, nil)
	if err != nil || c.Agent.ComponentLevels != nil || c.Logging.Format != "text" {
		t.Errorf("unset: %v %v %q", err, c.Agent.ComponentLevels, c.Logging.Format)
	}
}

func TestEnvoyComponentsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range EnvoyComponents {
		if seen[n] || n != strings.ToLower(n) || strings.ContainsAny(n, " :,") {
			t.Errorf("bad or repeated component %q", n)
		}
		seen[n] = true
	}
	for _, must := range []string{"upstream", "connection", "http", "router", "main", "config", "admin"} {
		if !slices.Contains(EnvoyComponents, must) {
			t.Errorf("%s missing", must)
		}
	}
}

func TestLogFormat(t *testing.T) {
	c, _, err := load(t, map[string]string{"APPNET_LOG_FORMAT": "JSON"})
	if err != nil || c.Logging.Format != "json" {
		t.Fatalf("%v %q", err, c.Logging.Format)
	}
	if _, _, err := load(t, map[string]string{"APPNET_LOG_FORMAT": "logfmt"}); err == nil ||
		!strings.Contains(err.Error(), `APPNET_LOG_FORMAT: "logfmt" is not allowed; allowed: text, json`) {
		t.Errorf("error %v", err)
	}
}
