package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/proto"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// corpusDir is the real-bootstrap corpus, the project's copy under testdata/bootstrap-real.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := testenv.Testdata("bootstrap-real")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("real-bootstrap corpus missing: %v", err)
	}
	return dir
}

// corpusRejects lists the corpus files SOURCES.md marks as rejected by current APIs, with the reason expected.
var corpusRejects = map[string]struct{ path, message string }{
	"mysql.yaml": {
		"static_resources.listeners[0].filter_chains[0].filters[0].typed_config.@type",
		`unknown type "type.googleapis.com/envoy.extensions.filters.network.mysql_proxy.v3.MySQLProxy"`,
	},
	"envoy-google-vrp-edge-old.yaml": {
		"overload_manager.resource_monitors[0].typed_config.@type",
		"envoy.config.resource_monitor.fixed_heap.v2alpha.FixedHeapConfig",
	},
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		name := filepath.Base(f)
		if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".json") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			t.Parallel() // also shows, under -race, that validation shares no mutable state
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := validateCommand(data)
			if want, reject := corpusRejects[name]; reject {
				if err == nil {
					t.Fatalf("accepted; SOURCES.md says current APIs reject it")
				}
				assertProblem(t, err, want.path, want.message)
				return
			}
			if err != nil {
				t.Fatalf("rejected:\n%v", err)
			}
			// The canonical form must decode to the same bootstrap, and be stable.
			for _, canon := range []func(proto.Message) ([]byte, error){CanonicalJSON, CanonicalYAML} {
				out, err := canon(b)
				if err != nil {
					t.Fatal(err)
				}
				again, err := validateCommand(out)
				if err != nil {
					t.Fatalf("canonical form does not validate: %v\n%s", err, out)
				}
				if !proto.Equal(b, again) {
					t.Errorf("canonical form decodes to a different bootstrap:\n%s", out)
				}
				if err := lint(out); err != nil {
					t.Errorf("canonical form is not lint-clean: %v", err)
				}
			}
		})
	}
	if n < 30 {
		t.Errorf("only %d corpus files found in %s", n, dir)
	}
}

// TestEnvoyCICorpus: every bootstrap of testdata/envoy-ci (public bootstraps Envoy's own CI, docs and examples
// load; see its SOURCES.md) is accepted when read the way Envoy reads a file of that name.
func TestEnvoyCICorpus(t *testing.T) {
	eachFile(t, "testdata/envoy-ci/*.y*ml", 30, func(t *testing.T, name string, data []byte) {
		if _, err := validateFile(name, data); err != nil {
			t.Errorf("rejected, though Envoy loads it:\n%v", err)
		}
	})
}

// validateCommand checks data the way the validate command does: a node Envoy would take from
// --service-node/--service-cluster is not required.
func validateCommand(data []byte) (*bootstrapv3.Bootstrap, error) {
	b, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if probs := CheckWith(b, Options{}); probs != nil {
		return nil, probs
	}
	return b, nil
}

// validateFile is validateCommand reading data as Envoy reads a file of that name.
func validateFile(name string, data []byte) (*bootstrapv3.Bootstrap, error) {
	b, ps := Read(data, FormatOf(name))
	if !ps.HasErrors() {
		ps = CheckWith(b, Options{})
	}
	if ps.HasErrors() {
		return nil, ps.Errors()
	}
	return b, nil
}

// assertProblem checks that err is Problems holding one problem with the path (any path for "*") and a message
// containing msg.
func assertProblem(t *testing.T, err error, path, msg string) {
	t.Helper()
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	for _, p := range ps {
		if (p.Path == path || path == "*") && strings.Contains(p.Message, msg) {
			return
		}
	}
	t.Errorf("no problem at %q containing %q; got:\n%v", path, msg, err)
}
