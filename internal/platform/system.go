package platform

import (
	"fmt"
	"net"
	"strconv"
)

// systemInfo returns the machine and release of uname(2). The reference
// execs `uname -p` and `uname -r`; the system call needs no PATH and no fork.
func systemInfo() (Uname, error) {
	machine, release, err := uname()
	if err != nil {
		return Uname{}, fmt.Errorf("uname: %w", err)
	}
	return Uname{Machine: machine, Release: release}, nil
}

// systemInfoMap is platformInfo's systemInfo: {systemPlatform,
// systemKernelVersion}, each key only when known, or nil.
func systemInfoMap(u *Uname) map[string]any {
	if u == nil {
		return nil
	}
	m := map[string]any{}
	setIf(m, "systemPlatform", u.Machine)
	setIf(m, "systemKernelVersion", u.Release)
	if len(m) == 0 {
		return nil
	}
	return m
}

// interfaceAddrs lists every host interface's addresses as "ip/prefixlen",
// grouped {ipv4: {ifname: [...]}, ipv6: {...}} in OS order, loopback and
// link-local included. A family key appears only when it has an address.
// An interface whose addresses cannot be read is skipped with a warning.
func interfaceAddrs() (Interfaces, []string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return Interfaces{}, nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var warnings []string
	v4, v6 := map[string][]string{}, map[string][]string{}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("network interface %s: %v", ifc.Name, err))
			continue
		}
		var l4, l6 []string
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
	var out Interfaces
	if len(v4) > 0 {
		out.IPv4 = v4
	}
	if len(v6) > 0 {
		out.IPv6 = v6
	}
	return out, warnings, nil
}

// interfacesMap is node metadata aws.appmesh.task.interfaces: {ipv4: {ifname:
// [...]}, ipv6: {...}}, a family key only when it has an address; nil when the
// interfaces are unknown.
func interfacesMap(ifs *Interfaces) map[string]any {
	if ifs == nil {
		return nil
	}
	out := map[string]any{}
	for key, fam := range map[string]map[string][]string{"ipv4": ifs.IPv4, "ipv6": ifs.IPv6} {
		if len(fam) == 0 {
			continue
		}
		m := make(map[string]any, len(fam))
		for name, addrs := range fam {
			if len(addrs) == 0 {
				continue
			}
			l := make([]any, len(addrs))
			for i, a := range addrs {
				l[i] = a
			}
			m[name] = l
		}
		if len(m) > 0 {
			out[key] = m
		}
	}
	return out
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
