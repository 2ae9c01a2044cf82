package render

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/validate"
)

// at walks a generic JSON document: string steps index maps, int steps lists.
func at(doc any, path ...any) any {
	for _, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := doc.(map[string]any)
			if !ok {
				return nil
			}
			doc = m[s]
		case int:
			l, ok := doc.([]any)
			if !ok || s >= len(l) {
				return nil
			}
			doc = l[s]
		}
	}
	return doc
}

// knownStructNumberBug marks a production bug this fuzzer found: a number in
// a google.protobuf.Struct (node metadata from the JSON mapping variables,
// user fragments) that is not an int32 integer, e.g. 2.5 or 9007199254740992,
// is validated as a number but written into the YAML bootstrap as a plain
// scalar, which Envoy's YAML loader (and validate.Decode, which mirrors it)
// reads back as the string "2.5". So Envoy does not read what was validated.
// Set it to false once render validates the bytes it writes (or writes JSON).
// Fixed: the merged tree is decoded the way Envoy's YAML loader reads it (such
// a number is validated as the string Envoy makes of it; see envoyStruct).
const knownStructNumberBug = false

// hasNonInt32Number reports whether the JSON text holds a number that is not
// an integer in int32 range (see knownStructNumberBug).
func hasNonInt32Number(text string) bool {
	var v any
	if json.Unmarshal([]byte(strings.TrimSpace(text)), &v) != nil {
		return false
	}
	found := false
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case float64:
			found = found || x != math.Trunc(x) || x < math.MinInt32 || x > math.MaxInt32
		}
	}
	walk(v)
	return found
}

// envoyStruct is a JSON value as Envoy holds it after loading it from a YAML
// bootstrap into a google.protobuf.Struct: a number that is not an integer in
// int32 range becomes the string of its JSON text (knownStructNumberBug's fix:
// the validated proto is what Envoy reads).
func envoyStruct(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = envoyStruct(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = envoyStruct(e)
		}
		return out
	case float64:
		if x != math.Trunc(x) || x < math.MinInt32 || x > math.MaxInt32 {
			j, _ := json.Marshal(x)
			return string(j)
		}
	}
	return v
}

