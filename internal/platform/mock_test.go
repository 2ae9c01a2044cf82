package platform

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// fixturesDir is the conformance corpus's fixtures directory (the project's copy under testdata/).
var fixturesDir = testenv.Testdata("conformance", "fixtures")

// fixture returns the content of a conformance fixture file.
func fixture(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir, rel))
	if err != nil {
		t.Fatalf("conformance fixture missing (expected under testdata/conformance/fixtures): %v", err)
	}
	return string(b)
}

const mockToken = "tok-123"

// imdsMock imitates the EC2 instance metadata service like the conformance
// runner's mock: PUT /latest/api/token returns a token, GET
// /latest/meta-data/<path> returns fixtures/imds/<path>, GET
// /latest/dynamic/instance-identity/document returns identity.json, anything
// else is a 404 with body "404 - Not Found". Fields are set by the configure
// function before the server starts and only read afterwards.
type imdsMock struct {
	files        map[string]string // request path → 200 body
	tokenStatus  int               // status of the token PUT; 0 → 200 with mockToken
	tokenDelay   time.Duration     // the token PUT hangs this long (or until cancelled)
	getDelay     time.Duration     // every GET hangs this long (or until cancelled)
	requireToken bool              // IMDSv2 only: GETs without the token get 401

	srv *httptest.Server
	mu  sync.Mutex
	log []string // "PUT /path" or "GET /path token=<tok>"
}

func newIMDSMock(t *testing.T, configure func(*imdsMock)) *imdsMock {
	t.Helper()
	m := &imdsMock{files: map[string]string{
		"/latest/meta-data/placement/availability-zone":    fixture(t, "imds/placement/availability-zone"),
		"/latest/meta-data/placement/availability-zone-id": fixture(t, "imds/placement/availability-zone-id"),
		"/latest/meta-data/placement/region":               fixture(t, "imds/placement/region"),
		"/latest/meta-data/ecs-container-nolimits":         fixture(t, "imds/ecs-container-nolimits"),
		"/latest/dynamic/instance-identity/document":       fixture(t, "imds/identity.json"),
	}}
	if configure != nil {
		configure(m)
	}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *imdsMock) URL() string { return m.srv.URL }

func (m *imdsMock) serve(w http.ResponseWriter, r *http.Request) {
	if ua := r.Header.Get("User-Agent"); ua != userAgent {
		http.Error(w, "bad user agent "+ua, http.StatusBadRequest)
		return
	}
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		m.record("PUT " + r.URL.Path + " ttl=" + r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		if !sleep(r, m.tokenDelay) {
			return
		}
		if m.tokenStatus != 0 && m.tokenStatus != http.StatusOK {
			w.WriteHeader(m.tokenStatus)
			return
		}
		_, _ = w.Write([]byte(mockToken))
	case r.Method == http.MethodGet:
		tok := r.Header.Get("X-aws-ec2-metadata-token")
		m.record("GET " + r.URL.Path + " token=" + tok)
		if !sleep(r, m.getDelay) {
			return
		}
		if m.requireToken && tok != mockToken {
			http.Error(w, "401 - Unauthorized", http.StatusUnauthorized)
			return
		}
		body, ok := m.files[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("404 - Not Found"))
			return
		}
		_, _ = w.Write([]byte(body))
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (m *imdsMock) record(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, s)
}

// requests returns the recorded requests.
func (m *imdsMock) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.log...)
}

// sleep waits d or until the client goes away; false means it went away.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}

// tmdsPrefix is the path part of the mock task metadata base URL, so tests
// also cover a base URI that has a path (as the real ones do).
const tmdsPrefix = "/v4/abc-123"

// newTMDSMock serves GET <base> and GET <base>/task with the conformance
// fixtures, replaced or removed (empty string → 404) by overrides keyed "" and
// "/task". It returns the base URL.
func newTMDSMock(t *testing.T, overrides map[string]string) string {
	t.Helper()
	bodies := map[string]string{"": fixture(t, "tmds/container.json"), "/task": fixture(t, "tmds/task.json")}
	maps.Copy(bodies, overrides)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, tmdsPrefix)
		body := bodies[rest]
		if !ok || r.Method != http.MethodGet || body == "" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + tmdsPrefix
}

// stubEnvoy writes an executable shell script to a temporary directory and
// returns its path.
func stubEnvoy(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "envoy")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// versionStub is a stub envoy printing a conformance version fixture.
func versionStub(t *testing.T, fixtureName string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(fixturesDir, fixtureName))
	if err != nil {
		t.Fatal(err)
	}
	fixture(t, fixtureName) // fail early and clearly if missing
	return stubEnvoy(t, `[ "$1" = --version ] || exit 1
cat '`+abs+`'`)
}

// withoutSystemInfo mirrors the conformance masking: systemInfo is removed and
// an emptied platformInfo becomes nil.
func withoutSystemInfo(pi map[string]any) map[string]any {
	if pi == nil {
		return nil
	}
	out := maps.Clone(pi)
	delete(out, KeySystemInfo)
	if len(out) == 0 {
		return nil
	}
	return out
}
