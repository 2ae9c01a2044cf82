package envoyadmin

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// TestServedBy: the admin address's listener is found among its owner's descriptors, and not
// among another process's.
func TestServedBy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	wild, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer wild.Close()
	sock := filepath.Join(t.TempDir(), "admin.sock")
	uds, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uds.Close()
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Skip("no sleep binary:", err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()

	self := os.Getpid()
	_, wildPort, _ := net.SplitHostPort(wild.Addr().String())
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	freeAddr := free.Addr().String()
	free.Close()
	for _, tc := range []struct {
		name   string
		target Target
		pid    int
		want   bool
	}{
		{"tcp, owner", Target{"tcp", tcp.Addr().String()}, self, true},
		{"tcp, other process", Target{"tcp", tcp.Addr().String()}, other.Process.Pid, false},
		{"wildcard listener answers loopback", TCP(mustPort(t, wildPort)), self, true},
		{"nobody listens", Target{"tcp", freeAddr}, self, false},
		{"unix, owner", UDS(sock), self, true},
		{"unix, other process", UDS(sock), other.Process.Pid, false},
		{"gone process", Target{"tcp", tcp.Addr().String()}, 1 << 22, false},
	} {
		got, err := tc.target.ServedBy(tc.pid)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func mustPort(t *testing.T, s string) uint16 {
	t.Helper()
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(p)
}

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:2694":                         "127.0.0.1:9876",
		"00000000:0050":                         "0.0.0.0:80",
		"00000000000000000000000001000000:1F90": "[::1]:8080",
		"0000000000000000FFFF00000100007F:1F90": "127.0.0.1:8080", // IPv4-mapped
	} {
		ip, port, ok := parseProcAddr(in)
		if got := net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)); !ok || got != want {
			t.Errorf("%s: %s, %v; want %s", in, got, ok, want)
		}
	}
}
