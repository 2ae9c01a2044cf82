package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func loggingCalls(f *fakeEnvoy) []string {
	var out []string
	for _, c := range f.callList() {
		if strings.HasPrefix(c, "POST /logging") {
			out = append(out, strings.TrimPrefix(c, "POST /logging?"))
		}
	}
	return out
}

// TestEnableLoggingValidation is scenario 22, adjusted for H3 (every Envoy level).
func TestEnableLoggingValidation(t *testing.T) {
	f := newFakeEnvoy(t)
	h := newTestService(t, f.srv, nil).Handler()
	for _, tc := range []struct {
		method, target, body string
		code                 int
		want                 string
	}{
		{"GET", "/enableLogging?level=debug", "", 400, "Only POST requests are supported\n"},
		{"POST", "/enableLogging", "", 400, "Invalid request\n"},
		{"POST", "/enableLogging?level=debug&foo=1", "", 400, "Invalid request\n"},
		{"POST", "/enableLogging?level=debug&permanent=", "", 400, "Invalid request\n"},
		{"POST", "/enableLogging?level=", "", 400, "Invalid request\n"},
		{"POST", "/enableLogging?level=%zz", "", 400, "Invalid request\n"},
		{"POST", "/enableLogging?level=verbose", "", 400, "Invalid log level specified\n"},
		{"POST", "/enableLogging?level=info", "", 304, ""},
		{"POST", "/enableLogging?level=debug", "x", 400, "Invalid request\n"},
	} {
		var req *http.Request
		if tc.body != "" {
			req = httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		} else {
			req = httptest.NewRequest(tc.method, tc.target, nil)
		}
		req.RemoteAddr = local
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code || rec.Body.String() != tc.want {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.target, rec.Code, rec.Body.String(), tc.code, tc.want)
		}
	}
	if calls := loggingCalls(f); len(calls) != 0 {
		t.Errorf("Envoy got %v", calls)
	}
}

func TestEnableLoggingEveryLevel(t *testing.T) {
	for _, level := range []string{"trace", "debug", "warn", "warning", "error", "critical", "off", "DEBUG"} {
		f := newFakeEnvoy(t)
		h := newTestService(t, f.srv, nil).Handler()
		code, body, _ := do(h, "POST", "/enableLogging?level="+level+"&permanent=true", local)
		lower := strings.ToLower(level)
		if code != 200 || body != "Setting logging level from [info] to ["+lower+"]\n" {
			t.Errorf("%s: %d %q", level, code, body)
		}
		want := "level=" + lower
		if lower == "warn" {
			want = "level=warning" // Envoy's admin knows warning, not warn
		}
		if calls := loggingCalls(f); len(calls) != 1 || calls[0] != want {
			t.Errorf("%s: Envoy got %v", level, calls)
		}
	}
}

// TestEnableLoggingTemporary is scenario 23 on a short reset timeout.
func TestEnableLoggingTemporary(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.loggingReset = 300 * time.Millisecond })
	h := svc.Handler()
	start := time.Now()
	code, body, _ := do(h, "POST", "/enableLogging?level=debug", local)
	if code != 200 || body != "Setting logging level from [info] to [debug]\n" {
		t.Fatalf("%d %q", code, body)
	}
	if got := svc.EnvoyLogLevel(); got != "debug" {
		t.Errorf("a restarted Envoy would get -l %s, want debug", got)
	}
	for _, target := range []string{"/enableLogging?level=trace", "/enableLogging"} {
		method := "POST"
		if target == "/enableLogging" {
			method = "GET"
		}
		if code, body, _ := do(h, method, target, local); code != 304 || body != "" {
			t.Errorf("%s %s while a reset is pending: %d %q", method, target, code, body)
		}
	}
	waitFor(t, 3*time.Second, "the reset", func() bool { return len(loggingCalls(f)) == 2 })
	if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
		t.Errorf("reset after %v, want about 300 ms", elapsed)
	}
	if calls := loggingCalls(f); calls[0] != "level=debug" || calls[1] != "level=info" {
		t.Errorf("Envoy got %v", calls)
	}
	waitFor(t, time.Second, "the level back to info", func() bool { return svc.EnvoyLogLevel() == "info" })
	if code, _, _ := do(h, "POST", "/enableLogging?level=debug", local); code != 200 {
		t.Errorf("after the reset: %d", code)
	}
}

