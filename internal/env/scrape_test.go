package env

import (
	"strings"
	"testing"
)

// APPNET_AGENT_SCRAPE_PORT: unset by default; a port (bounded like the others); refused on the
// management API's own TCP port when both could take the same connection.
func TestScrapePort(t *testing.T) {
	cfg, _, err := load(t, map[string]string{})
	if err != nil || cfg.API.ScrapePort != nil {
		t.Fatalf("default: %v %v", cfg.API.ScrapePort, err)
	}
	cfg, _, err = load(t, map[string]string{"APPNET_AGENT_SCRAPE_PORT": "9903", "APPNET_AGENT_SCRAPE_BIND_ADDRESS": "[::1]"})
	if err != nil || cfg.API.ScrapePort == nil || *cfg.API.ScrapePort != 9903 || cfg.API.ScrapeBindAddress != "::1" {
		t.Fatalf("set: %v %q %v", cfg.API.ScrapePort, cfg.API.ScrapeBindAddress, err)
	}
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"APPNET_AGENT_SCRAPE_PORT": "0"}, "APPNET_AGENT_SCRAPE_PORT: 0 is outside 1..65535"},
		{map[string]string{"APPNET_AGENT_SCRAPE_PORT": "65536"}, "APPNET_AGENT_SCRAPE_PORT: 65536 is outside"},
		{map[string]string{"APPNET_AGENT_SCRAPE_PORT": "x"}, "APPNET_AGENT_SCRAPE_PORT: \"x\" is not an integer"},
		{map[string]string{"APPNET_AGENT_SCRAPE_PORT": "9903", "APPNET_AGENT_SCRAPE_BIND_ADDRESS": "localhost"}, "APPNET_AGENT_SCRAPE_BIND_ADDRESS: \"localhost\" is not an IP address"},
		{map[string]string{"APPNET_AGENT_ADMIN_MODE": "tcp", "APPNET_AGENT_SCRAPE_PORT": "9902"}, "APPNET_AGENT_SCRAPE_PORT: 9902 is also the management API's port"},
		{map[string]string{"APPNET_AGENT_ADMIN_MODE": "tcp", "APPNET_AGENT_HTTP_BIND_ADDRESS": "127.0.0.1", "APPNET_AGENT_HTTP_PORT": "9950", "APPNET_AGENT_SCRAPE_PORT": "9950"}, "9950 is also the management API's port"},
	} {
		if _, _, err := load(t, tc.vars); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.vars, err, tc.want)
		}
	}
	for _, ok := range []map[string]string{
		{"APPNET_AGENT_ADMIN_MODE": "uds", "APPNET_AGENT_SCRAPE_PORT": "9902"},
		{"APPNET_AGENT_ADMIN_MODE": "tcp", "APPNET_AGENT_HTTP_BIND_ADDRESS": "127.0.0.1", "APPNET_AGENT_SCRAPE_BIND_ADDRESS": "10.0.0.5", "APPNET_AGENT_SCRAPE_PORT": "9902"},
	} {
		if _, _, err := load(t, ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}
