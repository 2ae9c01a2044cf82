package env

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The OpenTelemetry tracer is configured with the standard OTEL_* variables, read as the
// OpenTelemetry specification describes them (OTLP exporter and SDK environment variables),
// narrowed to what Envoy's tracer can do. Values the specification allows but Envoy cannot
// honour (http/json, the jaeger_remote and xray samplers) are errors naming the variable.

// OTLPEndpoint is an OTLP collector URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// OTEL_EXPORTER_OTLP_ENDPOINT): http:// for plaintext, https:// for TLS.
type OTLPEndpoint struct {
	Scheme string // "http" or "https"
	Host   string // hostname, or an IP literal without brackets
	// Port is the URL's port, or the scheme's default (80 for http, 443 for https), as for
	// any URL.
	Port uint16
	// Authority is host[:port] as the URL names it (IPv6 literals in brackets), the
	// collector's name in requests.
	Authority string
	Path      string // escaped path as given; "" when there is none
}

// IsSet reports whether the variable had a value.
func (e OTLPEndpoint) IsSet() bool { return e.Scheme != "" }

// TLS reports an https:// endpoint.
func (e OTLPEndpoint) TLS() bool { return e.Scheme == "https" }

// IsIP reports an IP literal host, which needs no DNS.
func (e OTLPEndpoint) IsIP() bool { return net.ParseIP(e.Host) != nil }

