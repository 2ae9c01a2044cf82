package validate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// envoyInconclusive matches what Envoy reports when a file the configuration names (a certificate, an SDS or xDS
// file, a runtime directory) is missing on this machine: then its verdict says nothing about the configuration.
var envoyInconclusive = regexp.MustCompile(`(?i)no such file|does not exist|invalid path|unable to read|failed to load|cannot open|not found in the system|paths must refer to an existing path`)

// TestEnvoyAgrees runs `envoy --mode validate` on every golden and corpus file (the real-bootstrap corpus, the
// conformance cases, the Envoy CI corpus, the accepted and mistake corpora) and fails where Envoy and the
// validator disagree (a file Envoy cannot judge because a referenced file is missing here is skipped). The
// validator reads each file as Envoy does, by its name. It needs an Envoy binary:
// APPNET_TEST_ENVOY=/path/to/envoy go test ./internal/validate/ -run TestEnvoyAgrees
func TestEnvoyAgrees(t *testing.T) {
	envoy := os.Getenv("APPNET_TEST_ENVOY")
	if envoy == "" {
		t.Skip("set APPNET_TEST_ENVOY=/path/to/envoy to compare the validator with envoy --mode validate")
	}
	if out, err := exec.Command(envoy, "--version").CombinedOutput(); err != nil {
		t.Fatalf("APPNET_TEST_ENVOY=%s does not run (%v): %s", envoy, err, lastLines(out))
	}
	var files []string
	patterns := []string{"testdata/*.yaml", "testdata/accepted/*.*", "testdata/mistakes/*.yaml", "testdata/envoy-ci/*.y*ml",
		"../../golden/*.json", "../../golden/cases/*.yaml", "../../examples/platform-team/cases/*.yaml"}
	patterns = append(patterns, testenv.Testdata("conformance", "cases", "*.yaml")) // the conformance goldens (expected bootstraps)
	for _, pattern := range patterns {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	m, _ := filepath.Glob(testenv.Testdata("bootstrap-real", "*.*"))
	for _, f := range m {
		if !strings.HasSuffix(f, ".md") {
			files = append(files, f)
		}
	}
	sem := make(chan struct{}, 2) // the machines running this have two cores
	var mu sync.Mutex
	agree := 0
	t.Run("files", func(t *testing.T) {
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				_, ourErr := validateFile(f, data)
				abs, _ := filepath.Abs(f)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				// The node flags stand in for what the validate command only warns about.
				out, envoyErr := exec.CommandContext(ctx, envoy, "--mode", "validate", "-c", abs, "--disable-hot-restart",
					"--service-node", "validate-node", "--service-cluster", "validate-cluster", "-l", "error").CombinedOutput()
				switch {
				case (ourErr == nil) == (envoyErr == nil):
					mu.Lock()
					agree++
					mu.Unlock()
				case envoyErr != nil && envoyInconclusive.Match(out):
					t.Skipf("Envoy cannot judge it here (a referenced file is missing): %s", lastLines(out))
				case ourErr == nil:
					t.Errorf("the validator accepts it, Envoy rejects it:\n%s", lastLines(out))
				default:
					t.Errorf("Envoy accepts it, the validator rejects it:\n%v", ourErr)
				}
			})
		}
	})
	t.Logf("%d of %d files: same verdict", agree, len(files))
}

func lastLines(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	return strings.Join(lines, "\n")
}
