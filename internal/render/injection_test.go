package render

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/validate"
)

// This file also holds the helpers the other render tests share: the test
// collectors, an in-process render from a variable map, and JSON walkers.

// Pinned host facts, so that two renders in one test differ only by their input.
var (
	testInterfaces = map[string]any{"ipv4": map[string]any{"eth0": []any{"10.0.0.2/24"}}}
	testSystemInfo = map[string]any{"systemPlatform": "x86_64", "systemKernelVersion": "6.0.0-test"}
)

const testEnvoyVersion = "envoy  version: abc/1.29.0/Clean/RELEASE/BoringSSL"

// offlineCollector is the real platform.Collect with everything that leaves
// the process switched off (no task or instance metadata call, no envoy
// --version exec) and the host facts pinned. What the collector derives from
// its inputs alone (ECS launch type and instance ARN, Kubernetes versions)
// still flows through the real code, so those variables are tested end to end.
var offlineCollector = platform.CollectorFunc(func(ctx context.Context, in platform.Inputs) platform.Facts {
	in.ProbeEnvoy, in.IMDSDisabled, in.TMDSURI = false, true, ""
	f := platform.Collect(ctx, in)
	f.EnvoyVersion, f.Warnings = testEnvoyVersion, nil
	f.Interfaces = testInterfaces
	info := maps.Clone(f.PlatformInfo)
	if info == nil {
		info = map[string]any{}
	}
	info[platform.KeySystemInfo] = testSystemInfo
	f.PlatformInfo = info
	if f.Region == "" {
		f.Region, f.RegionErr = "us-west-2", nil
	}
	return f
})

// fixedCollector returns constant facts without a goroutine or a system call:
// for benchmarks and the fuzzer, where the collector must cost nothing.
var fixedCollector = platform.CollectorFunc(func(_ context.Context, in platform.Inputs) platform.Facts {
	region := in.Region
	if region == "" {
		region = "us-west-2"
	}
	return platform.Facts{
		EnvoyVersion: testEnvoyVersion,
		Region:       region,
		Interfaces:   testInterfaces,
		PlatformInfo: map[string]any{platform.KeySystemInfo: testSystemInfo},
	}
})

// renderVars loads vars (nothing from the process environment) and renders
// in-process. A panic anywhere is returned as an error starting with "panic:"
// so that callers can assert there is none.
func renderVars(vars map[string]string, opts Options) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	cfg, _, err := env.Load(env.MapSource(vars), env.Options{})
	if err != nil {
		return nil, err
	}
	if opts.Collector == nil {
		opts.Collector = offlineCollector
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Render(ctx, cfg, opts)
}

