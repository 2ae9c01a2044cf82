package testenv

import (
	"os/exec"
	"strings"
	"testing"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
)

// TestNotImportedByProductionCode: only _test.go files may import this package or a package
// below it; the one exception is envoy-standin, itself a test program, which writes its
// record file with record.Event.
func TestNotImportedByProductionCode(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...")
	cmd.Dir = RepoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const (
		self    = "github.com/appnet/appnet-agent/internal/testenv"
		standin = "github.com/appnet/appnet-agent/internal/envoystandin"
	)
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := fields[0]
		if pkg == self || strings.HasPrefix(pkg, self+"/") {
			continue
		}
		for _, imp := range fields[1:] {
			if imp != self && !strings.HasPrefix(imp, self+"/") {
				continue
			}
			if pkg == standin && imp == self+"/record" {
				continue
			}
			t.Errorf("%s imports %s outside its tests", pkg, imp)
		}
	}
}

// TestFreePortNeverRepeats: ports FreePort returns in one process all differ; the kernel alone repeats one within
// a few hundred draws (a birthday among ~14,000 ports of one parity), which once gave an agent's API and an Envoy
// listener of the same test the same port.
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 300 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
	}
}
