package cli

import (
	"fmt"
	"net"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/appnet/appnet-agent/internal/env"
)

// checkPortClash refuses a management API port (APPNET_AGENT_HTTP_PORT, in tcp mode) that
// Envoy binds too: its admin port, or the port of a static listener in the bootstrap. The
// agent binds its port first, so Envoy would fail to bind on every start, and the agent would
// exit only once the restart budget is spent, with Envoy's bind error. Addresses that cannot
// both accept the same connection (127.0.0.1 and 10.0.0.5, or an IPv4 and an IPv6-only
// address) do not clash; UDP listeners and pipes never do.
func checkPortClash(cfg *env.Config, b *bootstrapv3.Bootstrap, existing bool) error {
	if cfg.API.AdminMode == nil || *cfg.API.AdminMode == "uds" {
		return nil
	}
	agent := tcpBinding{host: string(cfg.API.HTTPBindAddress), port: uint32(cfg.API.HTTPPort), dualStack: true}
	clash := func(a *corev3.Address, what string) error {
		sa := a.GetSocketAddress()
		if sa == nil || sa.GetProtocol() != corev3.SocketAddress_TCP || !agent.clashes(envoyBinding(sa)) {
			return nil
		}
		return fmt.Errorf("APPNET_AGENT_HTTP_PORT: %d is also %s (%s): Envoy could not bind it while the agent listens there, and would fail at every start; choose another port",
			agent.port, what, net.JoinHostPort(sa.GetAddress(), fmt.Sprint(sa.GetPortValue())))
	}
	admin := "Envoy's admin port (ENVOY_ADMIN_ACCESS_PORT)"
	if existing {
		admin = "Envoy's admin port (admin.address in ENVOY_CONFIG_FILE)"
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