// TestEnableLoggingPermanent is scenario 24.
func TestEnableLoggingPermanent(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.loggingReset = 100 * time.Millisecond })
	h := svc.Handler()
	if code, _, _ := do(h, "POST", "/enableLogging?level=debug&permanent=true", local); code != 200 {
		t.Fatal(code)
	}
	time.Sleep(300 * time.Millisecond)
	if calls := loggingCalls(f); len(calls) != 1 {
		t.Errorf("a permanent change was reset: %v", calls)
	}
	if code, _, _ := do(h, "POST", "/enableLogging?level=debug", local); code != 304 {
		t.Errorf("same level again: %d", code)
	}
	if svc.EnvoyLogLevel() != "debug" {
		t.Errorf("restart level %q", svc.EnvoyLogLevel())
	}
	// Any other value of permanent is a temporary change.
	code, body, _ := do(h, "POST", "/enableLogging?level=trace&permanent=yes", local)
	if code != 200 || body != "Setting logging level from [debug] to [trace]\n" {
		t.Errorf("%d %q", code, body)
	}
	waitFor(t, 2*time.Second, "reset to the permanent level", func() bool {
		c := loggingCalls(f)
		return len(c) == 3 && c[2] == "level=debug"
	})
}

func TestEnableLoggingEnvoyFails(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.status["/logging"] = 500 })
	svc := newTestService(t, f.srv, nil)
	code, body, _ := do(svc.Handler(), "POST", "/enableLogging?level=debug", local)
	if code != 500 || body != "Unable to set logging level to [debug]\n" {
		t.Errorf("%d %q", code, body)
	}
	if n := len(loggingCalls(f)); n != mutateAttempts {
		t.Errorf("%d attempts, want %d", n, mutateAttempts)
	}
	if svc.EnvoyLogLevel() != "info" {
		t.Errorf("a failed change moved the level to %q", svc.EnvoyLogLevel())
	}
}

// TestEnableLoggingResetRetried: a reset Envoy refuses is retried, never forgotten.
func TestEnableLoggingResetRetried(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.loggingReset = 50 * time.Millisecond })
	if code, _, _ := do(svc.Handler(), "POST", "/enableLogging?level=debug", local); code != 200 {
		t.Fatal(code)
	}
	f.set(func(f *fakeEnvoy) { f.status["/logging"] = 500 })
	waitFor(t, 2*time.Second, "a failed reset", func() bool { return len(loggingCalls(f)) > 1 })
	// The next Envoy start already gets the baseline.
	if svc.EnvoyLogLevel() != "info" {
		t.Errorf("restart level %q after the reset time", svc.EnvoyLogLevel())
	}
	// Still pending: requests get 304.
	if code, _, _ := do(svc.Handler(), "POST", "/enableLogging?level=trace", local); code != 304 {
		t.Errorf("while the reset is retried: %d", code)
	}
}

// TestEnableLoggingConcurrent is H3: concurrent requests change the level once and arm one
// reset.
func TestEnableLoggingConcurrent(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.loggingReset = 200 * time.Millisecond })
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for i := 0; i < 20; i++ {
		wg.Go(func() {
			code, _, _ := do(svc.Handler(), "POST", "/enableLogging?level=debug", local)
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		if c == 200 {
			ok++
		} else if c != 304 && c != 429 {
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 {
		t.Errorf("%d requests changed the level", ok)
	}
	waitFor(t, 2*time.Second, "one reset", func() bool { return len(loggingCalls(f)) == 2 })
	time.Sleep(300 * time.Millisecond)
	if calls := loggingCalls(f); len(calls) != 2 || calls[1] != "level=info" {
		t.Errorf("Envoy got %v", calls)
	}
}
