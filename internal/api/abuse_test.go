package api

import (
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestConnectionsLeaveNothingBehind (issue 7): 1,000 idle and 200 half-sent requests against
// the management server; once they are gone, so are their goroutines and their memory.
func TestConnectionsLeaveNothingBehind(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + svc.Addr().String() + "/status"
	get := func() int {
		res, err := client.Get(url)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	get()
	// Counted are the server's connection goroutines: other tests' goroutines may come and go.
	settle := func() (int, uint64) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return connGoroutines(), m.HeapInuse
	}
	baseG, baseHeap := settle()

	var conns []net.Conn
	for range 1200 {
		c, err := net.Dial("tcp", svc.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns[1000:] {
		_, _ = io.WriteString(c, "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: a")
	}
	testenv.WaitFor(t, 10*time.Second, "a goroutine per connection", func() bool { return connGoroutines() >= 1200 })
	if code := get(); code != 200 {
		t.Fatalf("/status with 1,200 connections held: %d", code)
	}
	peakG, peakHeap := settle()
	for _, c := range conns {
		c.Close()
	}
	var g int
	var heap uint64
	ok := testenv.Poll(10*time.Second, func() bool {
		g, heap = settle()
		return g <= baseG+2 && heap <= baseHeap+8<<20 // the peak held 12 MiB more
	})
	t.Logf("connection goroutines %d → %d → %d; heap in use %d → %d → %d KiB", baseG, peakG, g, baseHeap>>10, peakHeap>>10, heap>>10)
	if !ok {
		t.Fatalf("after the connections closed: goroutines %d (baseline %d), heap %d KiB (baseline %d)", g, baseG, heap>>10, baseHeap>>10)
	}
}

// connGoroutines counts the goroutines serving an HTTP connection in this process.
func connGoroutines() int {
	buf := make([]byte, 64<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "net/http.(*conn).serve(")
}
