package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// do serves one request through h from addr and returns the status and body.
func do(h http.Handler, method, target, remote string) (int, string, http.Header) {
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

const local = "127.0.0.1:40000"

func TestRoutingEdges(t *testing.T) {
	f := newFakeEnvoy(t)
	h := newTestService(t, f.srv, nil).Handler()
	for _, tc := range []struct {
		method, target string
		code           int
		body, location string
	}{
		{"GET", "/nope", 404, "404 page not found\n", ""},
		{"GET", "/status/", 404, "404 page not found\n", ""},
		{"GET", "//status", 301, "", "/status"},
		{"DELETE", "/status", 200, "", ""},
		{"POST", "/status?anything=1", 200, "", ""},
	} {
		code, body, hdr := do(h, tc.method, tc.target, local)
		if code != tc.code || (tc.body != "" && body != tc.body) || hdr.Get("Location") != tc.location {
			t.Errorf("%s %s: %d %q Location %q", tc.method, tc.target, code, body, hdr.Get("Location"))
		}
	}
}

// TestRateLimitsPerEndpoint is H2: scrapes spending their budget leave /status alone.
func TestRateLimitsPerEndpoint(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.prom = []byte("# TYPE envoy_x counter\nenvoy_x 1\n") })
	h := newTestService(t, f.srv, nil).Handler()
	limited := 0
	for i := 0; i < 40; i++ {
		code, body, _ := do(h, "GET", "/stats/prometheus", local)
		if code == http.StatusTooManyRequests {
			limited++
			if body != "Too Many Requests\n" {
				t.Errorf("429 body %q", body)
			}
		}
	}
	if limited == 0 {
		t.Error("40 back-to-back scrapes never hit the limit")
	}
	for i := 0; i < 100; i++ {
		if code, _, _ := do(h, "GET", "/status", local); code != 200 {
			t.Fatalf("/status call %d: %d after the scrapes spent their budget", i, code)
		}
	}
	// Unknown paths never take a token.
	if code, _, _ := do(h, "GET", "/nope", local); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
}

func TestStatsConcurrencyLimit(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.delay["/stats"] = 300 * time.Millisecond; f.prom = []byte("envoy_x 1\n") })
	h := newTestService(t, f.srv, nil).Handler()
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			code, _, _ := do(h, "GET", "/stats/prometheus", local)
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	ok, limited := 0, 0
	for c := range codes {
		switch c {
		case 200:
			ok++
		case 429:
			limited++
		}
	}
	if ok != maxScrapes || limited != 8-maxScrapes {
		t.Errorf("%d answered, %d refused; want %d in flight at most", ok, limited, maxScrapes)
	}
}

func TestLoopbackClient(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "127.3.4.5:1": true, "[::1]:1": true, "[::ffff:127.0.0.1]:1": true,
		"192.0.2.2:1": false, "[fd00::2]:1": false, "[fe80::1%eth0]:1": false, "@": false, "": false,
	} {
		if got := loopbackClient(addr); got != want {
			t.Errorf("%q: %v", addr, got)
		}
	}
}

// TestRemoteMutationRefused is H6 with a forged peer address: mutating endpoints answer 403
// to non-loopback clients unless APPNET_AGENT_ALLOW_REMOTE_ADMIN; reads stay open.
func TestRemoteMutationRefused(t *testing.T) {
	f := newFakeEnvoy(t)
	h := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" }).Handler()
	remote := "192.0.2.7:5555"
	for _, target := range []string{"/drain_listeners?inboundonly", "/enableLogging?level=debug"} {
		code, body, _ := do(h, "POST", target, remote)
		if code != http.StatusForbidden || !strings.Contains(body, "APPNET_AGENT_ALLOW_REMOTE_ADMIN") {
			t.Errorf("%s from %s: %d %q", target, remote, code, body)
		}
	}
	if code, _, _ := do(h, "GET", "/status", remote); code != 200 {
		t.Errorf("/status from a remote client: %d", code)
	}
	if n := f.count("POST"); n != 0 {
		t.Errorf("Envoy got %d mutations", n)
	}
	allowed := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp"; c.allowRemote = true }).Handler()
	if code, body, _ := do(allowed, "POST", "/drain_listeners?inboundonly", remote); code != 200 || body != "OK\n" {
		t.Errorf("allowed remote drain: %d %q", code, body)
	}
}

