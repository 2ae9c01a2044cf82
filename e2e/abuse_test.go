package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestManagementAPIUnderAbuse (issue 7): on loopback, 1,000 idle connections and 500 slow
// clients trickling their headers, oversized heads and bodies, odd methods and path tricks,
// and concurrent mutations. /status stays correct and fast throughout; afterwards the
// agent's threads and memory return to about where they were.
func TestManagementAPIUnderAbuse(t *testing.T) {
	a := newAgent(t)
	a.withAPI()
	a.start()
	a.waitEnvoyUp(1)
	a.waitStatus("HEALTHY", 20*time.Second, func(s api.Status) bool { return s.HealthStatus == api.Healthy })
	pid := a.cmd.Process.Pid
	time.Sleep(500 * time.Millisecond)
	baseRSS, baseThreads := rss(pid), threads(pid)
	addr := strings.TrimPrefix(a.base, "http://")

	// 1,000 idle connections and 500 that trickle a header byte every 500 ms.
	var conns []net.Conn
	for i := range 1500 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			a.fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	stopTrickle := make(chan struct{})
	var trickle sync.WaitGroup
	for _, c := range conns[1000:] {
		trickle.Go(func() {
			if _, err := io.WriteString(c, "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				return
			}
			for {
				select {
				case <-stopTrickle:
					return
				case <-time.After(500 * time.Millisecond):
					if _, err := io.WriteString(c, "a"); err != nil {
						return // the server's read-header timeout dropped it, as it should
					}
				}
			}
		})
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})

	// /status meanwhile: all 200, correct, and fast.
	var lat []time.Duration
	for range 500 {
		start := time.Now()
		s, ok := a.tryStatus()
		lat = append(lat, time.Since(start))
		if !ok || s.HealthStatus != api.Healthy || s.EnvoyState != api.Live {
			a.fatalf("/status under abuse: %+v %v", s, ok)
		}
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("/status with 1000 idle and 500 slow connections: p50 %v, p99 %v", p50, p99)
	if p99 > 250*time.Millisecond { // generous: the target (≤ 2 ms) is measured by the benchmarks
		a.fatalf("/status p99 %v under abuse", p99)
	}

	// Oversized heads, bodies, odd methods and path tricks: each gets its documented answer.
	raw := func(req string) int {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return 0
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			return 0
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		name, req string
		want      int
	}{
		{"16 KiB header", "GET /status HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("x", 16<<10) + "\r\n\r\n", 431},
		{"16 KiB URL", "GET /status?" + strings.Repeat("a", 16<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
		{"10 MB body announced to /enableLogging", "POST /enableLogging?level=debug HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n", 400},
		{"chunked body to /drain_listeners", "POST /drain_listeners?inboundonly HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 400},
		{"PROPFIND /status", "PROPFIND /status HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"DELETE /stats/prometheus", "DELETE /stats/prometheus HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET /drain_listeners", "GET /drain_listeners?inboundonly HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"//status", "GET //status HTTP/1.1\r\nHost: x\r\n\r\n", 301},
		{"/a/../status", "GET /a/../status HTTP/1.1\r\nHost: x\r\n\r\n", 301},
		{"/%2e%2e/status", "GET /%2e%2e/status HTTP/1.1\r\nHost: x\r\n\r\n", 301},
		{"/status/", "GET /status/ HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"/STATUS", "GET /STATUS HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"/stat%00us", "GET /stat%00us HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"absolute URI", "GET http://evil.example/status HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200},
		{"HTTP/1.0", "GET /status HTTP/1.0\r\n\r\n", 200},
		{"garbage request line", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400},
	} {
		if got := raw(tc.req); got != tc.want {
			a.fatalf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}

	// Concurrent mutations: only documented answers, and Envoy is asked no more than allowed.
	var wg sync.WaitGroup
	codes := make(chan int, 400)
	for i := range 40 {
		wg.Go(func() {
			for j := range 10 {
				path := "/drain_listeners?inboundonly"
				if (i+j)%2 == 0 {
					path = fmt.Sprintf("/enableLogging?level=%s", []string{"debug", "trace", "info"}[j%3])
				}
				code, _ := a.get("POST", path)
				codes <- code
			}
		})
	}
	wg.Wait()
	close(codes)
	counts := map[int]int{}
	for c := range codes {
		counts[c]++
		if c != 200 && c != 304 && c != 429 {
			a.fatalf("a concurrent mutation got %d (counts so far %v)", c, counts)
		}
	}
	t.Logf("concurrent mutations: %v", counts)

	// Afterwards: connections closed, the agent settles.
	close(stopTrickle)
	for _, c := range conns {
		c.Close()
	}
	trickle.Wait()
	a.client.CloseIdleConnections()
	if s, ok := a.tryStatus(); !ok || s.HealthStatus != api.Healthy {
		a.fatalf("/status after the abuse: %+v", s)
	}
	var afterRSS, afterThreads int64
	// Go keeps the OS threads it started for blocking system calls (a high-water mark that
	// grows with the machine's load, +9 seen on a 2-core machine at load 20), so the bound
	// catches a runaway (a thread per connection would add hundreds), not the runtime's pool.
	settled := testenv.Poll(30*time.Second, func() bool {
		afterRSS, afterThreads = rss(pid), threads(pid)
		return afterThreads <= baseThreads+24 && afterRSS <= baseRSS+48<<20
	})
	t.Logf("RSS %d → %d MiB (peak %d MiB), threads %d → %d", baseRSS>>20, afterRSS>>20, peakRSS(pid)>>20, baseThreads, afterThreads)
	if !settled {
		a.fatalf("the agent did not settle: RSS %d → %d MiB, threads %d → %d", baseRSS>>20, afterRSS>>20, baseThreads, afterThreads)
	}
	if a.exited() {
		a.fatalf("the agent exited")
	}
}

// TestSlowScrapersDoNotStarveOthers (issue 16, item 7): four connections read a 32 MB stats
// body at a crawl and hold every scrape slot. A fresh scrape is refused only while they are
// young: once they have run for 10 s (Prometheus's default scrape timeout) the fresh scrape
// takes the slot of the oldest, which is cut, and gets the whole body. (They used to hold
// the slots until a write to them stalled for 30 s, and a crawler that kept reading for the
// 10 minutes its body took.)
func TestSlowScrapersDoNotStarveOthers(t *testing.T) {
	t.Parallel()
	const size = 32 << 20
	prom, line := bigStats(t, size)
	a := newAgent(t, "STANDIN_PROM_FILE="+prom)
	a.withAPI()
	a.start()
	a.waitEnvoyUp(1)
	addr := strings.TrimPrefix(a.base, "http://")
	started := time.Now()
	for _, st := range crawl(t, addr, 4) {
		if !strings.HasPrefix(st, "HTTP/1.1 200") {
			a.fatalf("a slow scrape was answered %.40q", st)
		}
	}
	scrape := func() (int, int64) {
		code, body := a.slowGet("GET", "/stats/prometheus")
		return code, int64(len(body))
	}
	if !testenv.Poll(5*time.Second, func() bool { code, _ := scrape(); return code == http.StatusTooManyRequests }) {
		a.fatalf("the four slow scrapes do not hold the slots; nothing is tested")
	}
	var code int
	var n int64
	if !testenv.Poll(20*time.Second, func() bool { code, n = scrape(); return code == 200 }) {
		a.fatalf("no fresh scrape answered within 20 s beside four crawling ones (last: %d)", code)
	}
	t.Logf("a fresh scrape answered %v after the crawlers started", time.Since(started).Round(time.Millisecond))
	if n < size-int64(len(line)) {
		a.fatalf("the fresh scrape got %d bytes, want the whole body", n)
	}
	if !strings.Contains(a.stderr(), "A stats scrape was cut") {
		a.fatalf("the cut crawler is not logged:\n%s", a.stderr())
	}
}

// crawl starts n scrapes of addr's /stats/prometheus that read 256 bytes every 20 ms (12.8
// kB/s) until the test ends, and returns the status line each got.
func crawl(t *testing.T, addr string, n int) []string {
	t.Helper()
	statuses := make(chan string, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.(*net.TCPConn).SetReadBuffer(256 << 10) // over loopback's MSS, or window updates stall
		fmt.Fprintf(c, "GET /stats/prometheus HTTP/1.1\r\nHost: agent\r\n\r\n")
		go func() {
			buf := make([]byte, 256)
			n, _ := io.ReadAtLeast(c, buf, 12)
			statuses <- strings.SplitN(string(buf[:n]), "\r", 2)[0]
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	out := make([]string, n)
	for i := range out {
		out[i] = <-statuses
	}
	return out
}

// bigStats writes a Prometheus body of about size bytes for STANDIN_PROM_FILE.
func bigStats(t *testing.T, size int) (path string, line string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "prom.txt")
	line = "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"c\"} 1\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, size/len(line))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, line
}

// TestRemoteScrapersCannotDenyLocalOnes (issue 16, item 7): /stats/prometheus is open to
// remote clients, but four remote crawlers get two slots (one remote address holds at most
// two), and a scrape from loopback is answered at once beside them.
func TestRemoteScrapersCannotDenyLocalOnes(t *testing.T) {
	t.Parallel()
	var hostIP string
	addrs, _ := net.InterfaceAddrs()
	for _, ad := range addrs {
		if ipn, ok := ad.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			hostIP = ipn.IP.String()
			break
		}
	}
	if hostIP == "" {
		t.Skip("no non-loopback IPv4 address to connect from as a remote client")
	}
	prom, _ := bigStats(t, 32<<20)
	a := newAgent(t, "STANDIN_PROM_FILE="+prom)
	a.withTCPAPI(testenv.FreePort(t), "0.0.0.0")
	a.start()
	a.waitEnvoyUp(1)
	remote := net.JoinHostPort(hostIP, a.base[strings.LastIndexByte(a.base, ':')+1:])
	statuses := crawl(t, remote, 4)
	slices.Sort(statuses)
	if want := []string{"HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 429 Too Many Requests", "HTTP/1.1 429 Too Many Requests"}; !slices.Equal(statuses, want) {
		a.fatalf("four remote crawlers from one address got %q, want two slots", statuses)
	}
	if code, body := a.slowGet("GET", "/stats/prometheus"); code != 200 || len(body) < 32<<20-100 {
		a.fatalf("a local scrape beside remote crawlers: %d, %d bytes; want 200 and the whole body", code, len(body))
	}
}