// FuzzRender feeds arbitrary text through five free-text variables of
// different kinds (the node id, a name in a typed tracer config, an address
// in a socket address, a metadata string, a JSON mapping) with X-Ray, stats
// tags and DogStatsD on, so each lands in a different part of the template.
// A sixth input, extra, sets further variables (NAME=VALUE lines; NAME=
// unsets; @envoy=1.35.0 the Envoy release), never user input: it takes the
// templates into their other branches (other tracers, OpenTelemetry
// samplers, heap monitors, relay mode; branchSeeds).
// Invariants: no panic; an error never comes from the template or YAML layer
// (the value must be data or be refused by name) nor from which message
// types the build links (registryRefusals: under the tag appnet_lean, the lean
// registry refusing what the templates wrote); a bootstrap validates, reads
// back identically from the bytes Envoy gets, holds only message types of the
// lean build's list (leanTypeGaps; see leantypes_test.go for why that makes
// the lean verdict the full one), and, with no extra, holds each value
// verbatim where it belongs.
//
//	go test ./internal/render/ -run '^$' -fuzz '^FuzzRender$' -fuzztime 30s
//	go test -tags appnet_lean ./internal/render/ -run '^$' -fuzz '^FuzzRender$' -fuzztime 20s
func FuzzRender(f *testing.F) {
	checkBuildRegistry(f)
	structure := canaries["structure"]
	for _, seed := range [][5]string{
		{"mesh/m/virtualNode/n", "", "", "", ""},
		{"arn:aws:appmesh:us-west-2:1:mesh/foo/virtualNode/bar", "seg", "10.0.0.1", "ns1", `{"app":"10.0.0.5"}`},
		{"mesh/m/virtualNode/" + structure, structure, structure, structure, jsonObject(structure, structure)},
		{"mesh/m/virtualGateway/" + canaries["unicode"], canaries["unicode"], "::1", canaries["unicode"], jsonObject("k", canaries["unicode"])},
		{"mesh/m/virtualNode/n", "  padded  ", " 127.0.0.1 ", "\tns\n", ` {"a":{"b":[1,2.5,null,true,"x"]}} `},
		{"mesh/m/virtualNode/yes", "0700", "~", "null", `{"on":"off","1e3":1e3,"big":9007199254740993}`},
		{"mesh/m/virtualNode/{{ .Node.ID }}", "%REQ(:PATH)%", "[::1]", "{d}", `{"":""}`},
		{"not-a-mesh-resource", "s", "a", "n", `[1]`},
		{"arn:aws:ecs:us-west-2:1:task-set/c/s/e", "s", "host.example", "n", `{"x":"\u2028"}`},
		{"mesh/m/virtualNode/n\xff", "s\xfe", "a", "n\xc3", `{"k":"\xff"}`},
		{"mesh/m/virtualNode/a\x7fb", "a\u0085b", "a\u0080b", "a\ufffeb", `{"k":"\u007f"}`},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], "")
	}
	for _, s := range branchSeeds {
		f.Add(s.args[0], s.args[1], s.args[2], s.args[3], s.args[4], s.extra)
	}
	f.Fuzz(func(t *testing.T, nodeID, segment, address, namespace, mapping, extra string) {
		inputs := []string{nodeID, segment, address, namespace, mapping}
		vars := fuzzVars([5]string{nodeID, segment, address, namespace, mapping})
		version, extraApplied := applyExtra(vars, extra)
		var collector platform.Collector = fixedCollector
		if extraApplied {
			collector = fuzzCollector(version)
		}
		res, err := renderVars(vars, Options{Collector: collector})
		if refused := registryRefusals(res, err); len(refused) > 0 {
			t.Fatalf("the %s build's registry refuses what the templates wrote without user input:\n  %s\nvariables:\n%s",
				buildName, strings.Join(refused, "\n  "), varList(vars))
		}
		known := false // an input that triggers a known, reported production bug
		invalidUTF8 := false
		for _, in := range inputs {
			known = known || (knownControlCharBug && yamlForbidden(in))
			invalidUTF8 = invalidUTF8 || !utf8.ValidString(in)
		}
		numberBug := knownStructNumberBug && hasNonInt32Number(mapping)
		if err != nil {
			msg := err.Error()
			if strings.HasPrefix(msg, "panic:") {
				t.Fatalf("render panicked: %s", msg)
			}
			if known {
				return
			}
			// q refuses invalid UTF-8 by design, from inside the template.
			if invalidUTF8 && strings.Contains(msg, "invalid UTF-8") {
				return
			}
			scrubbed := msg
			for _, in := range inputs {
				if in = strings.TrimSpace(in); in != "" {
					scrubbed = strings.ReplaceAll(scrubbed, in, "<value>")
				}
			}
			for _, bad := range []string{"template:", "rendered invalid YAML", "rendered ambiguous YAML", "invalid YAML", "yaml:"} {
				if strings.Contains(scrubbed, bad) {
					t.Fatalf("a value broke the template or YAML layer (%q) instead of being data or refused by name:\n%s", bad, msg)
				}
			}
			return
		}
		written, err := validate.Bootstrap(res.Bytes)
		if err != nil {
			t.Fatalf("the written bytes are not a valid bootstrap: %v\n%s", err, res.Bytes)
		}
		gaps, err := leanTypeGaps(written)
		if err != nil {
			t.Fatalf("walking the written bootstrap's message types: %v\nvariables:\n%s", err, varList(vars))
		}
		if len(gaps) > 0 {
			t.Fatalf("rendered without user input, the bootstrap holds message types %s lacks (the lean build "+
				"would refuse it or check it with fewer rules):\n  %s\nvariables:\n%s\nIf the templates may emit them: add "+
				"the branch to branchSeeds (leantypes_test.go), then go test ./internal/render/ -run TestFuzzSeedsReachTheirBranches "+
				"-update && go test ./internal/validate/ -run TestLeanTemplateTypes -update",
				leanTypesFile, strings.Join(gaps, "\n  "), varList(vars))
		}
		if p := roundTripProblem(res); p != "" && !known && !numberBug {
			t.Fatal(p)
		}
		if known || invalidUTF8 || extraApplied {
			// The first two are reported bugs: control characters change or
			// break the value; invalid UTF-8 reaching toJson (metadata) is
			// silently replaced with U+FFFD instead of refused like q does.
			// extra may move or drop what is checked below (other tracers, no
			// DogStatsD, relay mode).
			return
		}
		doc := canonicalDoc(t, res)
		want := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", what, got, want)
			}
		}
		want("node.id", at(doc, "node", "id"), strings.TrimSpace(nodeID))
		xray := at(doc, "tracing", "http", "typed_config")
		// XRAY_SEGMENT_NAME names the segment only for a mesh resource id (reference, M06).
		if _, err := parseMesh(strings.TrimSpace(nodeID)); err == nil {
			if s := strings.TrimSpace(segment); s != "" {
				want("segment_name", at(xray, "segment_name"), s)
			}
		} else if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.HasPrefix(w, "XRAY_SEGMENT_NAME is ignored") }) &&
			strings.TrimSpace(segment) != "" {
			t.Errorf("XRAY_SEGMENT_NAME %q ignored without a warning", segment)
		}
		if a := strings.TrimSpace(address); a != "" {
			// Stored without brackets: [::1] and ::1 are the same address.
			want("DogStatsD address", at(doc, "stats_sinks", 0, "typed_config", "address", "socket_address", "address"),
				strings.TrimSuffix(strings.TrimPrefix(a, "["), "]"))
		}
		md := at(doc, "node", "metadata")
		if n := strings.TrimSpace(namespace); n != "" {
			want("NamespaceName", at(md, "aws.ecs.serviceconnect.ServiceDiscovery", "NamespaceName"), n)
		}
		if m := strings.TrimSpace(mapping); m != "" {
			// Compared after the same JSON decoding env applies (numbers are
			// float64 in both, as in a protobuf Struct), then read the way
			// Envoy's YAML loader reads the written bootstrap (envoyStruct).
			var wantMap map[string]any
			if err := json.Unmarshal([]byte(m), &wantMap); err != nil {
				t.Fatalf("env accepted %q, which is not a JSON object: %v", m, err)
			}
			want("ClusterIPMapping", at(md, "aws.ecs.serviceconnect.ClusterIPMapping"), envoyStruct(wantMap))
		}
	})
}

