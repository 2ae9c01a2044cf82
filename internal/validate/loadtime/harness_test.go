package loadtime_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/validate"
)

// ruleCase is one bootstrap for a rule: accepted when msg is empty, otherwise rejected with a problem at path
// whose message contains msg (and, for a load-time rule, names the Envoy source of the rule).
type ruleCase struct {
	name, yaml string
	path, msg  string
}

// caseTable is one test's cases. layer marks the cases of the validator's own layers (decoding, PGV, cross
// references), whose problems do not cite an Envoy source file and which run with render's options.
type caseTable struct {
	cases func() []ruleCase
	layer bool
}

// caseTables are every rule test's cases, registered by the test files' init functions: the inventory test
// (inventory_test.go) finds there the cases that docs/envoy-checks names.
var caseTables []caseTable

func registerCases(tables ...func() []ruleCase) {
	for _, t := range tables {
		caseTables = append(caseTables, caseTable{cases: t})
	}
}

func registerLayerCases(tables ...func() []ruleCase) {
	for _, t := range tables {
		caseTables = append(caseTables, caseTable{cases: t, layer: true})
	}
}

// namedCase is a case with the kind of its table.
type namedCase struct {
	ruleCase
	layer bool
}

// allCases returns every registered case by name, and the names used more than once.
func allCases() (byName map[string]namedCase, dups []string) {
	byName = map[string]namedCase{}
	for _, table := range caseTables {
		for _, tc := range table.cases() {
			if _, dup := byName[tc.name]; dup {
				dups = append(dups, tc.name)
			}
			byName[tc.name] = namedCase{tc, table.layer}
		}
	}
	return byName, dups
}

// problemsOf runs a case through the real validator (decode, then every check with the walker), so that a rule is
// tested where it is registered; a bootstrap that does not decode yields the decoding problems.
func problemsOf(tc namedCase) validate.Problems {
	b, err := validate.Decode([]byte(tc.yaml))
	if err != nil {
		var ps validate.Problems
		if errors.As(err, &ps) {
			return ps
		}
		return validate.Problems{{Message: "decode: " + err.Error()}}
	}
	return validate.CheckWith(b, validate.Options{RequireNode: tc.layer})
}

// matching returns the problem a rejected case expects, or false.
func matching(tc namedCase, probs validate.Problems) (validate.Problem, bool) {
	for _, p := range probs {
		if p.Path == tc.path && strings.Contains(p.Message, tc.msg) && (tc.layer || strings.Contains(p.Message, "(Envoy: source/")) {
			return p, true
		}
	}
	return validate.Problem{}, false
}

// runRules checks each case of a load-time rule table.
func runRules(t *testing.T, cases []ruleCase) { runCases(t, cases, false) }

// runLayerCases checks each case of a table of the validator's own layers.
func runLayerCases(t *testing.T, cases []ruleCase) { runCases(t, cases, true) }

func runCases(t *testing.T, cases []ruleCase, layer bool) {
	t.Helper()
	for _, c := range cases {
		tc := namedCase{c, layer}
		t.Run(tc.name, func(t *testing.T) {
			probs := problemsOf(tc)
			if tc.msg == "" {
				if probs != nil {
					t.Fatalf("rejected:\n%v", probs)
				}
				return
			}
			if _, ok := matching(tc, probs); !ok {
				t.Errorf("no problem at %s containing %q; got:\n%v", tc.path, tc.msg, probs)
			}
		})
	}
}

// Building blocks for the cases.
const (
	hcmType    = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	routerType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
	tcpType    = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
	hcmPath    = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config<HttpConnectionManager>"
	routeCfg   = hcmPath + ".route_config"
)

// cluster returns a bootstrap with one cluster given as a YAML flow mapping body.
func cluster(body string) string {
	return "static_resources:\n  clusters:\n  - {name: c, connect_timeout: 1s, " + body + "}\n"
}

// listener returns a bootstrap with one listener on 0.0.0.0:8080 given as a YAML block under "- ".
func listener(body string) string {
	return "static_resources:\n  clusters:\n  - {name: app, type: STATIC, load_assignment: {cluster_name: app, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}}]}]}}\n" +
		"  listeners:\n  - name: l\n    address: {socket_address: {address: 0.0.0.0, port_value: 8080}}\n" + indent(body, "    ")
}

// hcm returns a bootstrap whose listener runs an HCM with the given extra fields (YAML block, no indentation)
// and, unless the extra fields set their own, a router and a route table routing / to cluster app.
func hcm(extra string) string {
	body := "stat_prefix: in\n"
	if !strings.Contains(extra, "route_config:") && !strings.Contains(extra, "rds:") {
		body += "route_config: {virtual_hosts: [{name: all, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}}]}]}\n"
	}
	if !strings.Contains(extra, "http_filters:") {
		body += "http_filters: [{name: envoy.filters.http.router, typed_config: {'@type': " + routerType + "}}]\n"
	}
	body += extra
	return listener("filter_chains:\n- filters:\n  - name: hcm\n    typed_config:\n      '@type': " + hcmType + "\n" + indent(body, "      "))
}

// routes returns a bootstrap whose HCM has the given route_config body (YAML block).
func routes(body string) string {
	return hcm("route_config:\n" + indent(body, "  "))
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// warnCase is a bootstrap that some Envoy of 1.35-1.40, or some build, loads although a load-time check of
// another refuses it: accepted (no error), with a warning at path whose message contains msg and cites Envoy.
type warnCase struct {
	name, yaml string
	path, msg  string
}

// runWarnings checks each warning case through the real validator.
func runWarnings(t *testing.T, cases []warnCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := validate.Decode([]byte(tc.yaml))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			ps := validate.Inspect(b, validate.Options{})
			if errs := ps.Errors(); errs != nil {
				t.Fatalf("rejected:\n%v", errs)
			}
			for _, p := range ps.Warnings() {
				if p.Path == tc.path && strings.Contains(p.Message, tc.msg) && strings.Contains(p.Message, "(Envoy: source/") {
					return
				}
			}
			t.Errorf("no warning at %s containing %q; got:\n%v", tc.path, tc.msg, ps)
		})
	}
}
