package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func drainCalls(f *fakeEnvoy) []string {
	var out []string
	for _, c := range f.callList() {
		if strings.HasPrefix(c, "POST /drain_listeners") {
			out = append(out, strings.TrimPrefix(c, "POST /drain_listeners?"))
		}
	}
	return out
}

// TestDrainListeners is scenario 25 with H4 (graceful accepted and forwarded together with inboundonly).
func TestDrainListeners(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		body           string
		code           int
		want, envoy    string
	}{
		{"POST", "/drain_listeners?inboundonly=false", "", 200, "OK\n", "inboundonly"},
		{"POST", "/drain_listeners?graceful", "", 200, "OK\n", "graceful&inboundonly"}, // inbound only, as the endpoint always was
		{"POST", "/drain_listeners?inboundonly&graceful=1", "", 200, "OK\n", "graceful&inboundonly"},
		{"POST", "/drain_listeners", "", 400, "Unexpected number of query parameters specified in request: [0]\n", ""},
		{"POST", "/drain_listeners?inboundonly&graceful&x", "", 400, "Unexpected number of query parameters specified in request: [3]\n", ""},
		{"POST", "/drain_listeners?inboundonly&x=1", "", 400, "Unexpected query parameters specified in request [map[x:[1]]]\n", ""},
		{"POST", "/drain_listeners?%zz", "", 400, "Unable to parse queries in URL: invalid URL escape \"%zz\"\n", ""},
		{"GET", "/drain_listeners?inboundonly", "", 400, "Invalid method [GET] in request\n", ""},
		{"POST", "/drain_listeners?inboundonly", "body", 400, "Unexpected content in request. Body size [4]\n", ""},
	} {
		f := newFakeEnvoy(t)
		h := newTestService(t, f.srv, nil).Handler()
		var req *http.Request
		if tc.body != "" {
			req = httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		} else {
			req = httptest.NewRequest(tc.method, tc.target, nil)
		}
		req.RemoteAddr = local
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		calls := drainCalls(f)
		if rec.Code != tc.code || rec.Body.String() != tc.want || (tc.envoy == "") != (len(calls) == 0) ||
			(tc.envoy != "" && calls[0] != tc.envoy) {
			t.Errorf("%s %s: %d %q, Envoy got %v; want %d %q, %q", tc.method, tc.target, rec.Code, rec.Body.String(), calls, tc.code, tc.want, tc.envoy)
		}
	}
}

func TestDrainListenersEnvoyFails(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.status["/drain_listeners"] = 503 })
	h := newTestService(t, f.srv, nil).Handler()
	start := time.Now()
	code, body, _ := do(h, "POST", "/drain_listeners?inboundonly", local)
	if code != 500 || body != "Unable to drain Envoy listeners\n" {
		t.Errorf("%d %q", code, body)
	}
	if n := len(drainCalls(f)); n != mutateAttempts {
		t.Errorf("%d attempts", n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}
