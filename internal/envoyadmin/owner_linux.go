package envoyadmin

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// holderIn finds the inodes of the sockets listening at t in /proc/net (the agent shares
// Envoy's network namespace) and looks for one of them among the descriptors of pid, then of
// its descendants.
func holderIn(t Target, pid int) (int, error) {
	var inodes map[string]bool
	var err error
	if t.Network == "unix" {
		inodes, err = unixListeners(t.Address)
	} else {
		inodes, err = tcpListeners(t.Address)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrOwnerUnknown, err)
	}
	if len(inodes) == 0 {
		return 0, nil // nobody listens (any more): not ours either
	}
	holds, err := holdsOneOf(pid, inodes)
	switch {
	case err != nil:
		if os.IsNotExist(err) {
			return 0, nil // the process is gone
		}
		return 0, fmt.Errorf("%w: %v", ErrOwnerUnknown, err)
	case holds:
		return pid, nil
	}
	for _, d := range descendants(pid) {
		if holds, _ := holdsOneOf(d, inodes); holds { // one that ended meanwhile holds nothing
			return d, nil
		}
	}
	return 0, nil
}

// holdsOneOf reports whether process pid has a descriptor on one of the socket inodes.
func holdsOneOf(pid int, inodes map[string]bool) (bool, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
			return true, nil
		}
	}
	return false, nil
}

// descendants lists the processes below pid, nearest first, from each process's parent in
// /proc/PID/stat.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// parentOf reads a process's parent from /proc/PID/stat: "PID (COMM) STATE PPID ...", where
// COMM may hold spaces and parentheses, so the fields are counted after the last ')'.
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// tcpListeners returns the inodes of the TCP sockets in LISTEN state on addr's port that
// accept connections to addr's IP (the IP itself, or a wildcard).
func tcpListeners(addr string) (map[string]bool, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	want, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	inodes := map[string]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			if os.IsNotExist(err) && file == "/proc/net/tcp6" {
				continue // no IPv6 in this kernel
			}
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			f := strings.Fields(sc.Text())
			if len(f) < 10 || f[3] != "0A" { // 0A: TCP_LISTEN
				continue
			}
			lip, lport, ok := parseProcAddr(f[1])
			if ok && lport == want && (lip.IsUnspecified() || lip.Equal(ip)) {
				inodes[f[9]] = true
			}
		}
	}
	return inodes, nil
}

// parseProcAddr parses /proc/net/tcp's "0100007F:2694": the IP as host-order 32-bit words in
// hex, the port in hex.
func parseProcAddr(s string) (net.IP, uint64, bool) {
	h, p, ok := strings.Cut(s, ":")
	if !ok || (len(h) != 8 && len(h) != 32) {
		return nil, 0, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	ip := make(net.IP, len(h)/2)
	for w := 0; w < len(h)/8; w++ {
		word, err := strconv.ParseUint(h[w*8:w*8+8], 16, 32)
		if err != nil {
			return nil, 0, false
		}
		// Each 32-bit word is in the kernel's (little-endian on every Linux the agent runs on) order.
		ip[w*4], ip[w*4+1], ip[w*4+2], ip[w*4+3] = byte(word), byte(word>>8), byte(word>>16), byte(word>>24)
	}
	return ip, port, true
}

// unixListeners returns the inodes of the listening Unix sockets bound at path.
func unixListeners(path string) (map[string]bool, error) {
	b, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(path)
	inodes := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // header
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil || flags&0x10000 == 0 { // __SO_ACCEPTCON: listening
			continue
		}
		if p := strings.Join(f[7:], " "); p == path || p == abs {
			inodes[f[6]] = true
		}
	}
	return inodes, nil
}
