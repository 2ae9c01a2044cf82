package platform

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestInterfacesShape(t *testing.T) {
	f := Collect(context.Background(), Inputs{})
	if f.Interfaces == nil {
		t.Fatalf("Interfaces nil, warnings %q", f.Warnings)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	// Rebuild the expectation independently with netip.
	want := map[string]any{}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err != nil {
				t.Fatalf("%s: %v", a, err)
			}
			fam := "ipv6"
			if p.Addr().Unmap().Is4() {
				fam = "ipv4"
			}
			if want[fam] == nil {
				want[fam] = map[string]any{}
			}
			m := want[fam].(map[string]any)
			l, _ := m[ifc.Name].([]any)
			m[ifc.Name] = append(l, p.String())
		}
	}
	if !reflect.DeepEqual(f.Interfaces, want) {
		t.Errorf("Interfaces:\n got %v\nwant %v", f.Interfaces, want)
	}
	for fam, byIf := range f.Interfaces {
		if fam != "ipv4" && fam != "ipv6" {
			t.Errorf("unexpected family key %q", fam)
		}
		for name, l := range byIf.(map[string]any) {
			if len(l.([]any)) == 0 {
				t.Errorf("%s/%s: empty list", fam, name)
			}
		}
	}
	// The loopback interface, when it has 127.0.0.1, is included.
	if v4, ok := f.Interfaces["ipv4"].(map[string]any); ok {
		found := false
		for _, l := range v4 {
			for _, a := range l.([]any) {
				found = found || strings.HasPrefix(a.(string), "127.0.0.1/")
			}
		}
		if !found {
			t.Log("no 127.0.0.1 on this host (loopback inclusion not checked)")
		}
	}
}

func TestFormatAddr(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
		is4  bool
		ok   bool
	}{
		{&net.IPNet{IP: net.IPv4(10, 0, 0, 5), Mask: net.CIDRMask(24, 32)}, "10.0.0.5/24", true, true},
		{&net.IPNet{IP: net.IPv4(10, 0, 0, 5), Mask: net.CIDRMask(120, 128)}, "10.0.0.5/24", true, true},
		{&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)}, "fe80::1/64", false, true},
		{&net.IPAddr{IP: net.ParseIP("::1")}, "::1/128", false, true},
		{&net.IPAddr{IP: net.IPv4(127, 0, 0, 1)}, "127.0.0.1/32", true, true},
		{&net.IPNet{}, "", false, false},
		{&net.UnixAddr{Name: "x"}, "", false, false},
	}
	for _, tt := range tests {
		s, is4, ok := formatAddr(tt.addr)
		if s != tt.want || is4 != tt.is4 || ok != tt.ok {
			t.Errorf("formatAddr(%v) = %q %v %v, want %q %v %v", tt.addr, s, is4, ok, tt.want, tt.is4, tt.ok)
		}
	}
}

func TestSystemInfo(t *testing.T) {
	f := Collect(context.Background(), Inputs{})
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("uname not supported here")
	}
	si, ok := f.PlatformInfo[KeySystemInfo].(map[string]any)
	if !ok {
		t.Fatalf("systemInfo missing: %v (warnings %q)", f.PlatformInfo, f.Warnings)
	}
	machine, release, err := uname()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"systemPlatform": machine, "systemKernelVersion": release}
	if !reflect.DeepEqual(si, want) || machine == "" || release == "" {
		t.Errorf("systemInfo = %v, want %v", si, want)
	}
	if len(f.PlatformInfo) != 1 {
		t.Errorf("platformInfo without K8s/ECS should hold only systemInfo: %v", f.PlatformInfo)
	}
}