func TestServerTimeouts(t *testing.T) {
	s := newHTTPServer(http.NotFoundHandler(), hclog.NewNullLogger())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 ||
		s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 16<<10 {
		t.Errorf("server limits: %+v", s)
	}
	if s.WriteTimeout < statsAttempts*statsTimeout {
		t.Errorf("write timeout %v shorter than a stats call", s.WriteTimeout)
	}
}

// TestRequestHeadLimit: the documented 8 KiB is the limit, not 8 KiB plus net/http's slack
// (issue 7, defect 11: ~12 KiB was admitted).
func TestRequestHeadLimit(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	for _, tc := range []struct {
		header int
		want   int
	}{{7 << 10, 200}, {maxRequestHead + 1, 431}, {12 << 10, 431}, {64 << 10, 431}} {
		conn, err := net.Dial("tcp", svc.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /status HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n", strings.Repeat("x", tc.header))
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%d-byte header: %v", tc.header, err)
		}
		res.Body.Close()
		conn.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%d-byte header: %d, want %d", tc.header, res.StatusCode, tc.want)
		}
	}
}

// Issue 7, defect 11: every endpoint refuses a request body, chunked or not.
func TestChunkedBodiesRefusedEverywhere(t *testing.T) {
	f := newFakeEnvoy(t)
	h := newTestService(t, f.srv, nil).Handler()
	for _, target := range []string{"/drain_listeners?inboundonly", "/enableLogging?level=debug", "/stats/prometheus"} {
		method := "POST"
		if target == "/stats/prometheus" {
			method = "GET"
		}
		req := httptest.NewRequest(method, target, strings.NewReader("x"))
		req.ContentLength = -1 // chunked
		req.RemoteAddr = local
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Errorf("%s %s with a chunked body: %d %q", method, target, rec.Code, rec.Body.String())
		}
	}
	if n := f.count("POST"); n != 0 {
		t.Errorf("Envoy got %d mutations", n)
	}
}

func TestUnixSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.sock")
	// A stale socket from a previous run is replaced.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	f := newFakeEnvoy(t)
	svc := New(Options{Config: testConfig{adminMode: "uds", udsPath: path}.env(), Admin: adminFor(t, f.srv)})
	if err := svc.Listen(); err != nil {
		t.Fatal(err)
	}
	svc.Start()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v; want mode 0600 even with umask 0", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftovers beside the socket: %v", entries)
	}
	c := testenv.UnixClient(path)
	res, err := c.Get("http://127.0.0.1/status")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	// Over the socket, mutations are allowed: its mode restricts it to the agent's user.
	res, err = c.Post("http://127.0.0.1/drain_listeners?inboundonly", "", nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("drain over the socket: %v %v", res, err)
	}
	res.Body.Close()
	svc.Stop()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket left behind after Stop: %v", err)
	}
}

func TestUnixSocketRefusesToReplaceAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-socket")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := listenUnix(path); err == nil || !strings.Contains(err.Error(), "APPNET_AGENT_ADMIN_UDS_PATH") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "data" {
		t.Error("the file was touched")
	}
	if _, err := listenUnix(filepath.Join(t.TempDir(), "missing", "a.sock")); err == nil {
		t.Error("a missing directory was accepted")
	}
}

// Issue 16, items 1 and 3: a symbolic link at the socket path is refused and left alone with
// its target; a live socket (another process serves it) is never replaced, a stale one is; a
// path whose private directory would be too long for a socket address still works.
func TestUnixSocketPathChecks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.sock")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := listenUnix(link); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("symlink: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode().Type() != os.ModeSymlink {
		t.Errorf("the link was changed: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target was changed: %q", b)
	}

	live := filepath.Join(dir, "live.sock")
	other, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	before, _ := os.Lstat(live)
	if _, err := listenUnix(live); err == nil || !strings.Contains(err.Error(), "is in use") {
		t.Errorf("live socket: %v", err)
	}
	if after, err := os.Lstat(live); err != nil || !os.SameFile(before, after) {
		t.Errorf("the live socket was replaced: %v", err)
	}

	// 107 bytes: the longest socket address, so the private directory's name is longer.
	short, err := os.MkdirTemp("/tmp", "us") // t.TempDir's name may leave no room
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(short)
	long := filepath.Join(short, strings.Repeat("d", 90-len(short)))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(long, "a.sock")
	p += strings.Repeat("k", 107-len(p))
	ln, err := listenUnix(p)
	if err != nil {
		t.Fatalf("a %d-byte path: %v", len(p), err)
	}
	defer ln.Close()
	if fi, err := os.Lstat(p); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %v, %v; want a 0600 socket", fi, err)
	}
	if c, err := net.Dial("unix", p); err != nil {
		t.Errorf("cannot connect: %v", err)
	} else {
		c.Close()
	}
}

func TestListenTCPInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	if _, err := listenTCP("127.0.0.1", port); err == nil || !strings.Contains(err.Error(), "APPNET_AGENT_HTTP_PORT") {
		t.Fatalf("port in use: %v", err)
	}
}

func TestRecoverFromHandlerPanic(t *testing.T) {
	var logs logBuffer
	h := recovering(logs.logger(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") }))
	code, _, _ := do(h, "GET", "/x", local)
	if code != 500 || !strings.Contains(logs.String(), "bug") {
		t.Errorf("%d, logs %q", code, logs.String())
	}
}

func TestStopWithoutStartAndTwice(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := New(Options{Config: testConfig{adminMode: "tcp"}.env(), Admin: adminFor(t, f.srv)})
	if err := svc.Listen(); err != nil {
		t.Fatal(err)
	}
	svc.Stop()
	svc.Stop()
}

// Closing must not delete a socket that another process has since bound at the same path.
func TestUnixListenerCloseKeepsAReplacedSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	first, err := listenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listenUnix(path); err == nil || !strings.Contains(err.Error(), "is in use") {
		t.Fatalf("a second listener took the live socket: %v", err)
	}
	if err := os.Remove(path); err != nil { // someone removes it; another process binds the path
		t.Fatal(err)
	}
	second, err := listenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the second listener's socket was removed: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("socket left behind after its own listener closed: %v", err)
	}
}

// Issue 16, item 7: who gets a slot when the gate is full, and whose scrape is cut for it.
func TestScrapeGateAdmission(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type run struct {
		local bool
		addr  string
		age   time.Duration
	}
	local := func(age time.Duration) run { return run{local: true, age: age} }
	remote := func(addr string, age time.Duration) run { return run{addr: addr, age: age} }
	// running is oldest first, as the gate keeps it; victim indexes it.
	for _, tc := range []struct {
		name    string
		running []run
		next    run
		ok      bool
		victim  int // -1 for none
	}{
		{"free slot", []run{local(time.Second)}, local(0), true, -1},
		{"full of fresh scrapes", []run{local(4), local(3), local(2), local(1)}, local(0), false, -1},
		{"full: the oldest crawler is cut", []run{local(20 * time.Second), local(11 * time.Second), local(2), local(1)}, local(0), true, 0},
		{"remote clients leave a slot to local ones", []run{remote("a", 1), remote("b", 1), remote("c", 1)}, remote("d", 0), false, -1},
		{"... which a local client gets", []run{remote("a", 1), remote("b", 1), remote("c", 1)}, local(0), true, -1},
		{"one remote address holds two slots at most", []run{remote("a", 1), remote("a", 1)}, remote("a", 0), false, -1},
		{"... another address gets one", []run{remote("a", 1), remote("a", 1)}, remote("b", 0), true, -1},
		{"a remote newcomer never cuts a local scrape", []run{local(time.Minute), remote("a", 1), remote("b", 1), remote("c", 1)}, remote("d", 0), false, -1},
		{"a remote newcomer cuts a remote crawler", []run{local(time.Minute), remote("a", time.Minute), remote("b", 1), remote("c", 1)}, remote("d", 0), true, 1},
		{"a local newcomer cuts a remote crawler", []run{remote("a", time.Minute), remote("b", 1), remote("c", 1), local(1)}, local(0), true, 0},
		{"cutting a crawler of the same address frees its share", []run{remote("a", time.Minute), remote("a", 1)}, remote("a", 0), true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newScrapeGate(http.NotFoundHandler(), nil, statsLimit, hclog.NewNullLogger())
			for _, r := range tc.running {
				g.running = append(g.running, &scrapeSlot{local: r.local, addr: r.addr, started: t0.Add(-r.age)})
			}
			var want *scrapeSlot
			if tc.victim >= 0 {
				want = g.running[tc.victim]
			}
			next := &scrapeSlot{local: tc.next.local, addr: tc.next.addr, started: t0}
			victim, ok := g.admit(next)
			if ok != tc.ok || victim != want {
				t.Fatalf("admitted %v, victim %+v; want %v, %+v", ok, victim, tc.ok, want)
			}
			if ok && (len(g.running) > maxScrapes || g.running[len(g.running)-1] != next) {
				t.Errorf("running after admission: %d, last %+v", len(g.running), g.running[len(g.running)-1])
			}
		})
	}
}
