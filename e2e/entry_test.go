package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/dispatch"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// The entry point, appnet-agent, is the lean build; it execs appnet-agent-full, installed next to it, for user
// input (internal/dispatch, docs/DESIGN.md). These tests run the binaries as installed (agentBin's directory holds
// the three) and as installed without appnet-agent-full (install).

// serviceConnect is the Service Connect sidecar's environment (examples/service-connect.env, with Envoy's admin on
// the test's TCP port instead of the fixed Unix socket).
func serviceConnect(a *agent) []string {
	return []string{
		"APPMESH_RESOURCE_ARN=arn:aws:ecs:us-west-2:123456789012:task-set/demo-cluster/web/ecs-svc/1234567890",
		"APPMESH_XDS_ENDPOINT=unix://" + filepath.Join(a.dir, "relay_xds.sock"),
		"APPMESH_METRIC_EXTENSION_VERSION=1",
		`APPNET_CONTAINER_IP_MAPPING={"web":"127.0.0.1"}`, `APPNET_LISTENER_PORT_MAPPING={"web":15000}`,
		"NAMESPACE_NAME=demo",
	}
}

// TestDefaultsRunInTheLeanBuild: the App Mesh and Service Connect defaults (no user input) are rendered,
// validated and started by the lean build alone: installed without appnet-agent-full, the agent starts Envoy and
// hands over to the supervisor.
func TestDefaultsRunInTheLeanBuild(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"App Mesh", "Service Connect"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			entry := install(t, t.TempDir(), "appnet-agent", "appnet-agent-supervisor") // no appnet-agent-full
			a := newAgent(t)
			if mode == "Service Connect" {
				a.setenv(serviceConnect(a)...)
			}
			a.prefix = []string{"/bin/sh", "-c", `exec "$0"`, entry} // the copy, in the agent's place
			a.start()
			a.waitEnvoyUp(1)
			supervisor := filepath.Join(filepath.Dir(entry), "appnet-agent-supervisor")
			if !testenv.Poll(10*time.Second, func() bool {
				exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", a.cmd.Process.Pid))
				return exe == supervisor
			}) {
				a.fatalf("the agent never handed over to %s", supervisor)
			}
			if n := strings.Count(a.stderr(), "bootstrap ready"); n != 1 || strings.Contains(a.stderr(), dispatch.FullName) {
				a.fatalf("want one \"bootstrap ready\" and no word of %s", dispatch.FullName)
			}
			if err := syscall.Kill(a.cmd.Process.Pid, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := a.wait(20 * time.Second); code != 0 {
				a.fatalf("exit code %d after SIGTERM, want 0", code)
			}
		})
	}
}

// resourcesWithTCPProxy is a resources fragment whose listener has a TcpProxy: a type no built-in template emits,
// which only the full validator knows.
const resourcesWithTCPProxy = `static_resources:
  listeners:
  - name: l1
    address: {socket_address: {address: 127.0.0.1, port_value: 15000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: l1
          cluster: c1
  clusters:
  - name: c1
    type: STATIC
`

// TestUserInputRunsTheFullBuild: with a resources file the lean build execs appnet-agent-full, which validates
// the TcpProxy, writes the merged bootstrap and starts Envoy once, handing over as usual.
func TestUserInputRunsTheFullBuild(t *testing.T) {
	t.Parallel()
	a := newAgent(t)
	a.setenv("ENVOY_RESOURCES_CONFIG_FILE=" + writeFile(t, a.dir, "resources.yaml", resourcesWithTCPProxy, 0o644))
	a.start()
	a.waitEnvoyUp(1)
	a.waitHandedOver()
	boot, err := os.ReadFile(a.boot)
	if err != nil || !strings.Contains(string(boot), "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy") {
		a.fatalf("the bootstrap has no TcpProxy (%v):\n%s", err, boot)
	}
	if n := strings.Count(a.stderr(), "bootstrap ready"); n != 1 {
		a.fatalf("\"bootstrap ready\" logged %d times, want once", n)
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 0 {
		a.fatalf("exit code %d after SIGTERM, want 0", code)
	}
	if starts := envoyStarts(a.events()); len(starts) != 1 {
		a.fatalf("Envoy started %d times, want once", len(starts))
	}
}

// TestUserInputWithoutFullBuild: installed without appnet-agent-full, a run with user input exits 1 before
// Envoy starts, naming the missing path and the variable that needs it.
func TestUserInputWithoutFullBuild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, variable string }{
		{"resources file", "ENVOY_RESOURCES_CONFIG_FILE"},
		{"template overlay", "APPNET_TEMPLATE_DIR"},
		{"existing bootstrap", "ENVOY_CONFIG_FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			entry := install(t, t.TempDir(), "appnet-agent", "appnet-agent-supervisor") // no appnet-agent-full
			a := newAgent(t)
			switch tc.variable {
			case "ENVOY_RESOURCES_CONFIG_FILE":
				a.setenv(tc.variable + "=" + writeFile(t, a.dir, "resources.yaml", resourcesWithTCPProxy, 0o644))
			case "APPNET_TEMPLATE_DIR":
				a.setenv(tc.variable + "=" + t.TempDir())
			case "ENVOY_CONFIG_FILE":
				if err := os.WriteFile(a.boot, []byte("node: {id: n, cluster: c}\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			a.prefix = []string{"/bin/sh", "-c", `exec "$0"`, entry}
			if code := a.run(30 * time.Second); code != 1 {
				a.fatalf("exit code %d, want 1", code)
			}
			want := tc.variable + " is set needs the full validator, " + filepath.Join(filepath.Dir(entry), dispatch.FullName) + ", which cannot be run"
			if !strings.Contains(a.stderr(), want) {
				a.fatalf("no line saying %q", want)
			}
			if starts := envoyStarts(a.events()); len(starts) != 0 {
				a.fatalf("Envoy started %d times, want never", len(starts))
			}
		})
	}
}
