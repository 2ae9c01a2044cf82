package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	hcmPath    = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config<HttpConnectionManager>"
	routesPath = hcmPath + ".route_config.virtual_hosts[0].routes"
	appPath    = "static_resources.clusters[1]"
	appAddr    = appPath + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address"
)

// Edits that several cases need.
var (
	noCDS = edit{"  cds_config:\n    ads: {}\n    initial_fetch_timeout: 0s\n    resource_api_version: V3\n", ""}
)

type edit struct{ old, new string }

func sample(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/sidecar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// mutate applies edits to the sample; every edit must match exactly once, so a stale case fails loudly.
func mutate(t *testing.T, src string, edits ...edit) string {
	t.Helper()
	for _, e := range edits {
		if n := strings.Count(src, e.old); n != 1 {
			t.Fatalf("edit %q matches %d times", e.old, n)
		}
		src = strings.Replace(src, e.old, e.new, 1)
	}
	return src
}

func TestSampleIsValid(t *testing.T) {
	b, err := Bootstrap([]byte(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if d := Deprecations(b); len(d) != 0 {
		t.Errorf("sample uses deprecated fields: %v", d)
	}
}

// mutation is one edit of the sample that must be rejected with a problem at path whose message contains error.
type mutation struct {
	name        string
	edits       []edit
	path, error string
}

func runMutations(t *testing.T, cases []mutation) {
	t.Helper()
	base := sample(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Bootstrap([]byte(mutate(t, base, tc.edits...)))
			if err == nil {
				t.Fatal("accepted")
			}
			assertProblem(t, err, tc.path, tc.error)
		})
	}
}

// eachFile runs fn as a subtest for every file matching pattern (at least min of them), with its content.
func eachFile(t *testing.T, pattern string, min int, fn func(t *testing.T, name string, data []byte)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < min {
		t.Fatalf("only %d files match %s", len(files), pattern)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, f, data)
		})
	}
}
