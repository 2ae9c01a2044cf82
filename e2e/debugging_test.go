package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 21, part 2: debugging without curl and without exposing Envoy's admin.

// standinSecrets are the secret values envoy-standin's /config_dump holds (its SecretMarker
// followed by these names).
var standinSecrets = []string{"private-key", "key-password", "pkcs12", "session-ticket-key", "trusted-ca", "hmac",
	"oauth2-token", "oauth2-client-secret"}

// assertNoSecrets fails when any of the stand-in's secrets is in out, in clear or in base64.
func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range standinSecrets {
		v := "STANDIN-SECRET-" + s
		if strings.Contains(out, v) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(v))) {
			t.Errorf("%s: the secret %s is in the output", what, v)
		}
	}
	if strings.Contains(out, "STANDIN-SECRET") {
		t.Errorf("%s: a secret marker is in the output:\n%s", what, out)
	}
}

// `appnet-agent admin` reaches the running agent where its variables put the management API
// — its Unix socket or its TCP port — prints the answers, exits 4 on an error status and 3
// when nothing answers; Envoy's config dump comes through with every secret redacted.
func TestAdminCommandReachesTheAgent(t *testing.T) {
	for _, uds := range []bool{true, false} {
		t.Run(map[bool]string{true: "uds", false: "tcp"}[uds], func(t *testing.T) {
			a := startAgent(t, agentOpts{uds: uds, waitLive: true})
			admin := func(args ...string) cmdResult {
				return runCommand(t, "", a.environ(), append([]string{"admin"}, args...)...)
			}
			r := admin("GET", "/status").mustSucceed(t, "admin GET /status")
			if !strings.Contains(r.stdout, `"healthStatus": "HEALTHY"`) {
				t.Errorf("/status: %s", r.stdout)
			}
			r = admin("GET", "/envoy/config_dump?resource=static_secrets&include_eds").mustSucceed(t, "admin GET /envoy/config_dump")
			assertNoSecrets(t, "config_dump", r.stdout)
			var dump map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &dump); err != nil {
				t.Fatalf("config_dump is not JSON: %v\n%s", err, r.stdout)
			}
			for _, want := range []string{`"name": "tls-cert"`, `"name": "oauth2"`, `"private_key": {`, `"[redacted]"`} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("config_dump lacks %s", want)
				}
			}
			if calls := a.adminCalls("/config_dump"); len(calls) != 1 || calls[0] != "GET /config_dump?include_eds=&resource=static_secrets" {
				t.Errorf("Envoy saw %q", calls)
			}
			for _, p := range []string{"/envoy/clusters", "/envoy/listeners?format=json", "/envoy/server_info", "/envoy/runtime", "/envoy/ready", "/ready", "/live"} {
				admin("GET", p).mustSucceed(t, "admin GET "+p)
			}
			admin("POST", "/enableLogging?level=debug").mustSucceed(t, "admin POST /enableLogging")
			if r := admin("GET", "/envoy/quitquitquit"); r.code != 4 || !strings.Contains(r.stderr, "404") || r.stdout != "" {
				t.Errorf("GET of an unproxied page: exit %d, stderr %q", r.code, r.stderr)
			}
			if r := admin("--agent", "unix:"+a.dir+"/none.sock", "GET", "/status"); r.code != 3 || !strings.Contains(r.stderr, "cannot reach the agent's management API") {
				t.Errorf("nothing listening: exit %d, stderr %q", r.code, r.stderr)
			}
			if len(a.adminCalls("/quitquitquit")) > 0 {
				t.Error("Envoy was asked to quit")
			}
		})
	}
}

// The read-only listener serves the scrapes and the read-only pages, redacted, and refuses
// every mutating endpoint, whatever the method, with the management API on its socket.
func TestScrapeListenerRefusesMutations(t *testing.T) {
	port := testenv.FreePort(t)
	a := startAgent(t, agentOpts{uds: true, waitLive: true, env: []string{
		"APPNET_AGENT_SCRAPE_PORT=" + strconv.Itoa(port), "APPNET_AGENT_SCRAPE_BIND_ADDRESS=127.0.0.1"}})
	scrape := *a
	scrape.base = "http://127.0.0.1:" + strconv.Itoa(port)
	scrape.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer scrape.client.CloseIdleConnections()
	for _, p := range []string{"/status", "/ready", "/live", "/metrics", "/stats/prometheus", "/envoy/config_dump", "/envoy/clusters"} {
		code, body := scrape.get("GET", p)
		if code != 200 {
			t.Errorf("GET %s on the scrape listener: %d %s", p, code, body)
		}
		assertNoSecrets(t, p, body)
	}
	for _, p := range []string{"/enableLogging?level=trace", "/drain_listeners?graceful", "/drain_listeners?inboundonly", "/shutdown", "/quitquitquit",
		"//drain_listeners?graceful", "/logging?level=trace", "/healthcheck/fail", "/runtime_modify?a=b", "/reset_counters"} {
		for _, m := range []string{"POST", "GET", "PUT"} {
			if code, body := scrape.get(m, p); code != http.StatusForbidden || !strings.Contains(body, "read-only listener") {
				t.Errorf("%s %s on the scrape listener: %d %q", m, p, code, body)
			}
		}
	}
	for _, p := range []string{"/logging", "/drain_listeners", "/healthcheck", "/runtime_modify", "/reset_counters", "/quitquitquit"} {
		if calls := a.adminCalls(p); len(calls) > 0 {
			t.Errorf("Envoy saw %q through the scrape listener", calls)
		}
	}
	if code, _ := a.get("POST", "/enableLogging?level=debug"); code != 200 {
		t.Errorf("POST /enableLogging on the socket: %d", code)
	}
}

// /ready turns 200 when Envoy is LIVE and HEALTHY and 503 again, with the reason, as soon as
// the agent drains; /live stays 200 throughout.
func TestReadyAndLiveProbes(t *testing.T) {
	a := startAgent(t, agentOpts{env: []string{"STANDIN_READY_SEQUENCE=INITIALIZING:1500ms,LIVE", "STANDIN_DOWNSTREAM_CX=1", "LISTENER_DRAIN_WAIT_TIME_S=5"}})
	probe := func(path string) (int, string) { return a.get("GET", path) }
	if code, body := probe("/live"); code != 200 || !strings.HasPrefix(body, "live: ") {
		t.Errorf("/live while Envoy starts: %d %q", code, body)
	}
	if code, body := probe("/ready"); code != 503 || !strings.HasPrefix(body, "not ready: ") {
		t.Errorf("/ready while Envoy initializes: %d %q", code, body)
	}
	if !testenv.Poll(20*time.Second, func() bool { code, _ := probe("/ready"); return code == 200 }) {
		code, body := probe("/ready")
		a.fatalf("/ready never 200; last %d %q", code, body)
	}
	a.signal(syscall.SIGTERM)
	if !testenv.Poll(10*time.Second, func() bool {
		code, body := probe("/ready")
		return code == 503 && strings.Contains(body, "the agent is shutting down")
	}) {
		code, body := probe("/ready")
		a.fatalf("/ready not 503 while draining; last %d %q", code, body)
	}
	if code, body := probe("/live"); code != 200 || !strings.HasPrefix(body, "live: ") {
		t.Errorf("/live while draining: %d %q", code, body)
	}
	a.wait(30 * time.Second)
}
