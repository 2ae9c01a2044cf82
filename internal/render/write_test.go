package render

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/safefile"
)

// dirNames lists dir, so a test can see leftover temp files (".NAME.tmp-*").
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func checkFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Errorf("%s holds %q, want %q", path, got, content)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode() != mode {
		t.Errorf("%s has mode %v, want %v", path, st.Mode(), mode)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	side := filepath.Join(dir, "sampling-rules.json")
	boot := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(boot, nil, 0o640); err != nil { // the user's empty ENVOY_CONFIG_FILE
		t.Fatal(err)
	}
	res := &Result{Bytes: []byte("node: {}\n"), SideFiles: map[string][]byte{side: []byte(`{"version":2}`)}}
	out, err := Write(res, boot, "")
	if err != nil {
		t.Fatal(err)
	}
	if out.Path != boot {
		t.Errorf("Path %s, want %s", out.Path, boot)
	}
	checkFile(t, boot, "node: {}\n", 0o640)    // an existing file keeps its mode
	checkFile(t, side, `{"version":2}`, 0o644) // read by Envoy, which may run as another user
	if got := dirNames(t, dir); !slices.Equal(got, []string{"envoy.yaml", "sampling-rules.json"}) {
		t.Errorf("directory holds %q", got)
	}

	// An existing ENVOY_CONFIG_FILE used as is is not rewritten; side files still are.
	if err := os.WriteFile(boot, []byte("user's own\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = &Result{Bytes: []byte("user's own\n"), Existing: true, SideFiles: map[string][]byte{side: []byte(`{"version":3}`)}}
	if _, err := Write(res, boot, ""); err != nil {
		t.Fatal(err)
	}
	checkFile(t, boot, "user's own\n", 0o640)
	checkFile(t, side, `{"version":3}`, 0o644)

	// A side file that cannot be written stops before the bootstrap is touched.
	res = &Result{Bytes: []byte("new\n"), SideFiles: map[string][]byte{filepath.Join(dir, "nope", "x.json"): []byte("{}")}}
	if _, err := Write(res, boot, ""); err == nil {
		t.Fatal("want an error for an unwritable side file")
	}
	checkFile(t, boot, "user's own\n", 0o640)
}

func TestWritePrivateDirectory(t *testing.T) {
	tmp := t.TempDir()
	out, err := Write(&Result{Bytes: []byte("node: {}\n")}, "", tmp)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(out.Path)
	if filepath.Dir(dir) != tmp || !strings.HasPrefix(filepath.Base(dir), "appnet-agent-") || filepath.Base(out.Path) != BootstrapName {
		t.Fatalf("bootstrap at %s, want %s/appnet-agent-*/%s", out.Path, tmp, BootstrapName)
	}
	checkFile(t, out.Path, "node: {}\n", 0o600)
	if st, _ := os.Lstat(dir); st.Mode() != fs.ModeDir|0o700 {
		t.Fatalf("%s has mode %v, want a 0700 directory", dir, st.Mode())
	}

	// A failure leaves nothing in TMPDIR.
	tmp2 := t.TempDir()
	res := &Result{Bytes: []byte("x"), SideFiles: map[string][]byte{filepath.Join(tmp2, "missing", "s.json"): nil}}
	if _, err := Write(res, "", tmp2); err == nil {
		t.Fatal("want an error")
	}
	if got := dirNames(t, tmp2); len(got) != 0 {
		t.Fatalf("TMPDIR holds %q after a failure", got)
	}
}

// TestWriteRefusesLinks (issue 16, item 1): a link planted where the agent writes is never
// written through; the error names the variable that chose the path.
func TestWriteRefusesLinks(t *testing.T) {
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret")
	if err := os.WriteFile(secret, nil, 0o600); err != nil { // empty, as ENVOY_CONFIG_FILE must be to be written
		t.Fatal(err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		res        *Result
		configFile string
		want       []string
	}{
		{"ENVOY_CONFIG_FILE", &Result{Bytes: []byte("x")}, link,
			[]string{"ENVOY_CONFIG_FILE: " + link + " is a symbolic link (to " + secret + ")", "followed only to read"}},
		{"side file", &Result{Bytes: []byte("x"), SideFiles: map[string][]byte{link: []byte("{}")}}, "",
			[]string{link + " is a symbolic link", "never writes through a link"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Write(tc.res, tc.configFile, t.TempDir())
			if !errors.Is(err, safefile.ErrSymlink) {
				t.Fatalf("err %v, want a refusal", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if b, _ := os.ReadFile(secret); len(b) != 0 {
				t.Fatalf("the link's target was written: %q", b)
			}
		})
	}
}

// TestRestore (issue 16, item 13): before a restart, what was removed or changed is written
// back from memory, also the agent's private directory; what is intact is left alone.
func TestRestore(t *testing.T) {
	tmp := t.TempDir()
	side := filepath.Join(t.TempDir(), "sampling-rules.json")
	out, err := Write(&Result{Bytes: []byte("node: {}\n"), SideFiles: map[string][]byte{side: []byte("{}")}}, "", tmp)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := out.Restore(); err != nil || len(got) != 0 {
		t.Fatalf("nothing changed: restored %q, %v", got, err)
	}
	if err := os.WriteFile(side, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(out.Path)); err != nil {
		t.Fatal(err)
	}
	got, err := out.Restore()
	if err != nil || !slices.Equal(got, []string{side, out.Path}) {
		t.Fatalf("restored %q, %v; want both files", got, err)
	}
	checkFile(t, out.Path, "node: {}\n", 0o600)
	checkFile(t, side, "{}", 0o644)
	if st, _ := os.Lstat(filepath.Dir(out.Path)); st.Mode() != fs.ModeDir|0o700 {
		t.Fatalf("directory mode %v, want 0700", st.Mode())
	}
}
