package bootfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTakeOver: the process that takes an Output over holds the same bytes and restores a
// removed or changed file, also when the private directory was removed before the take-over.
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
		if restored, err := taken.Restore(); err != nil || len(restored) != 1 || restored[0] != side {
			t.Errorf("Restore = %v, %v; want the changed side file put back", restored, err)
		}
		if configFile == "" { // the private directory removed before the take-over
			out2, err := Write(Input{Bootstrap: []byte("admin: {}\n"), SideFileOwner: owner}, "", tmp)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Dir(out2.Path)); err != nil {
				t.Fatal(err)
			}
			taken2, err := TakeOver(out2.Handoff())
			if err != nil {
				t.Fatalf("a removed private directory: %v", err)
			}
			if restored, err := taken2.Restore(); err != nil || len(restored) != 1 {
				t.Errorf("Restore = %v, %v; want the bootstrap put back", restored, err)
			}
			taken2.Discard()
		}
		taken.Discard()
		out.Discard()
	}
}
