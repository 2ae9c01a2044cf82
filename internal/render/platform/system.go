package platform

import (
	"fmt"
	"net"
	"strconv"
)

// systemInfo returns {systemPlatform, systemKernelVersion} from uname(2)
// (machine and release), each key only when known, or nil. The reference
// execs `uname -p` and `uname -r`; the system call needs no PATH and no fork.
func systemInfo() (map[string]any, error) {
	machine, release, err := uname()
	if err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	m := map[string]any{}
	if machine != "" {
		m["systemPlatform"] = machine
	}
	if release != "" {
		m["systemKernelVersion"] = release
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// interfaceAddrs lists every host interface's addresses as "ip/prefixlen",
// grouped {ipv4: {ifname: [...]}, ipv6: {...}} in OS order, loopback and
// link-local included. A family key appears only when it has an address.
// An interface whose addresses cannot be read is skipped with a warning.
func interfaceAddrs() (map[string]any, []string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var warnings []string
	v4, v6 := map[string]any{}, map[string]any{}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("network interface %s: %v", ifc.Name, err))
			continue
		}
		var l4, l6 []any
		for _, a := range addrs {
			s, is4, ok := formatAddr(a)
			if !ok {
				continue
			}
			if is4 {
				l4 = append(l4, s)
			} else {
				l6 = append(l6, s)
			}
		}
		if len(l4) > 0 {
			v4[ifc.Name] = l4
		}
		if len(l6) > 0 {
			v6[ifc.Name] = l6
		}
	}
	out := map[string]any{}
	if len(v4) > 0 {
		out["ipv4"] = v4
	}
	if len(v6) > 0 {
		out["ipv6"] = v6
	}
	return out, warnings, nil
}

// formatAddr renders an interface address as "ip/prefixlen" and tells its
// family.
func formatAddr(a net.Addr) (s string, is4, ok bool) {
	var ip net.IP
	var ones int
	switch x := a.(type) {
	case *net.IPNet:
		if x.IP == nil {
			return "", false, false
		}
		ip = x.IP
		var bits int
		ones, bits = x.Mask.Size()
		if bits == 0 {
			// Non-canonical mask (never produced by Linux): keep Go's form.
			return x.String(), x.IP.To4() != nil, true
		}
		// An IPv4 address may come with a 16-byte mask; count only its
		// IPv4 part.
		if ip.To4() != nil && bits == 8*net.IPv6len && ones >= 96 {
			ones -= 96
		}
	case *net.IPAddr:
		ip = x.IP
		ones = 8 * net.IPv6len
		if ip.To4() != nil {
			ones = 8 * net.IPv4len
		}
	default:
		return "", false, false
	}
	if ip == nil {
		return "", false, false
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String() + "/" + strconv.Itoa(ones), true, true
	}
	return ip.String() + "/" + strconv.Itoa(ones), false, true
}
