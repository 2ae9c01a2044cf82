package render

import (
	"fmt"
	"strings"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/platform"
)

// newRelayPlan builds the data of the relay bootstrap (D8: a set
// APPNET_MANAGEMENT_DOMAIN_NAME is honoured and every value is typed and validated).
func newRelayPlan(c *env.Config, f platform.Facts) (*plan, error) {
	if f.Region == "" {
		if f.RegionErr != nil {
			return nil, fmt.Errorf("AWS_REGION is unset and %w", f.RegionErr)
		}
		return nil, fmt.Errorf("AWS_REGION is unset and unable to retrieve the region from the EC2 Metadata Service")
	}
	r := &RelayData{
		ListenerPath:       string(c.Relay.ListenerPath),
		Region:             f.Region,
		Port:               c.Relay.Port,
		BufferLimit:        c.Relay.BufferLimit,
		IdleTimeout:        c.Relay.IdleTimeout,
		HTTPClientForCreds: c.Runtime.HTTPClientForCreds,
		Curve:              relayCurve(f.Region),
	}
	switch {
	case c.Relay.Domain != "":
		r.Domain = c.Relay.Domain
	case c.Mode.XDSEndpoint != "":
		r.Domain = strings.TrimPrefix(strings.TrimPrefix(c.Mode.XDSEndpoint, "http://"), "https://")
	default:
		d, err := relayDomain(f.Region, f.FIPS, f.EnvoyVersion)
		if err != nil {
			return nil, err
		}
		r.Domain = d
	}
	return &plan{data: &Data{Relay: r}, sideFiles: map[string][]byte{}}, nil
}
