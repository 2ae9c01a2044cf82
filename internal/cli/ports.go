package cli

import (
	"fmt"
	"net"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/appnet/appnet-agent/internal/env"
)

// checkPortClash refuses an agent port that Envoy binds too — the management API's
// (APPNET_AGENT_HTTP_PORT, in tcp mode) or the scrape listener's (APPNET_AGENT_SCRAPE_PORT) —
// when it is Envoy's admin port or the port of a static listener in the bootstrap. The agent
// binds its ports first, so Envoy would fail to bind on every start, and the agent would exit
// only once the restart budget is spent, with Envoy's bind error. Addresses that cannot both
// accept the same connection (127.0.0.1 and 10.0.0.5, or an IPv4 and an IPv6-only address) do
// not clash; UDP listeners and pipes never do. (The two agent ports against each other are
// checked with the variables, in internal/env.)
func checkPortClash(cfg *env.Config, b *bootstrapv3.Bootstrap, given string) error {
	for _, agent := range agentBindings(cfg) {
		if err := checkEnvoyClash(agent, b, given); err != nil {
			return err
		}
	}
	return nil
}

// agentBinding is a TCP port the agent listens on, and the variable that sets it.
type agentBinding struct {
	variable string
	tcpBinding
}

// agentBindings are the TCP ports the agent will listen on.
func agentBindings(cfg *env.Config) []agentBinding {
	var out []agentBinding
	if cfg.API.AdminMode != nil && *cfg.API.AdminMode != "uds" {
		out = append(out, agentBinding{"APPNET_AGENT_HTTP_PORT",
			tcpBinding{host: string(cfg.API.HTTPBindAddress), port: uint32(cfg.API.HTTPPort), dualStack: true}})
	}
	if p := cfg.API.ScrapePort; p != nil {
		out = append(out, agentBinding{"APPNET_AGENT_SCRAPE_PORT",
			tcpBinding{host: string(cfg.API.ScrapeBindAddress), port: uint32(*p), dualStack: true}})
	}
	return out
}

func checkEnvoyClash(agent agentBinding, b *bootstrapv3.Bootstrap, given string) error {
	clash := func(a *corev3.Address, what string) error {
		sa := a.GetSocketAddress()
		if sa == nil || sa.GetProtocol() != corev3.SocketAddress_TCP || !agent.clashes(envoyBinding(sa)) {
			return nil
		}
		return fmt.Errorf("%s: %d is also %s (%s): Envoy could not bind it while the agent listens there, and would fail at every start; choose another port",
			agent.variable, agent.port, what, net.JoinHostPort(sa.GetAddress(), fmt.Sprint(sa.GetPortValue())))
	}
	admin := "Envoy's admin port (ENVOY_ADMIN_ACCESS_PORT)"
	if given != "" {
		admin = "Envoy's admin port (admin.address in " + given + ")"
	}
	if err := clash(b.GetAdmin().GetAddress(), admin); err != nil {
		return err
	}
	for _, l := range b.GetStaticResources().GetListeners() {
		what := fmt.Sprintf("the port of Envoy's static listener %q", l.GetName())
		if err := clash(l.GetAddress(), what); err != nil {
			return err
		}
		for _, extra := range l.GetAdditionalAddresses() {
			if err := clash(extra.GetAddress(), what); err != nil {
				return err
			}
		}
	}
	return nil
}

// tcpBinding is a TCP listening address: host an IP literal (brackets allowed), dualStack
// whether an IPv6 wildcard also accepts IPv4 (Go's listeners do; Envoy's only with
// ipv4_compat).
type tcpBinding struct {
	host      string
	port      uint32
	dualStack bool
}

func envoyBinding(sa *corev3.SocketAddress) tcpBinding {
	return tcpBinding{host: sa.GetAddress(), port: sa.GetPortValue(), dualStack: sa.GetIpv4Compat()}
}

// clashes reports whether the two bindings could accept the same connection, which Linux
// refuses to bind twice: same port, and their IPv4 or their IPv6 destinations overlap.
func (a tcpBinding) clashes(b tcpBinding) bool {
	if a.port != b.port || a.port == 0 {
		return false
	}
	a4, a6 := a.covers()
	b4, b6 := b.covers()
	return overlap(a4, b4) || overlap(a6, b6)
}

// covers is what the binding accepts in each family: "" nothing, "*" everything, or one IP.
func (a tcpBinding) covers() (v4, v6 string) {
	ip := net.ParseIP(strings.Trim(a.host, "[]"))
	switch {
	case ip == nil:
		return "", "" // not an IP (a validated bootstrap has none): nothing known to clash
	case ip.To4() != nil && ip.IsUnspecified():
		return "*", ""
	case ip.To4() != nil:
		return ip.To4().String(), ""
	case ip.IsUnspecified() && a.dualStack:
		return "*", "*"
	case ip.IsUnspecified():
		return "", "*"
	}
	return "", ip.String()
}

func overlap(a, b string) bool { return a != "" && b != "" && (a == "*" || b == "*" || a == b) }
