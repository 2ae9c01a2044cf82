package agentrun

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestLinkGuards keeps what issue 19 took out of the binaries out: the lean entry point links
// no admin API (config dumps), the long-lived
// appnet-agent-supervisor links no go-control-plane package (its memory is the point: 10 MiB
// against 33), and neither binary links go-cmp (0.5 ms of package initialisation in every
// process; it is a test-only dependency). A failure names the package that brings the module
// in, so a change to internal/agentrun, api, supervise, envoyadmin, logging, logfile, env or
// bootfile that imports render, validate or an Envoy API package is caught at merge time.
func TestLinkGuards(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	tests := []struct {
		main, module, why string
		tags              string // build tags of the binary: appnet_lean for the entry point appnet-agent
	}{
		{"./cmd/appnet-agent-supervisor", "github.com/envoyproxy/", "the long-lived process must not hold the Envoy API; keep it in appnet-agent (before the hand-over) and pass plain data in agentrun.State", ""},
		{"./cmd/appnet-agent-supervisor", "github.com/google/go-cmp", "go-cmp is test-only", ""},
		{".", "github.com/google/go-cmp", "go-cmp is test-only (golden uses internal/golden/protodiff.go)", ""},
		{".", "github.com/google/go-cmp", "go-cmp is test-only", "appnet_lean"},
		{".", "github.com/envoyproxy/go-control-plane/envoy/admin/", "the lean entry point redacts config dumps through appnet-agent-full (cli/configdump_lean.go): the admin API's packages would delay every start", "appnet_lean"},
		{".", "github.com/appnet/appnet-agent/internal/golden", "golden is appnet-agent-full's command (internal/dispatch; cli/golden_lean.go): the lean entry point links only what a start needs", "appnet_lean"},
		{".", "encoding/xml", "only golden's JUnit report writes XML, and golden is appnet-agent-full's", "appnet_lean"},
	}
	for _, tt := range tests {
		t.Run(tt.main+" "+tt.tags+" "+tt.module, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-tags="+tt.tags, "-deps", "-f", "{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}", tt.main)
			cmd.Dir = testenv.RepoRoot()
			cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			// The shortest import chain from the main package into the module names the change.
			imports := map[string][]string{}
			var root string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				pkg, deps, _ := strings.Cut(line, ":")
				imports[pkg] = strings.Fields(deps)
				root = pkg // go list -deps prints the main package last
			}
			if chain := testenv.ImportChain(imports, root, func(pkg string) bool { return strings.HasPrefix(pkg, tt.module) }); chain != nil {
				t.Errorf("%s links %s (%s):\n  %s", tt.main, tt.module, tt.why, strings.Join(chain, "\n  → "))
			}
		})
	}
}
