package conformance

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tmdsBasePath makes ${TMDS} carry a path, as the README allows, so a binary
// that drops the base path or joins URLs wrongly fails.
const tmdsBasePath = "/v4/conformance-container"

const (
	imdsToken       = "conformance-imds-token"
	imdsTokenTTLHdr = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	notFoundBody    = "404 - Not Found"
)

// mocks are the TMDS and IMDS servers of one test run; they only read the
// (pristine) fixtures, so all cases can share them.
type mocks struct {
	tmds, imds *httptest.Server
}

func startMocks(t *testing.T, fixturesDir string) *mocks {
	t.Helper()
	imdsRoot, err := os.OpenRoot(filepath.Join(fixturesDir, "imds"))
	if err != nil {
		t.Fatalf("IMDS fixtures: %v", err)
	}
	m := &mocks{
		tmds: httptest.NewServer(tmdsHandler(filepath.Join(fixturesDir, "tmds"))),
		imds: httptest.NewServer(imdsHandler(imdsRoot)),
	}
	t.Cleanup(func() {
		m.tmds.Close()
		m.imds.Close()
		imdsRoot.Close()
	})
	return m
}

// TMDSBase is the ${TMDS} placeholder value.
func (m *mocks) TMDSBase() string { return m.tmds.URL + tmdsBasePath }

// IMDSBase is the ${IMDS} placeholder value (scheme://host:port, no slash).
func (m *mocks) IMDSBase() string { return m.imds.URL }

func tmdsHandler(dir string) http.Handler {
	routes := map[string]string{
		tmdsBasePath:           "container.json",
		tmdsBasePath + "/task": "task.json",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := routes[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			notFound(w)
			return
		}
		serveFile(w, "application/json", func() ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) })
	})
}

func imdsHandler(root *os.Root) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/latest/api/token" && r.Method == http.MethodPut:
			// The AWS SDKs parse the TTL header of the token response.
			ttl := r.Header.Get(imdsTokenTTLHdr)
			if ttl == "" {
				ttl = "21600"
			}
			w.Header().Set(imdsTokenTTLHdr, ttl)
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, imdsToken)
		case r.Method != http.MethodGet:
			notFound(w)
		case p == "/latest/dynamic/instance-identity/document":
			serveFile(w, "application/json", func() ([]byte, error) { return root.ReadFile("identity.json") })
		case strings.HasPrefix(p, "/latest/meta-data/"):
			// os.Root confines the lookup to fixtures/imds: no "..", no escaping
			// symlinks; directories and paths through files fail and are 404s
			// (d05 relies on <base>/task being a 404).
			rel := strings.TrimPrefix(p, "/latest/meta-data/")
			serveFile(w, "text/plain", func() ([]byte, error) { return root.ReadFile(rel) })
		default:
			notFound(w)
		}
	})
}

// serveFile answers the file's exact bytes, or a 404 if it cannot be read.
func serveFile(w http.ResponseWriter, contentType string, read func() ([]byte, error)) {
	body, err := read()
	if err != nil {
		notFound(w)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(body)
}

// notFound writes the exact body the README specifies (http.Error would add
// a newline).
func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, notFoundBody)
}

func TestMocks(t *testing.T) {
	fixtures := corpusFixturesDir()
	m := startMocks(t, fixtures)
	file := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(fixtures, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		method, url string
		wantCode    int
		wantBody    string
	}{
		{"GET", m.TMDSBase(), 200, file("tmds/container.json")},
		{"GET", m.TMDSBase() + "/task", 200, file("tmds/task.json")},
		{"GET", m.TMDSBase() + "/", 404, notFoundBody},
		{"GET", m.TMDSBase() + "/stats", 404, notFoundBody},
		{"GET", m.tmds.URL + "/task", 404, notFoundBody},
		{"PUT", m.TMDSBase(), 404, notFoundBody},
		{"PUT", m.IMDSBase() + "/latest/api/token", 200, imdsToken},
		{"GET", m.IMDSBase() + "/latest/api/token", 404, notFoundBody},
		{"GET", m.IMDSBase() + "/latest/meta-data/placement/region", 200, file("imds/placement/region")},
		{"GET", m.IMDSBase() + "/latest/meta-data/placement/availability-zone", 200, file("imds/placement/availability-zone")},
		{"GET", m.IMDSBase() + "/latest/meta-data/placement/availability-zone-id", 200, file("imds/placement/availability-zone-id")},
		{"GET", m.IMDSBase() + "/latest/meta-data/ecs-container-nolimits", 200, file("imds/ecs-container-nolimits")},
		{"GET", m.IMDSBase() + "/latest/meta-data/ecs-container-nolimits/task", 404, notFoundBody},
		{"GET", m.IMDSBase() + "/latest/meta-data/placement", 404, notFoundBody},
		{"GET", m.IMDSBase() + "/latest/meta-data/placement/../../tmds/task.json", 404, notFoundBody},
		{"GET", m.IMDSBase() + "/latest/meta-data/%2e%2e/tmds/task.json", 404, notFoundBody},
		{"GET", m.IMDSBase() + "/latest/meta-data/instance-id", 404, notFoundBody},
		{"GET", m.IMDSBase() + "/latest/dynamic/instance-identity/document", 200, file("imds/identity.json")},
		{"GET", m.IMDSBase() + "/", 404, notFoundBody},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+strings.TrimPrefix(strings.TrimPrefix(tt.url, m.tmds.URL), m.imds.URL), func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.method == "PUT" {
				req.Header.Set(imdsTokenTTLHdr, "60")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode || string(body) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
			if tt.wantCode == 200 && tt.method == "PUT" && resp.Header.Get(imdsTokenTTLHdr) != "60" {
				t.Errorf("token TTL header = %q, want the requested 60", resp.Header.Get(imdsTokenTTLHdr))
			}
		})
	}
}
