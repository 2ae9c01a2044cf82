package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-c", "/b.yaml", "-l", "warn", "--concurrency=4", "--drain-time-s", "20",
		"--disable-hot-restart", "--skip-deprecated-logs", "--component-log-level", "upstream:debug"})
	if err != nil {
		t.Fatal(err)
	}
	if o.configPath != "/b.yaml" || o.logLevel != "warning" || o.concurrency != 4 || !o.concurrencySet ||
		o.drainTimeS != 20 || !o.disableHotRestart || !o.skipDeprecated || o.componentLevels["upstream"] != "debug" {
		t.Errorf("parsed %+v", o)
	}
	for _, bad := range [][]string{{"--nope"}, {"-x"}, {"-l"}, {"--mode", "fast"}, {"--version=1"},
		{"--component-log-level", "nosuch:debug"}, {"--drain-time-s", "-1"}, {"--", "x"}, {"="}, {""}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseBootstrapDocs(t *testing.T) {
	cases := map[string]string{
		"block": `
# leading comment
node: {id: "n1", cluster: c1}
static_resources:
  listeners:
  - name: admin          # a list item named like a root key
    address:
      socket_address: {address: 10.0.0.1, port_value: 1}
  clusters: []
layered_runtime:
  layers:
  - name: static
    static_layer:
      admin: not-this-one
admin:
  access_log_path: "/dev/null"   # comment
  address:
    socket_address:
      address: '127.0.0.1'
      port_value: 9901
`,
		"camel":          "admin:\n  address:\n    socketAddress:\n      address: 127.0.0.1\n      portValue: \"9901\"\nnode:\n  id: n1\n  cluster: c1\n",
		"flow-multiline": "node: {id: n1,\n  cluster: c1}\nadmin: {address: {socket_address: {\n  address: 127.0.0.1, port_value: 9901}}}\n",
		"json":           `{"node":{"id":"n1","cluster":"c1"},"admin":{"address":{"socket_address":{"address":"127.0.0.1","port_value":9901}}}}`,
		"block-scalar":   "node:\n  id: n1\n  cluster: c1\nlua: |\n  admin:\n    address: nope\nadmin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: 9901}\n",
	}
	want := &bootstrapInfo{adminNetwork: "tcp", listenNet: "tcp4", adminAddress: "127.0.0.1:9901", nodeID: "n1", nodeCluster: "c1"}
	for name, doc := range cases {
		m, err := parseBootstrapDoc(doc, false)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := extractBootstrap(m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got.raw = nil // the whole document, kept for /config_dump
		listeners := got.listeners
		got.listeners = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v", name, got)
		}
		wantListeners := []bootstrapListener(nil)
		if name == "block" {
			wantListeners = []bootstrapListener{{name: "admin", address: "10.0.0.1:1", network: "tcp4"}}
		}
		if !reflect.DeepEqual(listeners, wantListeners) {
			t.Errorf("%s: listeners %+v, want %+v", name, listeners, wantListeners)
		}
	}
}

func TestBootstrapListeners(t *testing.T) {
	doc := `static_resources:
  listeners:
  - name: ingress
    traffic_direction: INBOUND
    address: {socket_address: {address: 127.0.0.1, port_value: 15000}}
  - name: egress
    trafficDirection: OUTBOUND
    address: {socketAddress: {address: "::1", portValue: "0"}}
  - name: on-a-pipe
    address: {pipe: {path: /tmp/l.sock}}
  - address: {socket_address: {address: 0.0.0.0}}
`
	m, err := parseBootstrapDoc(doc, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := extractBootstrap(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []bootstrapListener{
		{name: "ingress", address: "127.0.0.1:15000", network: "tcp4", inbound: true},
		{name: "egress", address: "[::1]:0", network: "tcp6"},
		{name: "listener_3", address: "0.0.0.0:0", network: "tcp4"},
	}
	if !reflect.DeepEqual(got.listeners, want) {
		t.Errorf("listeners %+v, want %+v", got.listeners, want)
	}
	m, _ = parseBootstrapDoc("static_resources: {listeners: [{address: {socket_address: {address: example.com}}}]}", false)
	if _, err := extractBootstrap(m); err == nil || !strings.Contains(err.Error(), "malformed IP address") {
		t.Errorf("a hostname listener: %v", err)
	}
}

func TestBootstrapPipeAndErrors(t *testing.T) {
	for doc, mode := range map[string]os.FileMode{
		"admin:\n  address:\n    pipe:\n      path: /tmp/a.sock\n      mode: 384\n":  0o600,
		"admin:\n  address:\n    pipe:\n      path: /tmp/a.sock\n      mode: 0660\n": 0o660,
		"admin:\n  address:\n    pipe: {path: /tmp/a.sock}\n":                        0o600,
	} {
		m, err := parseBootstrapDoc(doc, false)
		if err != nil {
			t.Fatal(err)
		}
		b, err := extractBootstrap(m)
		if err != nil || b.adminNetwork != "unix" || b.adminAddress != "/tmp/a.sock" || b.pipeMode != mode {
			t.Errorf("%q: %+v %v", doc, b, err)
		}
	}
	for doc, want := range map[string]string{
		"admin: {address: {socketAddress: {address: '::', ipv4Compat: true, portValue: 9999}}}": "tcp [::]:9999",
		"admin: {address: {socket_address: {address: '::1', port_value: 1}}}":                   "tcp6 [::1]:1",
		"admin: {address: {socket_address: {address: 0.0.0.0}}}":                                "tcp4 0.0.0.0:0",
	} {
		m, err := parseBootstrapDoc(doc, false)
		if err != nil {
			t.Fatal(err)
		}
		b, err := extractBootstrap(m)
		if err != nil || b.listenNet+" "+b.adminAddress != want {
			t.Errorf("%q: %+v %v, want %s", doc, b, err, want)
		}
	}
	for _, doc := range []string{
		"", "   \n", "admin: {address: {socket_address: {address: localhost, port_value: 1}}}", "{\"admin\": ", "admin: {address: {socket_address: {address: x, port_value: 70000}}}",
		"admin: {address: {socket_address: {port_value: 1}}}", "admin: {address: {pipe: {mode: 1}}}",
		"admin: {address: {}}", "\tadmin: x", "just text", "admin: {address: [1, 2}",
	} {
		m, err := parseBootstrapDoc(doc, strings.HasPrefix(doc, "{\""))
		if err == nil {
			_, err = extractBootstrap(m)
		}
		if err == nil {
			t.Errorf("%q accepted", doc)
		}
	}
}

func FuzzBootstrap(f *testing.F) {
	for _, seed := range []string{"admin: {address: {socket_address: {address: a, port_value: 1}}}",
		"a:\n  - b: [c, {d: 'e''f'}]\n  g: |\n    h\n", "{[}]", "'x': \"y\\\"\" # c", strings.Repeat("[", 200)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		if m, err := parseBootstrapDoc(doc, false); err == nil {
			_, _ = extractBootstrap(m)
		}
	})
}

func TestParseSequenceAndScript(t *testing.T) {
	q, err := parseSequence("PRE_INITIALIZING:200ms,INITIALIZING:0.3,LIVE")
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[time.Duration]string{0: "PRE_INITIALIZING", 250 * time.Millisecond: "INITIALIZING",
		499 * time.Millisecond: "INITIALIZING", time.Second: "LIVE"} {
		if got := q.at(at); got != want {
			t.Errorf("at %v: %q, want %q", at, got, want)
		}
	}
	for _, bad := range []string{"", "A,B", "A:x,B", "A:-1s,B"} {
		if _, err := parseSequence(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	env := map[string]string{"STANDIN_DELAY_PATHS": "/ready:2s,/stats:300ms", "STANDIN_EXIT_SIGNAL": "segv",
		"STANDIN_GARBAGE": "/stats", "STANDIN_SPAWN_ORPHAN": "true"}
	sc, err := parseScript(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || sc.delayPaths["/ready"] != 2*time.Second || sc.exitSignal != 11 || !sc.garbagePaths["/stats"] ||
		sc.orphan != time.Second {
		t.Errorf("script %+v, %v", sc, err)
	}
	for k, v := range map[string]string{"STANDIN_EXIT_CODE": "300", "STANDIN_LIFETIME": "soon",
		"STANDIN_STATUS_PATHS": "/x:99", "STANDIN_DELAY_PATHS": "ready:1s", "STANDIN_EXIT_SIGNAL": "SIGNOPE"} {
		if _, err := parseScript(func(k2 string) (string, bool) { return v, k2 == k }); err == nil {
			t.Errorf("%s=%s accepted", k, v)
		}
	}
}
