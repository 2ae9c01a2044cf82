package env

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadNamed(t *testing.T, vars map[string]string) []string {
	t.Helper()
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	_, warns, err := Load(MapSource(vars), Options{FileHasContent: func(p string) bool { return p == "/existing.yaml" }, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	return warns
}

// Issue 7, "Nothing silent": a set variable the mode does not read is named, with why.
func TestIgnoredVariablesAreNamedWithTheReason(t *testing.T) {
	cases := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"APPMESH_XDS_ENDPOINT": "x:1", "APPMESH_DUALSTACK_ENDPOINT": "true"}, "APPMESH_DUALSTACK_ENDPOINT is ignored: APPMESH_XDS_ENDPOINT is set"},
		{map[string]string{"ENVOY_ADMIN_MODE": "uds", "ENVOY_ADMIN_ACCESS_PORT": "abc"}, "ENVOY_ADMIN_ACCESS_PORT is ignored: ENVOY_ADMIN_MODE is uds"},
		{map[string]string{"ENVOY_TRACING_CFG_FILE": "/t.yaml", "ENABLE_ENVOY_XRAY_TRACING": "true"}, "ENABLE_ENVOY_XRAY_TRACING is ignored: ENVOY_TRACING_CFG_FILE is set"},
		{map[string]string{"ENVOY_CONFIG_FILE": "/existing.yaml", "ENABLE_ENVOY_STATS_TAGS": "1"}, "ENABLE_ENVOY_STATS_TAGS is ignored: ENVOY_CONFIG_FILE names an existing bootstrap, which is used as is"},
		{map[string]string{"AWS_XRAY_DAEMON_ADDRESS": "1.2.3.4"}, "AWS_XRAY_DAEMON_ADDRESS is ignored: ENABLE_ENVOY_XRAY_TRACING is not true"},
		{map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "1", "XRAY_SAMPLING_RULE_MANIFEST": "/m.json", "XRAY_SAMPLING_RATE": "0.5"}, "XRAY_SAMPLING_RATE is ignored: XRAY_SAMPLING_RULE_MANIFEST is set"},
		{map[string]string{"APPNET_MANAGEMENT_PORT": "444"}, "APPNET_MANAGEMENT_PORT is ignored: relay mode is off (APPNET_ENABLE_RELAY_MODE_FOR_XDS is not true)"},
		{map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "1", "ENABLE_ENVOY_DOG_STATSD": "1"}, "ENABLE_ENVOY_DOG_STATSD is ignored: relay mode is on (APPNET_ENABLE_RELAY_MODE_FOR_XDS)"},
		{map[string]string{"ENABLE_ENVOY_DOG_STATSD": "1", "STATSD_SOCKET_PATH": "/s.sock", "STATSD_PORT": "9"}, "STATSD_PORT is ignored: STATSD_SOCKET_PATH is set"},
		{map[string]string{"APPMESH_RESOURCE_ARN": "arn:aws:ecs:r:1:task-set/c/s/e/1", "ENABLE_ENVOY_STATS_TAGS": "1"}, "ENABLE_ENVOY_STATS_TAGS is ignored: the node id is an ECS task set"},
		{map[string]string{"APPNET_AGENT_HTTP_PORT": "9999"}, "APPNET_AGENT_HTTP_PORT is ignored: APPNET_AGENT_ADMIN_MODE is not set, so no management API is served"},
		{map[string]string{"APPNET_AGENT_ADMIN_MODE": "uds", "APPNET_AGENT_HTTP_BIND_ADDRESS": "127.0.0.1"}, "APPNET_AGENT_HTTP_BIND_ADDRESS is ignored: APPNET_AGENT_ADMIN_MODE is uds"},
		{map[string]string{"APPNET_AGENT_ADMIN_MODE": "", "APPNET_AGENT_ADMIN_UDS_PATH": "/s.sock"}, "APPNET_AGENT_ADMIN_UDS_PATH is ignored: APPNET_AGENT_ADMIN_MODE is tcp"},
		{map[string]string{"APPNET_AGENT_MAX_RETENTION_COUNT": "3"}, "APPNET_AGENT_MAX_RETENTION_COUNT is ignored: APPNET_ENVOY_LOG_DESTINATION is not set"},
		// A value the reference maps silently keeps working, with a warning naming the allowed values.
		{map[string]string{"ENABLE_ENVOY_JAEGER_TRACING": "1", "JAEGER_TRACER_VERSION": "xml"}, `JAEGER_TRACER_VERSION: "xml" names neither JSON nor PROTO; using HTTP_PROTO`},
		{map[string]string{"APPMESH_METRIC_EXTENSION_VERSION": "2"}, `APPMESH_METRIC_EXTENSION_VERSION: "2" is not 1; the metrics extension stays disabled (allowed: 0, 1)`},
		// An unknown variable with one of the agent's prefixes: did you mean?
		{map[string]string{"APPNET_ENVOY_RESTART_COUNTS": "3"}, "APPNET_ENVOY_RESTART_COUNTS is not a variable appnet-agent reads, so it is ignored; did you mean APPNET_ENVOY_RESTART_COUNT?"},
		{map[string]string{"APPNET_RESTART_COUNT": "3"}, "APPNET_RESTART_COUNT is not a variable appnet-agent reads, so it is ignored; did you mean APPNET_ENVOY_RESTART_COUNT?"},
		{map[string]string{"ENVOY_LOGLEVEL": "debug"}, "did you mean ENVOY_LOG_LEVEL?"},
		{map[string]string{"APPMESH_RESOURCE_ARM": "x"}, "did you mean APPMESH_RESOURCE_ARN?"},
		{map[string]string{"APPNET_SOMETHING_ELSE_ENTIRELY": "x"}, "APPNET_SOMETHING_ELSE_ENTIRELY is not a variable appnet-agent reads, so it is ignored (`appnet-agent env` lists them all)"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			warns := loadNamed(t, tc.vars)
			n := 0
			for _, w := range warns {
				if strings.Contains(w, tc.want) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("want exactly one warning containing %q, got %q", tc.want, warns)
			}
		})
	}
}