// hostnameShape is a DNS name: dot-separated labels of letters, digits, '-' and '_' (compiled on
// first use: only OTLP endpoints need it).
var hostnameShape = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$`)
})

// Decode accepts http://HOST[:PORT][/PATH] and https://..., HOST a DNS name, an IPv4 literal
// or a bracketed IPv6 literal. A value without a scheme is refused rather than guessed: the
// specification reads "host:port" as TLS for gRPC, while a collector sidecar on 4317 is
// plaintext, and SDKs disagree.
func (e *OTLPEndpoint) Decode(v string) error {
	const want = "want http://HOST:PORT (plaintext) or https://HOST:PORT (TLS)"
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return fmt.Errorf("%q has no scheme; write http://%s for a plaintext collector or https://%s for TLS", v, v, v)
	}
	if s := strings.ToLower(scheme); s != "http" && s != "https" {
		return fmt.Errorf("%q: the scheme must be http (plaintext) or https (TLS), not %q", v, scheme)
	}
	hostPart, _, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(hostPart, "@"); i >= 0 {
		hostPart = hostPart[i+1:] // after the user information, refused below
	}
	if strings.Count(hostPart, ":") > 1 && !strings.Contains(hostPart, "[") {
		return fmt.Errorf("%q: an IPv6 address must be in brackets, e.g. %s://[::1]:4317", v, strings.ToLower(scheme))
	}
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not a valid URL (%s); %s", v, urlReason(err), want)
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("%q: credentials in the URL are not supported (Envoy would not send them)", v)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%q: a query or fragment is not supported; %s", v, want)
	case u.Hostname() == "":
		return fmt.Errorf("%q has no host; %s", v, want)
	}
	host := u.Hostname()
	bracketed := strings.HasPrefix(u.Host, "[")
	switch ip := net.ParseIP(host); {
	case strings.Contains(host, "%"):
		return fmt.Errorf("%q: IPv6 zones (%%25...) are not supported by Envoy's socket addresses", v)
	case bracketed && (ip == nil || ip.To4() != nil):
		return fmt.Errorf("%q: only IPv6 addresses go in brackets", v)
	case ip == nil && (!hostnameShape().MatchString(host) || strings.Trim(host, "0123456789.") == ""):
		return fmt.Errorf("%q: %q is neither a hostname nor an IP address", v, host)
	}
	port, authority := uint16(80), host
	if u.Scheme == "https" {
		port = 443
	}
	if bracketed {
		authority = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("%q: port %s is outside 1..65535", v, p)
		}
		port, authority = uint16(n), authority+":"+p
	}
	*e = OTLPEndpoint{Scheme: u.Scheme, Host: host, Port: port, Authority: authority, Path: u.EscapedPath()}
	return nil
}

// urlReason is net/url's complaint without its "parse URL:" prefix.
func urlReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// OTLP export protocols Envoy's OpenTelemetry tracer implements.
const (
	OTLPGRPC         = "grpc"
	OTLPHTTPProtobuf = "http/protobuf"
)

// OTLPProtocol is OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL: grpc or http/protobuf.
type OTLPProtocol string

// Decode accepts the protocols Envoy exports with; http/json, which the specification also
// names, gets its own explanation.
func (p *OTLPProtocol) Decode(v string) error {
	if strings.EqualFold(v, "http/json") {
		return fmt.Errorf("%q: Envoy's OpenTelemetry tracer sends OTLP as protobuf only; allowed: %s, %s", v, OTLPGRPC, OTLPHTTPProtobuf)
	}
	s, err := oneOf(v, OTLPGRPC+","+OTLPHTTPProtobuf)
	*p = OTLPProtocol(s)
	return err
}

// Samplers of OTEL_TRACES_SAMPLER that Envoy's tracer can express.
const (
	SamplerAlwaysOn              = "always_on"
	SamplerAlwaysOff             = "always_off"
	SamplerTraceIDRatio          = "traceidratio"
	SamplerParentAlwaysOn        = "parentbased_always_on"
	SamplerParentAlwaysOff       = "parentbased_always_off"
	SamplerParentTraceIDRatio    = "parentbased_traceidratio"
	supportedSamplers            = SamplerAlwaysOn + "," + SamplerAlwaysOff + "," + SamplerTraceIDRatio + "," + SamplerParentAlwaysOn + "," + SamplerParentAlwaysOff + "," + SamplerParentTraceIDRatio
	unsupportedSamplerExplainers = "jaeger_remote, parentbased_jaeger_remote and xray need a sampling server Envoy's OpenTelemetry tracer cannot query"
)

// OTelSampler is OTEL_TRACES_SAMPLER.
type OTelSampler string

// Decode accepts the samplers of the specification that Envoy implements (always_off and the
// ratio as a trace-id ratio sampler, the parentbased_* ones as its parent-based sampler).
func (s *OTelSampler) Decode(v string) error {
	switch lower := strings.ToLower(v); lower {
	case "jaeger_remote", "parentbased_jaeger_remote", "xray":
		return fmt.Errorf("%q is not supported: %s; allowed: %s", v, unsupportedSamplerExplainers, strings.ReplaceAll(supportedSamplers, ",", ", "))
	}
	n, err := oneOf(v, supportedSamplers)
	*s = OTelSampler(n)
	return err
}

// Ratio reports the samplers that take OTEL_TRACES_SAMPLER_ARG.
func (s OTelSampler) Ratio() bool { return s == SamplerTraceIDRatio || s == SamplerParentTraceIDRatio }

// ResourceAttributes is OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by commas. Envoy
// reads the variable itself (its environment resource detector); the agent only checks it,
// because Envoy silently drops a pair it cannot split.
type ResourceAttributes string

// Decode requires every non-empty pair to be exactly one key=value with both sides
// non-empty, as Envoy's detector splits them.
func (r *ResourceAttributes) Decode(v string) error {
	for _, pair := range strings.Split(v, ",") {
		if pair == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		if !ok || k == "" || val == "" || strings.Contains(val, "=") {
			return fmt.Errorf("%q is not key=value (pairs are separated by commas; percent-encode ',' and '=' inside a value); Envoy would drop it", pair)
		}
	}
	*r = ResourceAttributes(v)
	return nil
}

// TracesEndpoint is the collector endpoint in use and the variable it came from:
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT; ok is false when
// neither is set (the default applies).
func (o OpenTelemetry) TracesEndpoint() (ep OTLPEndpoint, variable string, ok bool) {
	switch {
	case o.TracesEndpointURL.IsSet():
		return o.TracesEndpointURL, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true
	case o.EndpointURL.IsSet():
		return o.EndpointURL, "OTEL_EXPORTER_OTLP_ENDPOINT", true
	}
	return OTLPEndpoint{}, "", false
}

// Protocol is the export protocol in use: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else
// OTEL_EXPORTER_OTLP_PROTOCOL, else grpc.
func (o OpenTelemetry) Protocol() string {
	for _, p := range []OTLPProtocol{o.TracesProtocol, o.GeneralProtocol} {
		if p != "" {
			return string(p)
		}
	}
	return OTLPGRPC
}

// otelRules checks what depends on more than one OpenTelemetry variable: an endpoint with a
// path is meaningless for gRPC, so it is refused rather than dropped.
func (l *loader) otelRules() {
	o := l.cfg.OTel
	if predicates["otel"].whyNot(l.cfg) != "" {
		return
	}
	ep, variable, ok := o.TracesEndpoint()
	if ok && o.Protocol() == OTLPGRPC && ep.Path != "" && ep.Path != "/" {
		l.fail(variable, fmt.Sprintf("the path %q means nothing to OTLP over gRPC; remove it, or set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf to POST to it", ep.Path))
	}
	// Other OTEL_* settings (headers, compression, other signals...) have no equivalent here;
	// an API key in OTEL_EXPORTER_OTLP_HEADERS silently not sent would lose every span.
	var unread []string
	for _, n := range l.opts.Names {
		if strings.HasPrefix(n, "OTEL_") && !l.isKnown(n) {
			unread = append(unread, n)
		}
	}
	slices.Sort(unread)
	for _, n := range slices.Compact(unread) {
		l.warn(n + " is not read by appnet-agent (its OpenTelemetry tracer has no such setting), so it is ignored")
	}
}

// otelPredicates guard the OpenTelemetry variables: all need the tracer; a general variable
// is read only when its signal-specific twin (..._TRACES_...) is unset.
func otelPredicates() map[string]predicate {
	otel := tracer(func(c *Config) bool { return c.Tracing.OTel }, "ENABLE_ENVOY_OTEL_TRACING")
	unlessSet := func(base func(*Config) string, twin string, set func(*Config) bool) func(*Config) string {
		return func(c *Config) string {
			if r := base(c); r != "" {
				return r
			}
			if set(c) {
				return twin + " is set"
			}
			return ""
		}
	}
	tls := func(c *Config) string {
		if r := otel(c); r != "" {
			return r
		}
		if ep, _, _ := c.OTel.TracesEndpoint(); !ep.TLS() {
			return "the collector endpoint is not https://"
		}
		return ""
	}
	return map[string]predicate{
		"otel": {"ENABLE_ENVOY_OTEL_TRACING is true", otel},
		"otelEndpoint": {"OpenTelemetry is on without OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", unlessSet(otel, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
			func(c *Config) bool { return c.OTel.TracesEndpointURL.IsSet() })},
		"otelProtocol": {"OpenTelemetry is on without OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", unlessSet(otel, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
			func(c *Config) bool { return c.OTel.TracesProtocol != "" })},
		"otelTimeout": {"OpenTelemetry is on without OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", unlessSet(otel, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
			func(c *Config) bool { return c.OTel.TracesTimeout != nil })},
		"otelTLS": {"the OpenTelemetry collector endpoint is https://", tls},
		"otelCertificate": {"the collector endpoint is https:// and OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE is unset", unlessSet(tls, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
			func(c *Config) bool { return c.OTel.TracesCertificate != "" })},
		"otelRatio": {"OTEL_TRACES_SAMPLER is traceidratio or parentbased_traceidratio", func(c *Config) string {
			if r := otel(c); r != "" {
				return r
			}
			if !c.OTel.Sampler.Ratio() {
				return "OTEL_TRACES_SAMPLER is not traceidratio or parentbased_traceidratio"
			}
			return ""
		}},
	}
}