// varList is vars as NAME=VALUE lines, sorted, for a failure to name its input.
func varList(vars map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(&b, "  %s=%q\n", name, vars[name])
	}
	return b.String()
}

// TestStructNumbersSurviveTheWrittenYAML pins knownStructNumberBug down with
// a deterministic reproduction: what Envoy reads from the written bytes must
// be what was validated, for every kind of JSON number in a mapping variable.
func TestStructNumbersSurviveTheWrittenYAML(t *testing.T) {
	for _, mapping := range []string{`{"i":15000}`, `{"neg":-2147483648}`, `{"f":2.5}`, `{"big":4294967296}`, `{"e":1e300}`} {
		t.Run(mapping, func(t *testing.T) {
			res, err := renderVars(map[string]string{
				"AWS_REGION": "us-west-2", "APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n",
				"APPNET_CONTAINER_IP_MAPPING": mapping, // any JSON values (ports must be ports)
			}, Options{Collector: fixedCollector})
			if err != nil {
				t.Fatal(err)
			}
			p := roundTripProblem(res)
			switch {
			case p == "":
				if knownStructNumberBug && hasNonInt32Number(mapping) {
					t.Errorf("%s survives now: set knownStructNumberBug to false", mapping)
				}
			case knownStructNumberBug && hasNonInt32Number(mapping):
				t.Logf("known bug (knownStructNumberBug): %s", strings.SplitN(p, "\n", 2)[0])
			default:
				t.Error(p)
			}
		})
	}
}