// canonicalDoc is the validated bootstrap as generic JSON (proto field names).
func canonicalDoc(t testing.TB, res *Result) any {
	t.Helper()
	j, err := validate.CanonicalJSON(res.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(j, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// jsonPaths lists the leaf paths of doc. A map key equal to value is written
// as ${V}, so a value that becomes a key (a JSON mapping variable) yields the
// same path whatever it is.
func jsonPaths(doc any, value string) []string {
	var out []string
	var walk func(string, any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				out = append(out, p+"{}")
			}
			for k, e := range x {
				if k == value {
					k = "${V}"
				}
				walk(p+"."+strconv.Quote(k), e)
			}
		case []any:
			if len(x) == 0 {
				out = append(out, p+"[]")
			}
			for i, e := range x {
				walk(p+"["+strconv.Itoa(i)+"]", e)
			}
		default:
			out = append(out, p)
		}
	}
	walk("", doc)
	slices.Sort(out)
	return out
}

// jsonStrings calls fn for every string value and every map key in doc.
func jsonStrings(doc any, fn func(string)) {
	switch x := doc.(type) {
	case map[string]any:
		for k, e := range x {
			fn(k)
			jsonStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			jsonStrings(e, fn)
		}
	case string:
		fn(x)
	}
}

// containsString reports whether one of doc's strings (values or keys) is exactly s.
func containsString(doc any, s string) bool {
	found := false
	jsonStrings(doc, func(v string) { found = found || v == s })
	return found
}

// mentions reports whether one of doc's strings contains s.
func mentions(doc any, s string) bool {
	found := false
	jsonStrings(doc, func(v string) { found = found || strings.Contains(v, s) })
	return found
}

// Canaries. "structure": YAML structure (newline + key, comment, alias,
// anchor, tag, flow collections, YAML 1.1 booleans and octals, null), quotes,
// backslash, tab, an Envoy format string and a template action. "unicode":
// characters YAML treats specially but allows (line/paragraph separators,
// BOM, NBSP, ESC, CR LF). "controls": the same structure canary with DEL, plus
// NEL, C1 controls and a non-character, which YAML forbids raw (see
// knownControlCharBug). None starts or ends with white space: values are trimmed.
var canaries = map[string]string{
	"structure": "x\"'\n  injected: 1\n# : *a &b !t [c] {d} yes 0700 ~ \\ \t%REQ(:PATH)%{{ .Node.ID }}z",
	"unicode":   "u\u2028v\u2029w\ufeff\u00a0é🙂\x1b[0m: - ? | >-\r\nz",
	"controls":  "x\"'\n  injected: 1\n# : *a &b !t [c] {d} yes 0700 ~ \\ \t%REQ(:PATH)%{{ .Node.ID }}\x7fz\u0085\u0080\u009f\ufffez",
}

// knownControlCharBug marks a production bug found by this test, expected to
// fail until fixed (then set it to false; the test says when):
// DEL, C1 controls (U+0080..U+009F) and U+FFFE/U+FFFF in any variable make
// rendering fail with "invalid YAML: control characters are not allowed"
// (naming no variable), and NEL (U+0085) is silently turned into a space.
// Cause: valid JSON may carry these raw, but it is parsed as YAML, which
// forbids them (NEL is a YAML line break, folded to a space in a string):
//   - funcs.go toJSON emits them raw into the template output (metadata);
//   - render.go json.Marshal(doc) → validate.Bootstrap → validate.Decode
//     (yaml.v3) for every value, even those q escaped correctly.
//
// Escaping them as \uXXXX in both JSON texts (or in validate.Decode for JSON
// input) fixes it. Fixed: toJSON escapes them, the rendered text is parsed
// once (no JSON round trip), and the canonical YAML escapes them.
const knownControlCharBug = false

// yamlForbidden reports whether s holds a character of knownControlCharBug.
func yamlForbidden(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfffe || r == 0xffff
	})
}

// outcome is what a hostile value must lead to.
type outcome int

const (
	// rendered: rendering succeeds with the same document shape as a benign
	// value, and the value appears verbatim as a string (or key).
	rendered outcome = iota
	// consumed: rendering succeeds with the same shape and the value does not
	// appear at all (the variable steers the agent, not the bootstrap).
	consumed
	// rejected: rendering fails with an error naming the variable (or errWant),
	// e.g. a path that does not exist or a value that must be an IP.
	rejected
)

func (o outcome) String() string { return [...]string{"rendered", "consumed", "rejected"}[o] }

// injectionCase sets one variable on top of injectionBase plus base.
type injectionCase struct {
	name     string // subtest name; default: variable
	variable string
	base     map[string]string   // makes the variable apply (e.g. enables a tracer)
	set      func(string) string // value of the variable for a canary; nil: the canary itself
	expect   outcome
	errWant  string // rejected: substring of the error; default: the variable's name
}

// injectionBase is a minimal App Mesh sidecar. Stats tags and X-Ray are on
// so that the node id's parts appear in the output.
var injectionBase = map[string]string{
	"AWS_REGION":           "us-west-2",
	"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n",
}

