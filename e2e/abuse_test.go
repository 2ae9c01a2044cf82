package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
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
