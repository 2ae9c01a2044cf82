package cli

import (
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/appnet/appnet-agent/internal/env"
)

func tcpAddress(host string, port uint32, ipv4Compat bool) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}, Ipv4Compat: ipv4Compat}}}
}

// Issue 16, item 12: a management API port that Envoy binds too is refused before Envoy
// starts, naming both sides; addresses that cannot take the same connection do not clash.
func TestCheckPortClash(t *testing.T) {
	udp := tcpAddress("0.0.0.0", 15000, false)
	udp.GetSocketAddress().Protocol = corev3.SocketAddress_UDP
	for _, tc := range []struct {
		name      string
		mode      string // APPNET_AGENT_ADMIN_MODE
		bind      string
		port      uint16
		admin     *corev3.Address
		listeners []*corev3.Address
		given     string // the variable of a bootstrap given whole
		want      string // in the error; "" for none
	}{
		{name: "admin port, wildcards", mode: "tcp", bind: "::", port: 9901, admin: tcpAddress("0.0.0.0", 9901, false),
			want: "APPNET_AGENT_HTTP_PORT: 9901 is also Envoy's admin port (ENVOY_ADMIN_ACCESS_PORT) (0.0.0.0:9901)"},
		{name: "admin port from ENVOY_CONFIG_FILE", mode: "", bind: "127.0.0.1", port: 9901, admin: tcpAddress("127.0.0.1", 9901, false),
			given: "ENVOY_CONFIG_FILE", want: "admin.address in ENVOY_CONFIG_FILE"},
		{name: "admin port from ENVOY_CONFIG", mode: "", bind: "127.0.0.1", port: 9901, admin: tcpAddress("127.0.0.1", 9901, false),
			given: "ENVOY_CONFIG", want: "admin.address in ENVOY_CONFIG)"},
		{name: "static listener", mode: "tcp", bind: "::", port: 15000, admin: tcpAddress("0.0.0.0", 9901, false),
			listeners: []*corev3.Address{tcpAddress("0.0.0.0", 15000, false)}, want: `static listener "l0"`},
		{name: "dual-stack Envoy listener and IPv4 agent", mode: "tcp", bind: "127.0.0.1", port: 15000,
			listeners: []*corev3.Address{tcpAddress("::", 15000, true)}, want: `static listener "l0"`},
		{name: "other port", mode: "tcp", bind: "::", port: 9902, admin: tcpAddress("0.0.0.0", 9901, false),
			listeners: []*corev3.Address{tcpAddress("0.0.0.0", 15000, false)}},
		{name: "different IPs", mode: "tcp", bind: "127.0.0.1", port: 9901, admin: tcpAddress("10.0.0.5", 9901, false)},
		{name: "IPv4 agent, IPv6-only Envoy", mode: "tcp", bind: "0.0.0.0", port: 15000, listeners: []*corev3.Address{tcpAddress("::", 15000, false)}},
		{name: "UDP listener", mode: "tcp", bind: "::", port: 15000, listeners: []*corev3.Address{udp}},
		{name: "management API on a socket", mode: "uds", bind: "::", port: 9901, admin: tcpAddress("0.0.0.0", 9901, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &env.Config{}
			cfg.API.AdminMode = &tc.mode
			cfg.API.HTTPBindAddress, cfg.API.HTTPPort = env.BindAddress(tc.bind), tc.port
			b := &bootstrapv3.Bootstrap{StaticResources: &bootstrapv3.Bootstrap_StaticResources{}}
			if tc.admin != nil {
				b.Admin = &bootstrapv3.Admin{Address: tc.admin}
			}
			for i, a := range tc.listeners {
				b.StaticResources.Listeners = append(b.StaticResources.Listeners, &listenerv3.Listener{Name: "l" + string(rune('0'+i)), Address: a})
			}
			err := checkPortClash(cfg, b, tc.given)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// The scrape listener's port is checked against Envoy's like the management API's, in either
// mode of the management API.
func TestCheckScrapePortClash(t *testing.T) {
	b := &bootstrapv3.Bootstrap{Admin: &bootstrapv3.Admin{Address: tcpAddress("0.0.0.0", 9901, false)},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Listeners: []*listenerv3.Listener{{Name: "ingress", Address: tcpAddress("0.0.0.0", 15000, false)}}}}
	for _, tc := range []struct {
		mode string
		port uint16
		want string
	}{
		{"uds", 9901, "APPNET_AGENT_SCRAPE_PORT: 9901 is also Envoy's admin port"},
		{"tcp", 15000, `APPNET_AGENT_SCRAPE_PORT: 15000 is also the port of Envoy's static listener "ingress"`},
		{"uds", 9903, ""},
	} {
		cfg := &env.Config{}
		cfg.API.AdminMode, cfg.API.HTTPBindAddress, cfg.API.HTTPPort = &tc.mode, "::", 9902
		cfg.API.ScrapePort, cfg.API.ScrapeBindAddress = &tc.port, "::"
		err := checkPortClash(cfg, b, "")
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s %d: %v, want %q", tc.mode, tc.port, err, tc.want)
		}
	}
}
