package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
)

// refusedBootstrap is what the validator refuses and envoy-standin (which reads only admin and node) runs: a
// LOGICAL_DNS cluster without its one endpoint (Envoy: logical_dns_cluster.cc), and a lazily resolved cluster
// reference that is only a warning (a tcp_proxy naming a cluster that does not exist).
const refusedBootstrap = `static_resources:
  clusters: [{name: dns, type: LOGICAL_DNS}]
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 1}}
    filter_chains: [{filters: [{name: tcp, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: tcp, cluster: missing}}]}]
`

// TestValidationEnforce: by default a bootstrap the validator refuses stops the agent before Envoy starts (exit
// 1), the error naming the field path.
func TestValidationEnforce(t *testing.T) {
	t.Parallel()
	a := startAgent(t, agentOpts{bootstrap: refusedBootstrap, noWaitUp: true})
	if code := a.wait(20 * time.Second); code != 1 {
		a.fatalf("exit %d, want 1", code)
	}
	if out := a.output(); !strings.Contains(out, "static_resources.clusters[0]") || !strings.Contains(out, "LOGICAL_DNS") {
		a.fatalf("the error does not name the field")
	}
	if starts := envoyStarts(a.events()); len(starts) != 0 {
		a.fatalf("Envoy was started: %v", starts)
	}
}

// TestValidationWarn: with APPNET_VALIDATION=warn the agent logs every problem once with its field path, starts
// Envoy anyway, and /status and /metrics count the problems (one error, one warning).
func TestValidationWarn(t *testing.T) {
	t.Parallel()
	a := startAgent(t, agentOpts{bootstrap: refusedBootstrap, env: []string{"APPNET_VALIDATION=warn"}, waitLive: true})
	st := a.waitStatus("bootstrapProblems", 5*time.Second, func(s api.Status) bool { return s.BootstrapProblems > 0 })
	if st.BootstrapProblems != 2 {
		t.Errorf("bootstrapProblems = %d, want 2", st.BootstrapProblems)
	}
	if starts := envoyStarts(a.events()); len(starts) != 1 {
		t.Errorf("Envoy starts: %v", starts)
	}
	out := a.output()
	for _, want := range []string{
		"bootstrap error, ignored as APPNET_VALIDATION=warn (Envoy starts anyway): static_resources.clusters[0]",
		`bootstrap warning: static_resources.listeners[0].filter_chains[0].filters[0].typed_config<TcpProxy>.cluster: unknown cluster "missing"`,
	} {
		if n := strings.Count(out, want); n != 1 {
			a.fatalf("%q logged %d times, want once", want, n)
		}
	}
	_, body, _ := a.call("GET", "/metrics")
	for _, want := range []string{`appnet_agent_bootstrap_problems{severity="error"} 1`, `appnet_agent_bootstrap_problems{severity="warning"} 1`} {
		if !regexp.MustCompile(regexp.QuoteMeta(want) + `\b`).MatchString(body) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
