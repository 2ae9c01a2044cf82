package envoyadmin

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// TestHolderIn: the admin address's listener is found among its owner's descriptors, or a
// descendant's (a wrapper that starts Envoy as its child), and not among another process's.
func TestHolderIn(t *testing.T) {
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
	// A wrapper: sh hands the listener (fd 3) to its child and closes its own copy.
	lf, err := uds.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := exec.Command("sh", "-c", "sleep 30 & exec 3>&-; echo ready; wait")
	wrapper.ExtraFiles = []*os.File{lf}
	wrapper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that the cleanup reaches its child
	ready, _ := wrapper.StdoutPipe()
	if err := wrapper.Start(); err != nil {
		t.Skip("no sh:", err)
	}
	lf.Close()
	defer func() {
		_ = syscall.Kill(-wrapper.Process.Pid, syscall.SIGKILL)
		_ = wrapper.Process.Kill()
		_ = wrapper.Wait()
	}()
	if _, err := ready.Read(make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	var wrapped int
	if kids := descendants(wrapper.Process.Pid); len(kids) == 1 {
		wrapped = kids[0]
	} else {
		t.Fatalf("the wrapper's descendants: %v", kids)
	}

	self := os.Getpid()
	_, wildPort, _ := net.SplitHostPort(wild.Addr().String())
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	freeAddr := free.Addr().String()
	free.Close()
	for _, tc := range []struct {
		name   string
		target Target
		pid    int
		want   int
	}{
		{"tcp, owner", Target{"tcp", tcp.Addr().String()}, self, self},
		{"tcp, other process", Target{"tcp", tcp.Addr().String()}, other.Process.Pid, 0},
		{"wildcard listener answers loopback", TCP(mustPort(t, wildPort)), self, self},
		{"nobody listens", Target{"tcp", freeAddr}, self, 0},
		{"unix, owner", UDS(sock), self, self},
		{"unix, other process", UDS(sock), other.Process.Pid, 0},
		{"unix, held by the child of a wrapper", UDS(sock), wrapper.Process.Pid, wrapped},
		{"tcp, not held below the wrapper", Target{"tcp", tcp.Addr().String()}, wrapper.Process.Pid, 0},
		{"gone process", Target{"tcp", tcp.Addr().String()}, 1 << 22, 0},
	} {
		got, err := tc.target.HolderIn(tc.pid)
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
