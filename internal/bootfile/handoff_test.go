package bootfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTakeOver: the process that takes an Output over holds the same bytes, restores a removed
// file, and refuses a file that changed between writing and taking over.
func TestTakeOver(t *testing.T) {
	tmp := t.TempDir()
	side := filepath.Join(tmp, "side.json")
	owner := func(string) string { return "XRAY_SAMPLING_RATE" }
	for _, configFile := range []string{"", filepath.Join(tmp, "envoy.yaml")} {
		out, err := Write(Input{Bootstrap: []byte("admin: {}\n"), SideFiles: map[string][]byte{side: []byte("{}")}, SideFileOwner: owner}, configFile, tmp)
		if err != nil {
			t.Fatal(err)
		}
		taken, err := TakeOver(out.Handoff())
		if err != nil {
			t.Fatalf("ENVOY_CONFIG_FILE=%q: %v", configFile, err)
		}
		if taken.Path != out.Path {
			t.Errorf("path %s, want %s", taken.Path, out.Path)
		}
		if err := os.Remove(taken.Path); err != nil {
			t.Fatal(err)
		}
		if restored, err := taken.Restore(); err != nil || len(restored) != 1 || restored[0] != out.Path {
			t.Errorf("Restore = %v, %v; want the bootstrap put back", restored, err)
		}
		if got, _ := os.ReadFile(out.Path); string(got) != "admin: {}\n" {
			t.Errorf("restored bootstrap %q", got)
		}
		if err := os.WriteFile(side, []byte(`{"x":1}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := TakeOver(out.Handoff()); err == nil || !strings.Contains(err.Error(), "XRAY_SAMPLING_RATE: "+side+" changed between writing it and starting Envoy") {
			t.Errorf("a changed side file: error %v", err)
		}
		taken.Discard()
		out.Discard()
	}
}
