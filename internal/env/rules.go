package env

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// applyRules applies the rules that involve more than one variable, once all are loaded.
func (l *loader) applyRules() {
	c := l.cfg
	if c.API.HCPollInterval == 0 {
		// The reference falls back to the readiness interval when HC_POLL_INTERVAL_MS is unset.
		c.API.HCPollInterval = 10 * time.Second
		if l.lookup("APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S") != "" {
			c.API.HCPollInterval = min(max(c.Readiness.Interval, 2*time.Second), 30*time.Second)
			if c.API.HCPollInterval != c.Readiness.Interval {
				l.warn(fmt.Sprintf("HC_POLL_INTERVAL_MS: unset, and APPNET_AGENT_POLL_ENVOY_READINESS_INTERVAL_S (%s) is outside 2s..30s; polling every %s", c.Readiness.Interval, c.API.HCPollInterval))
			}
		}
	}
	if m := c.Stats.MetricExtension; m != "" && m != "0" && m != "1" {
		l.warn(fmt.Sprintf("APPMESH_METRIC_EXTENSION_VERSION: %q is not 1; the metrics extension stays disabled (allowed: 0, 1)", c.Stats.MetricExtension))
	}
	if v := strings.ToLower(c.Jaeger.Version); v != "" && !strings.Contains(v, "json") && !strings.Contains(v, "proto") {
		l.warn(fmt.Sprintf("JAEGER_TRACER_VERSION: %q names neither JSON nor PROTO; using HTTP_PROTO, as the reference agent does (allowed: a value containing json for HTTP_JSON, or proto for HTTP_PROTO)", c.Jaeger.Version))
	}
	l.oneTracer()
	l.oneOfEachPair()
	l.otelRules()
	if v, ok := l.src("APPNET_AGENT_ADMIN_MODE"); ok && strings.TrimSpace(v) == "" {
		tcp := "tcp" // set but empty still starts the API, like the reference
		c.API.AdminMode = &tcp
	}
	l.scrapePortRule()
	if c.Agent.MinDrain > c.Agent.DrainWait {
		l.warn(fmt.Sprintf("APPNET_MIN_DRAIN_TIME_S: %d is longer than LISTENER_DRAIN_WAIT_TIME_S (%d), the drain deadline; using %d",
			c.Agent.MinDrain/time.Second, c.Agent.DrainWait/time.Second, c.Agent.DrainWait/time.Second))
		c.Agent.MinDrain = c.Agent.DrainWait
	}
	if c.RelayClient() && !c.Mode.RelayMode && !c.Mode.BootstrapGiven() {
		if err := checkSocketPath(strings.TrimPrefix(c.Mode.XDSEndpoint, "unix://")); err != nil {
			l.errs = append(l.errs, &VarError{Name: "APPMESH_XDS_ENDPOINT", Err: err})
		}
	}
}

// oneTracer is the reference's rule that at most one generated tracer is enabled.
func (l *loader) oneTracer() {
	c := l.cfg
	var on []string
	for _, t := range []struct {
		name string
		on   bool
	}{{"ENABLE_ENVOY_XRAY_TRACING", c.Tracing.XRay}, {"ENABLE_ENVOY_DATADOG_TRACING", c.Tracing.Datadog},
		{"ENABLE_ENVOY_JAEGER_TRACING", c.Tracing.Jaeger}, {"ENABLE_ENVOY_OTEL_TRACING", c.Tracing.OTel}} {
		if t.on {
			on = append(on, t.name)
		}
	}
	if len(on) > 1 {
		slices.Sort(on)
		l.errs = append(l.errs, varError(strings.Join(on, ", "), "only a single envoy trace driver can be configured; enable only one of ENABLE_ENVOY_XRAY_TRACING, ENABLE_ENVOY_DATADOG_TRACING, ENABLE_ENVOY_JAEGER_TRACING or ENABLE_ENVOY_OTEL_TRACING"))
	}
}

// scrapePortRule refuses a scrape listener on the management API's own TCP port when both
// could accept the same connection (the same address, or either a wildcard).
func (l *loader) scrapePortRule() {
	c := l.cfg
	p := c.API.ScrapePort
	if p == nil || c.API.AdminMode == nil || *c.API.AdminMode == "uds" || *p != c.API.HTTPPort {
		return
	}
	a, b := net.ParseIP(string(c.API.ScrapeBindAddress)), net.ParseIP(string(c.API.HTTPBindAddress))
	if a.IsUnspecified() || b.IsUnspecified() || a.Equal(b) {
		l.errs = append(l.errs, varError("APPNET_AGENT_SCRAPE_PORT", fmt.Sprintf(
			"%d is also the management API's port (APPNET_AGENT_HTTP_PORT on %s); choose another port for the read-only listener",
			*p, c.API.HTTPBindAddress)))
	}
}
