package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestVersion: the binary's version (and --version) names the go-control-plane module go.mod
// requires and the Envoy API that module carries (v1.40.0: Envoy 1.40).
func TestVersion(t *testing.T) {
	t.Parallel()
	// The module version go.mod requires (a test binary carries no module versions itself).
	var module string
	for _, line := range strings.Split(readFile(t, filepath.Join(testenv.RepoRoot(), "go.mod")), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/envoyproxy/go-control-plane/envoy" {
			module = f[1]
		}
	}
	if module == "" {
		t.Fatal("go.mod does not require github.com/envoyproxy/go-control-plane/envoy")
	}
	minor := strings.Join(strings.SplitN(strings.TrimPrefix(module, "v"), ".", 3)[:2], ".")
	for _, arg := range []string{"version", "--version"} {
		r := runCommand(t, t.TempDir(), nil, arg).mustSucceed(t, arg)
		for _, want := range []string{"appnet-agent ", "\ncommit: ", "\ngo: go",
			"\ngo-control-plane: github.com/envoyproxy/go-control-plane/envoy " + module + "\n", "\nenvoy API: Envoy " + minor + "\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s lacks %q:\n%s", arg, want, r.stdout)
			}
		}
	}
}
