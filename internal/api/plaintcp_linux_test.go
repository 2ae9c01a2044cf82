//go:build linux

package api

import (
	"net"
	"syscall"
	"testing"
)

// TestListenersArePlainTCP: the management API's and the scrape listener's sockets are TCP, not Go's default
// Multipath TCP, whose probe ran before Envoy's start (issue 19).
func TestListenersArePlainTCP(t *testing.T) {
	for name, listen := range map[string]func(string, uint16) (net.Listener, error){"api": listenTCP, "scrape": listenScrape} {
		ln, err := listen("127.0.0.1", 0)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := ln.(*net.TCPListener).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var proto int
		var serr error
		if err := raw.Control(func(fd uintptr) {
			proto, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PROTOCOL)
		}); err != nil || serr != nil {
			t.Fatal(err, serr)
		}
		ln.Close()
		if proto != syscall.IPPROTO_TCP {
			t.Errorf("%s listener: socket protocol %d, want IPPROTO_TCP (%d)", name, proto, syscall.IPPROTO_TCP)
		}
	}
}
