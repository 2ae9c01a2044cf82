package env

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Decoder is implemented by field types with their own syntax; Decode receives the trimmed,
// non-empty value and returns an error that explains what is allowed (the loader adds the name).
type Decoder interface {
	Decode(value string) error
}

// ValidationMode is APPNET_VALIDATION: whether a bootstrap the validator refuses stops the agent.
type ValidationMode string

// The values of APPNET_VALIDATION.
const (
	// ValidationEnforce refuses to start Envoy with a bootstrap the validator refuses (the default).
	ValidationEnforce ValidationMode = "enforce"
	// ValidationWarn logs the problems and starts Envoy anyway.
	ValidationWarn ValidationMode = "warn"
)

// XRayAddress is AWS_XRAY_DAEMON_ADDRESS: an IP literal with an optional port.
type XRayAddress struct {
	IP   string
	Port uint16 // 0 when the value carries no port
}

// hostPortShape is compiled on first use: only AWS_XRAY_DAEMON_ADDRESS needs it.
var hostPortShape = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`.+:\d{1,5}$`) })

// Decode accepts IP, IP:port, [IPv6]:port, bare IPv6 (D9) and the documented 'tcp:A:P udp:A:P'
// form, of which the UDP part is used (D9).
func (a *XRayAddress) Decode(v string) error {
	if strings.Contains(v, "udp:") || strings.Contains(v, "tcp:") {
		var udp string
		for _, f := range strings.Fields(v) {
			if rest, ok := strings.CutPrefix(f, "udp:"); ok {
				udp = rest
			} else if !strings.HasPrefix(f, "tcp:") {
				return fmt.Errorf("%q: want 'tcp:ADDRESS:PORT udp:ADDRESS:PORT'", v)
			}
		}
		if udp == "" {
			return fmt.Errorf("%q: the 'udp:ADDRESS:PORT' part is missing", v)
		}
		v = udp
	}
	host, port := v, ""
	if ip := net.ParseIP(v); ip == nil && hostPortShape().MatchString(v) {
		h, p, err := net.SplitHostPort(v)
		if err != nil {
			return fmt.Errorf("could not parse %q as ADDRESS:PORT", v)
		}
		host, port = h, p
	}
	if net.ParseIP(host) == nil {
		return fmt.Errorf("%q must be a static IPv4 or IPv6 address such as \"127.0.0.1\"", host)
	}
	a.IP = host
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("port %q is outside 1..65535", port)
		}
		a.Port = uint16(n)
	}
	return nil
}

// SamplingRate is XRAY_SAMPLING_RATE, a fraction in [0,1]; Set is false when unset.
type SamplingRate struct {
	Set   bool
	Value float64
}

// Decode parses a decimal between 0 and 1 with float32 precision, like the reference.
func (r *SamplingRate) Decode(v string) error {
	f, err := strconv.ParseFloat(v, 32)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return fmt.Errorf("%q must be a decimal between 0 and 1.00 (100%%)", v)
	}
	r.Set, r.Value = true, f
	return nil
}

// BindAddress is an IP literal to listen on, stored without brackets.
type BindAddress string

// Decode accepts an IPv4 or IPv6 literal, with or without brackets.
func (b *BindAddress) Decode(v string) error {
	ip := strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	if net.ParseIP(ip) == nil {
		return fmt.Errorf("%q is not an IP address (e.g. [::], 0.0.0.0, 127.0.0.1)", v)
	}
	*b = BindAddress(ip)
	return nil
}

// IPAddress is an IP literal that Envoy uses without DNS (e.g. the DogStatsD sink address),
// stored without brackets.
type IPAddress string

// Decode accepts an IPv4 or IPv6 literal, with or without brackets, but not a hostname: Envoy
// rejects one there as a malformed IP address.
func (a *IPAddress) Decode(v string) error {
	ip := strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	if net.ParseIP(ip) == nil {
		return fmt.Errorf("%q must be an IPv4 or IPv6 address such as 127.0.0.1 (Envoy does not resolve hostnames here)", v)
	}
	*a = IPAddress(ip)
	return nil
}

// SocketPath is the path of a Unix socket.
type SocketPath string

// maxSocketPath is the longest Unix socket path: sun_path holds 108 bytes on Linux,
// the terminating NUL included.
const maxSocketPath = 107

// Decode accepts a path short enough to bind and connect to: a longer one cannot be used
// (and some ways of binding appear to succeed while nothing can connect).
func (p *SocketPath) Decode(v string) error {
	if err := checkSocketPath(v); err != nil {
		return err
	}
	*p = SocketPath(v)
	return nil
}

func checkSocketPath(v string) error {
	if len(v) > maxSocketPath {
		return fmt.Errorf("the socket path is %d bytes long; a Unix socket path can be at most %d bytes", len(v), maxSocketPath)
	}
	return nil
}

// ContainerNames is a comma-separated list of ECS container names (APPNET_APP_CONTAINERS).
type ContainerNames []string

// maxContainerName is the longest container name ECS accepts.
const maxContainerName = 255

// Decode accepts names of letters, digits, hyphens and underscores (what ECS allows in a
// container name), separated by commas with optional spaces; each at most once.
func (n *ContainerNames) Decode(v string) error {
	var out ContainerNames
	for _, part := range strings.Split(v, ",") {
		name := strings.TrimSpace(part)
		switch {
		case name == "":
			return fmt.Errorf("%q has an empty name; want comma-separated container names, e.g. app,worker", v)
		case len(name) > maxContainerName || strings.IndexFunc(name, func(r rune) bool { return !isNameRune(r) }) >= 0:
			return fmt.Errorf("%q is not an ECS container name (up to %d letters, digits, hyphens and underscores)", name, maxContainerName)
		case slices.Contains(out, name):
			return fmt.Errorf("%q is listed twice", name)
		}
		out = append(out, name)
	}
	*n = out
	return nil
}

func isNameRune(r rune) bool {
	return r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}
