package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

const testConfigDump = `{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.SecretsConfigDump","static_secrets":[` +
	`{"name":"cert-1","secret":{"@type":"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret","name":"cert-1",` +
	`"tls_certificate":{"private_key":{"inline_string":"MARKER-KEY"}}}}]}]}`

func httpDo(t *testing.T, method, url string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// The /envoy/ proxies ask Envoy for the same page with only the allowed query parameters,
// checked and re-encoded; config_dump comes back redacted; everything else is refused with
// a status that says why.
func TestEnvoyProxies(t *testing.T) {
	saved := proxyLimit
	proxyLimit = statusLimit // this test checks answers, not the budget
	defer func() { proxyLimit = saved }()
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) {
		f.pages = map[string]string{"/config_dump": testConfigDump, "/clusters": `{"cluster_statuses":[]}`,
			"/listeners": "ingress::0.0.0.0:15000\n", "/server_info": `{"state":"LIVE"}`, "/runtime": `{"layers":[]}`}
	})
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	base := "http://" + svc.Addr().String()
	for _, tc := range []struct {
		method, path string
		code         int
		body         string // in the answer
		envoy        string // the call Envoy saw ("" none)
	}{
		{"GET", "/envoy/config_dump", 200, `"name": "cert-1"`, "GET /config_dump?"},
		{"GET", "/envoy/config_dump?resource=dynamic_active_clusters&include_eds", 200, "", "GET /config_dump?include_eds=&resource=dynamic_active_clusters"},
		{"GET", "/envoy/config_dump?mask=cluster.name,cluster.type&name_regex=%5Ebackend.%2A", 200, "", "GET /config_dump?mask=cluster.name%2Ccluster.type&name_regex=%5Ebackend.%2A"},
		{"GET", "/envoy/clusters?format=json", 200, "cluster_statuses", "GET /clusters?format=json"},
		{"GET", "/envoy/listeners", 200, "ingress::", "GET /listeners?"},
		{"HEAD", "/envoy/server_info", 200, "", "GET /server_info?"},
		{"GET", "/envoy/runtime", 200, "layers", "GET /runtime?"},
		{"GET", "/envoy/ready", 200, "LIVE", "GET /ready?"},
		{"GET", "/envoy/clusters?format=xml", 400, `format="xml" is not allowed`, ""},
		{"GET", "/envoy/clusters?filter=x", 400, `unknown query parameter "filter" (allowed: format)`, ""},
		{"GET", "/envoy/runtime?x=1", 400, "this page takes none", ""},
		{"GET", "/envoy/config_dump?resource=a&resource=b", 400, "given 2 times", ""},
		{"GET", "/envoy/config_dump?mask=a%0Ab", 400, "not allowed", ""},
		{"GET", "/envoy/config_dump?include_eds=maybe", 400, "not allowed", ""},
		{"POST", "/envoy/runtime", 405, "read-only", ""},
		{"GET", "/envoy/runtime_modify", 404, "is not proxied", ""},
		{"GET", "/envoy/quitquitquit", 404, "is not proxied", ""},
		{"GET", "/envoy/stats", 404, "is not proxied", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			before := len(f.callList())
			code, body, _ := httpDo(t, tc.method, base+tc.path)
			if code != tc.code || !strings.Contains(body, tc.body) {
				t.Errorf("got %d %q, want %d with %q", code, body, tc.code, tc.body)
			}
			if strings.Contains(body, "MARKER") {
				t.Errorf("a secret passed: %s", body)
			}
			var proxied []string
			for _, c := range f.callList()[before:] {
				if !strings.HasPrefix(c, "GET /stats") && !strings.HasPrefix(c, "GET /ready") || strings.HasPrefix(tc.path, "/envoy/ready") {
					proxied = append(proxied, c)
				}
			}
			if tc.envoy == "" && len(proxied) > 0 || tc.envoy != "" && !contains(proxied, tc.envoy) {
				t.Errorf("Envoy saw %q, want %q", proxied, tc.envoy)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Envoy's own answers: a 4xx is passed on with its message, /ready's 503 too; Envoy down is
// 502; an answer over the bound is refused before a byte is sent.
func TestEnvoyProxyErrors(t *testing.T) {
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	base := "http://" + svc.Addr().String()

	f.set(func(f *fakeEnvoy) { f.status["/config_dump"] = 400 })
	if code, body, _ := httpDo(t, "GET", base+"/envoy/config_dump?mask=nope"); code != 400 || !strings.Contains(body, "Envoy answered /config_dump?mask=nope with 400: forced") {
		t.Errorf("Envoy's 400: got %d %q", code, body)
	}
	f.set(func(f *fakeEnvoy) { f.readyBody = "DRAINING\n" })
	if code, body, _ := httpDo(t, "GET", base+"/envoy/ready"); code != 503 || body != "DRAINING\n" {
		t.Errorf("Envoy's /ready 503: got %d %q", code, body)
	}
	f.set(func(f *fakeEnvoy) {
		delete(f.status, "/config_dump")
		f.pages = map[string]string{"/config_dump": `{"configs": [`}
	})
	if code, body, _ := httpDo(t, "GET", base+"/envoy/config_dump"); code != 502 || !strings.Contains(body, "reading Envoy's answer") {
		t.Errorf("truncated dump: got %d %q", code, body)
	}
	f.srv.Close()
	if code, body, _ := httpDo(t, "GET", base+"/envoy/clusters"); code != 502 || !strings.Contains(body, "did not answer") {
		t.Errorf("Envoy down: got %d %q", code, body)
	}
}

// The proxies share one budget: a burst past it is answered 429 without asking Envoy.
func TestEnvoyProxyBudget(t *testing.T) {
	f := newFakeEnvoy(t)
	f.set(func(f *fakeEnvoy) { f.pages = map[string]string{"/server_info": `{}`} })
	svc := newTestService(t, f.srv, func(c *testConfig) { c.adminMode = "tcp" })
	base := "http://" + svc.Addr().String()
	limited := 0
	for range 40 { // 40 in well under 6 s: over burst 10 + 5/s
		if code, _, _ := httpDo(t, "GET", base+"/envoy/server_info"); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no request was limited")
	}
	if n := f.count("GET /server_info"); n > 40-limited {
		t.Errorf("Envoy was asked %d times for %d admitted requests", n, 40-limited)
	}
}