var (
	xray     = map[string]string{"ENABLE_ENVOY_XRAY_TRACING": "true", "ENABLE_ENVOY_STATS_TAGS": "true"}
	datadog  = map[string]string{"ENABLE_ENVOY_DATADOG_TRACING": "true"}
	jaeger   = map[string]string{"ENABLE_ENVOY_JAEGER_TRACING": "true"}
	dogUDP   = map[string]string{"ENABLE_ENVOY_DOG_STATSD": "true"}
	dogUDS   = map[string]string{"ENABLE_ENVOY_DOG_STATSD": "true", "STATSD_SOCKET_PATH": "/run/dsd.sock"}
	relay    = map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}
	scClient = map[string]string{"APPMESH_XDS_ENDPOINT": "unix:///run/relay.sock",
		"APPMESH_RESOURCE_ARN": "arn:aws:ecs:us-west-2:1:task-set/c/s/ecs-svc/1"}
	noARN = map[string]string{"APPMESH_RESOURCE_ARN": "", "ENABLE_ENVOY_XRAY_TRACING": "true", "ENABLE_ENVOY_STATS_TAGS": "true"}
	k8s   = map[string]string{"APPMESH_PLATFORM_K8S_VERSION": "v1.30", "APPMESH_PLATFORM_K8S_POD_UID": "uid",
		"APPMESH_PLATFORM_APP_MESH_CONTROLLER_VERSION": "v1.12"}
	ecs      = map[string]string{"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "ECS_CONTAINER_INSTANCE_ARN": "arn:ci"}
	otel     = map[string]string{"ENABLE_ENVOY_OTEL_TRACING": "true"}
	otelTLS  = map[string]string{"ENABLE_ENVOY_OTEL_TRACING": "true", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector:4317"}
	otelHTTP = map[string]string{"ENABLE_ENVOY_OTEL_TRACING": "true", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
)

func prefixed(p string) func(string) string { return func(v string) string { return p + v } }

func jsonObject(key, value string) string {
	k, _ := json.Marshal(key)
	v, _ := json.Marshal(value)
	return "{" + string(k) + ":" + string(v) + "}"
}

// injectionCases covers every free-text variable (string, JSON object,
// address and IP types): TestNoInjection fails when env grows one that is not
// listed here, or when a listed one is no longer a free-text variable.
var injectionCases = []injectionCase{
	// Files and directories: a hostile path simply does not exist.
	{variable: "ENVOY_CONFIG_FILE", expect: rejected},
	{variable: "APPNET_TEMPLATE_DIR", expect: rejected},
	{variable: "ENVOY_TRACING_CFG_FILE", expect: rejected},
	{variable: "XRAY_SAMPLING_RULE_MANIFEST", base: xray, expect: rejected},
	{variable: "ENVOY_STATS_CONFIG_FILE", expect: rejected},
	{variable: "ENVOY_STATS_SINKS_CFG_FILE", expect: rejected},
	{variable: "ENVOY_RESOURCES_CONFIG_FILE", expect: rejected},

	// Read by the agent or the fact collector, never written into the bootstrap.
	{variable: "APPNET_ENVOY_PATH", expect: consumed},
	{variable: "TMPDIR", expect: consumed},
	{variable: "AWS_EC2_METADATA_SERVICE_ENDPOINT", expect: consumed},
	{variable: "EC2_METADATA_HOST_ONLY_FOR_TESTING", expect: consumed},
	{variable: "ECS_CONTAINER_METADATA_URI_V4", base: ecs, expect: consumed},
	{variable: "ECS_CONTAINER_METADATA_URI", base: ecs, expect: consumed},
	{variable: "JAEGER_TRACER_VERSION", base: jaeger, expect: consumed}, // selects HTTP_PROTO or HTTP_JSON
	{variable: "APPMESH_METRIC_EXTENSION_VERSION", expect: consumed},    // only "1" means anything
	{variable: "APPNET_AGENT_ADMIN_UDS_PATH", expect: consumed},         // management API
	{variable: "APPNET_ENVOY_LOG_DESTINATION", expect: consumed},        // supervisor
	{variable: "APPNET_ENVOY_LOG_NAME", expect: consumed},               // supervisor
	{variable: "APPNET_AGENT_HTTP_BIND_ADDRESS", expect: rejected},      // must be an IP literal
	{variable: "APPNET_AGENT_SCRAPE_BIND_ADDRESS", expect: rejected},    // must be an IP literal
	{variable: "AWS_XRAY_DAEMON_ADDRESS", base: xray, expect: rejected}, // must be an IP literal
	{name: "AWS_XRAY_DAEMON_ADDRESS/udp-form", variable: "AWS_XRAY_DAEMON_ADDRESS", // the documented tcp:/udp: form
		base: xray, set: prefixed("tcp:127.0.0.1:2000 udp:"), expect: rejected},

	// Identity. A node id must be a mesh resource for stats tags, so the
	// canary is its resource name; a bare canary is refused.
	{variable: "APPMESH_RESOURCE_ARN", base: xray, set: prefixed("mesh/m/virtualNode/"), expect: rendered},
	{name: "APPMESH_RESOURCE_ARN/bare", variable: "APPMESH_RESOURCE_ARN", expect: rejected, errWant: "node id"},
	{name: "APPMESH_RESOURCE_ARN/task-set", variable: "APPMESH_RESOURCE_ARN", base: scClient,
		set: prefixed("arn:aws:ecs:us-west-2:1:task-set/"), expect: rendered},
	{variable: "APPMESH_RESOURCE_NAME", base: noARN, set: prefixed("mesh/m/virtualGateway/"), expect: rendered},
	{variable: "APPMESH_VIRTUAL_NODE_NAME", base: noARN, set: prefixed("mesh/m/virtualNode/"), expect: rendered},
	{variable: "APPMESH_RESOURCE_CLUSTER", expect: rendered},
	{variable: "APPMESH_VIRTUAL_NODE_CLUSTER", expect: rendered},

	// Admin, xDS.
	{variable: "ENVOY_ADMIN_ACCESS_LOG_FILE", expect: rendered},
	{variable: "ENVOY_OUTLIER_DETECTION_EVENT_LOG_PATH", expect: rendered},
	{variable: "APPMESH_SDS_SOCKET_PATH", expect: rendered},
	{variable: "AWS_REGION", expect: rendered},
	{variable: "APPMESH_SIGNING_NAME", expect: rendered},
	{variable: "APPMESH_XDS_ENDPOINT", expect: rendered},
	{name: "APPMESH_XDS_ENDPOINT/relay-client", variable: "APPMESH_XDS_ENDPOINT", base: scClient,
		set: prefixed("unix://"), expect: rendered},
	{name: "APPMESH_XDS_ENDPOINT/relay", variable: "APPMESH_XDS_ENDPOINT", base: relay,
		set: prefixed("https://"), expect: rendered},

	// Tracing and stats.
	{variable: "XRAY_SEGMENT_NAME", base: xray, expect: rendered},
	{variable: "DATADOG_TRACER_ADDRESS", base: datadog, expect: rendered},
	{variable: "DD_SERVICE", base: datadog, expect: rendered},
	{variable: "JAEGER_TRACER_ADDRESS", base: jaeger, expect: rendered},
	{variable: "STATSD_SOCKET_PATH", base: dogUDS, expect: rendered},
	{variable: "STATSD_ADDRESS", base: dogUDP, expect: rejected}, // must be an IP literal (Envoy does not resolve it)
	{variable: "OTEL_SERVICE_NAME", base: otel, expect: rendered},
	{variable: "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", base: otelTLS, expect: rejected}, // a hostile path is no PEM file
	{variable: "OTEL_EXPORTER_OTLP_CERTIFICATE", base: otelTLS, expect: rejected},
	{variable: "OTEL_RESOURCE_ATTRIBUTES", base: otel, set: prefixed("team="), expect: consumed}, // Envoy reads it from its environment
	{variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", base: otelHTTP, set: prefixed("http://collector:4318/"), expect: rejected},
	{variable: "OTEL_EXPORTER_OTLP_ENDPOINT", base: otelHTTP, set: prefixed("http://"), expect: rejected},

	// Node metadata, including values and keys of the JSON mappings.
	{variable: "NAMESPACE_NAME", expect: rendered},
	{variable: "NAMESPACE_ARN", expect: rendered},
	{variable: "APPNET_CONTAINER_IP_MAPPING", set: func(v string) string { return jsonObject("app", v) }, expect: rendered},
	{name: "APPNET_CONTAINER_IP_MAPPING/key", variable: "APPNET_CONTAINER_IP_MAPPING",
		set: func(v string) string { return jsonObject(v, "10.0.0.5") }, expect: rendered},
	{variable: "APPNET_LISTENER_PORT_MAPPING", set: func(v string) string { return jsonObject("l1", v) }, expect: rejected}, // values are ports
	{name: "APPNET_LISTENER_PORT_MAPPING/key", variable: "APPNET_LISTENER_PORT_MAPPING",
		set: func(v string) string { k, _ := json.Marshal(v); return "{" + string(k) + ":15000}" }, expect: rendered},
	{variable: "APPMESH_PLATFORM_K8S_VERSION", base: k8s, expect: rendered},
	{variable: "APPMESH_PLATFORM_K8S_POD_UID", base: k8s, expect: rendered},
	{variable: "APPMESH_PLATFORM_APP_MESH_CONTROLLER_VERSION", base: k8s, expect: rendered},
	{variable: "AWS_EXECUTION_ENV", base: ecs, expect: rendered},
	{variable: "ECS_CONTAINER_INSTANCE_ARN", base: ecs, expect: rendered},

	// Relay bootstrap.
	{variable: "APPNET_RELAY_LISTENER_UDS_PATH", base: relay, expect: rendered},
	{variable: "APPNET_MANAGEMENT_DOMAIN_NAME", base: relay, expect: rendered},
}

// freeTextTypes are the env.Var types whose values are arbitrary text.
var freeTextTypes = map[string]bool{"string": true, "JSON object": true, "address": true, "IP address": true, "socket path": true,
	"URL": true, "key=value list": true}

// TestInjectionTableCoversEveryVariable keeps the table in step with env:
// a new free-text variable must be classified before it can ship.
func TestInjectionTableCoversEveryVariable(t *testing.T) {
	want := map[string]bool{}
	for _, v := range env.Vars() {
		if freeTextTypes[v.Type] {
			want[v.Name] = true
		}
	}
	have := map[string]bool{}
	for _, c := range injectionCases {
		if !want[c.variable] {
			t.Errorf("%s is in the table but is not a free-text variable of env.Vars()", c.variable)
		}
		have[c.variable] = true
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if !have[name] {
			t.Errorf("%s (free text) is not covered by injectionCases: add it with its expected outcome", name)
		}
	}
}

// TestNoInjection sets each free-text variable, one at a time, to hostile
// values. They must end up as data (same document shape as a benign value,
// the value verbatim) or be refused by name; never become structure, never
// break the template or the YAML, never panic.
func TestNoInjection(t *testing.T) {
	for _, c := range injectionCases {
		name := c.name
		if name == "" {
			name = c.variable
		}
		t.Run(name, func(t *testing.T) {
			set := c.set
			if set == nil {
				set = func(v string) string { return v }
			}
			vars := func(v string) map[string]string {
				m := maps.Clone(injectionBase)
				maps.Copy(m, c.base)
				m[c.variable] = set(v)
				return m
			}
			const benign = "benign-value"
			var basePaths []string
			if c.expect != rejected {
				res, err := renderVars(vars(benign), Options{})
				if err != nil {
					t.Fatalf("baseline with %s=%q: %v", c.variable, set(benign), err)
				}
				basePaths = jsonPaths(canonicalDoc(t, res), benign)
			}
			for _, kind := range slices.Sorted(maps.Keys(canaries)) {
				canary := canaries[kind]
				res, err := renderVars(vars(canary), Options{})
				problems := injectionProblems(t, c, canary, set(canary), basePaths, res, err)
				if knownControlCharBug && yamlForbidden(canary) && c.expect == rendered {
					if len(problems) == 0 {
						t.Errorf("%s canary passes now: set knownControlCharBug to false", kind)
					} else {
						t.Logf("known bug (knownControlCharBug), %s canary: %s", kind, problems[0])
					}
					continue
				}
				for _, p := range problems {
					t.Errorf("%s canary: %s", kind, p)
				}
			}
		})
	}
}

// injectionProblems checks one hostile render against the case's outcome.
func injectionProblems(t *testing.T, c injectionCase, canary, value string, basePaths []string, res *Result, err error) []string {
	t.Helper()
	if err != nil {
		msg := err.Error()
		// The value itself may be quoted in the message; look only at the rest.
		scrubbed := strings.NewReplacer(value, "<value>", canary, "<canary>").Replace(msg)
		for _, bad := range []string{"panic:", "rendered invalid YAML", "rendered ambiguous YAML", "template:", "yaml:", "invalid YAML", "q: "} {
			if strings.Contains(scrubbed, bad) {
				return []string{fmt.Sprintf("broke rendering (%q) instead of being data or refused by name:\n%s", bad, msg)}
			}
		}
		if c.expect != rejected {
			return []string{fmt.Sprintf("want a bootstrap (%v), got: %v", c.expect, err)}
		}
		want := c.errWant
		if want == "" {
			want = c.variable
		}
		if !strings.Contains(msg, want) {
			return []string{fmt.Sprintf("the error does not name %q:\n%s", want, msg)}
		}
		return nil
	}
	if c.expect == rejected {
		return []string{fmt.Sprintf("want an error naming %s, got a bootstrap", c.variable)}
	}
	var problems []string
	doc := canonicalDoc(t, res)
	if got := jsonPaths(doc, canary); !slices.Equal(got, basePaths) {
		problems = append(problems, fmt.Sprintf("changed the document shape:\n  only with the canary: %q\n  only with a benign value: %q",
			minus(got, basePaths), minus(basePaths, got)))
	}
	switch c.expect {
	case rendered:
		if !containsString(doc, canary) && !containsString(doc, value) {
			problems = append(problems, fmt.Sprintf("%q appears nowhere verbatim in the bootstrap", canary))
		}
	case consumed:
		// If this fails the variable now reaches the bootstrap: classify it as rendered.
		if mentions(doc, canary) {
			problems = append(problems, fmt.Sprintf("%s was expected not to reach the bootstrap, but it does", c.variable))
		}
	}
	if p := roundTripProblem(res); p != "" {
		problems = append(problems, p)
	}
	return problems
}

// roundTripProblem checks that the bytes Envoy will read decode to exactly
// the proto that was validated.
func roundTripProblem(res *Result) string {
	if res.Existing {
		return ""
	}
	b, err := validate.Decode(res.Bytes)
	if err != nil {
		return fmt.Sprintf("the written bytes do not decode: %v", err)
	}
	want, err1 := validate.CanonicalJSON(res.Bootstrap)
	got, err2 := validate.CanonicalJSON(b)
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("canonical JSON: %v, %v", err1, err2)
	}
	if string(want) != string(got) {
		return fmt.Sprintf("the written bytes decode to a different bootstrap (-validated +read back):\n%s",
			cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
	}
	if !proto.Equal(b, res.Bootstrap) {
		return "the written bytes decode to a bootstrap that is not proto.Equal to the validated one"
	}
	return ""
}

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestNoInjectionDetectsBareInterpolation guards the guard: with one `q`
// removed from the sidecar template, the structure canary must be reported.
func TestNoInjectionDetectsBareInterpolation(t *testing.T) {
	text := embeddedTemplate(t, "sidecar.yaml.tmpl")
	bare := strings.Replace(text, "cluster: {{ q .Node.Cluster }}", "cluster: {{ .Node.Cluster }}", 1)
	if bare == text {
		t.Fatal("the sidecar template no longer writes cluster: {{ q .Node.Cluster }}; update this test")
	}
	tmpl, err := LoadTemplates(writeOverlay(t, map[string]string{"sidecar.yaml.tmpl": bare}))
	if err != nil {
		t.Fatal(err)
	}
	c := injectionCase{variable: "APPMESH_RESOURCE_CLUSTER", expect: rendered}
	vars := func(v string) map[string]string {
		m := maps.Clone(injectionBase)
		m[c.variable] = v
		return m
	}
	res, err := renderVars(vars("benign"), Options{Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	basePaths := jsonPaths(canonicalDoc(t, res), "benign")
	canary := canaries["structure"]
	res, err = renderVars(vars(canary), Options{Templates: tmpl})
	problems := injectionProblems(t, c, canary, canary, basePaths, res, err)
	if len(problems) == 0 {
		t.Fatal("a bare {{ .Node.Cluster }} went unnoticed")
	}
	t.Logf("detected as expected: %s", problems[0])
}