func TestNoWarningsForWhatIsRead(t *testing.T) {
	vars := map[string]string{
		"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n", "ENVOY_UID": "1337", "ENVOY_GID": "1337", "PATH": "/bin", "HOME": "/root",
		"APPNET_AGENT_ADMIN_MODE": "tcp", "APPNET_AGENT_HTTP_PORT": "9999", "ENABLE_ENVOY_XRAY_TRACING": "1", "XRAY_SAMPLING_RATE": "0.2",
		"APPNET_ENVOY_RESTART_COUNT": "2", "ENABLE_ENVOY_JAEGER_TRACING": "", "JAEGER_TRACER_VERSION": "",
	}
	if warns := loadNamed(t, vars); len(warns) != 0 {
		t.Fatalf("warnings %q", warns)
	}
}

func TestSuggestions(t *testing.T) {
	known := knownNames()
	for name, want := range map[string]string{
		"APPNET_ENVOY_RESTART_COUNT": "APPNET_ENVOY_RESTART_COUNT", "ENVOY_ADMIN_ACESS_PORT": "ENVOY_ADMIN_ACCESS_PORT",
		"ENVOY_ENABLE_XRAY_TRACING": "ENABLE_ENVOY_XRAY_TRACING", "APPNET_X": "", "ENVOY_FOO_BAR_BAZ": "",
	} {
		if got := suggest(name, known); got != want {
			t.Errorf("suggest(%s) = %q, want %q", name, got, want)
		}
	}
}

// A mistyped predicate name in a struct tag is found with a clear message; Config's tags are
// checked here, once per build, rather than at every start of the agent.
func TestCheckTagsFindsMistypedPredicates(t *testing.T) {
	type bad struct {
		A string        `env:"A" when:"sidcar"`
		B bool          `env:"B" effect:"managementApi"`
		C time.Duration `env:"C" unit:"s" min:"five"`
	}
	got := checkTags(reflect.TypeOf(bad{}))
	want := []string{`A: when:"sidcar" names no predicate`, `B: effect:"managementApi" names no predicate`, `C: bad duration bound`}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("got %q, want %q", got[i], want[i])
		}
	}
	if bad := checkTags(reflect.TypeOf(Config{})); len(bad) > 0 {
		t.Fatalf("Config's tags: %q", bad)
	}
}

// knownNames walks the tags for names only; it must name exactly the variables Vars lists.
func TestKnownNamesAreVars(t *testing.T) {
	want := map[string]bool{}
	for _, v := range Vars() {
		want[v.Name] = true
	}
	if got := knownNames(); !maps.Equal(got, want) {
		t.Errorf("knownNames() has %d names, Vars() %d", len(got), len(want))
	}
	if len(want) < 50 {
		t.Errorf("only %d variables", len(want))
	}
}

// A Load looks every known variable up, whatever the mode: isKnown answers from those lookups
// and builds the set of all names only for a name that is not among them (a stray variable).
func TestLoadLooksUpEveryKnownName(t *testing.T) {
	for _, vars := range []map[string]string{{}, {"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}, {"ENABLE_ENVOY_OTEL_TRACING": "true"}} {
		l := loader{src: MapSource(vars), cfg: &Config{}}
		l.walk(reflect.ValueOf(l.cfg).Elem())
		read := map[string]bool{}
		for _, n := range l.read {
			read[n] = true
		}
		if want := knownNames(); !maps.Equal(read, want) {
			t.Errorf("%v: the walk looked up %d names, %d are known", vars, len(read), len(want))
		}
	}
}

// suggest skips the edit distance of names whose length rules them out as typos; it must pick
// what computing every distance picks, for typos, reorderings, additions and strangers alike.
func TestSuggestMatchesExhaustiveSearch(t *testing.T) {
	exhaustive := func(name string, known map[string]bool) string {
		best, bestDist := "", -1
		words := strings.Split(name, "_")
		for k := range known {
			d := editDistance(name, k)
			close := d <= max(2, len(name)/8) || sameWordsBut(words, strings.Split(k, "_"), 2)
			if close && (bestDist < 0 || d < bestDist || (d == bestDist && k < best)) {
				best, bestDist = k, d
			}
		}
		return best
	}
	known := knownNames()
	var names []string
	for k := range known {
		words := strings.Split(k, "_")
		names = append(names, k, k+"S", k[1:], k[:len(k)-2], "X"+k, k+"_EXTRA", k+"_MORE_WORDS",
			strings.Join(append(words[1:], words[0]), "_"), "ENVOY_"+k, strings.ReplaceAll(k, "_", ""))
	}
	names = append(names, "ENVOY_ADMIN_ACCESS_UDS_PATH", "APPNET_X", "ENVOY_", "APPMESH_FOO_BAR_BAZ_QUX")
	for _, n := range names {
		if got, want := suggest(n, known), exhaustive(n, known); got != want {
			t.Errorf("suggest(%s) = %q, exhaustive search %q", n, got, want)
		}
	}
}
