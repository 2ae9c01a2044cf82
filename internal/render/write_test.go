package render

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
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
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != mode {
		t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), mode)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	t.Run("new file gets the new mode", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "envoy.yaml")
		if err := WriteFileAtomic(p, []byte("a: 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		checkFile(t, p, "a: 1\n", 0o600)
		if got := dirNames(t, dir); !slices.Equal(got, []string{"envoy.yaml"}) {
			t.Errorf("directory holds %q, want only envoy.yaml", got)
		}
	})

	t.Run("existing file keeps its mode", func(t *testing.T) {
		// An operator's 0640 (group-readable for a log shipper) must survive a
		// restart, and umask must not matter.
		dir := t.TempDir()
		p := filepath.Join(dir, "envoy.yaml")
		if err := os.WriteFile(p, []byte("old, and longer than the new content\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := WriteFileAtomic(p, []byte("new\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		checkFile(t, p, "new\n", 0o640)
		if got := dirNames(t, dir); !slices.Equal(got, []string{"envoy.yaml"}) {
			t.Errorf("directory holds %q, want only envoy.yaml", got)
		}
	})

	t.Run("symlink target is replaced through the link", func(t *testing.T) {
		// A Kubernetes ConfigMap mount: the path is a link into a data directory.
		dir := t.TempDir()
		data := filepath.Join(dir, "..data")
		if err := os.Mkdir(data, 0o755); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(data, "envoy.yaml")
		if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "envoy.yaml")
		if err := os.Symlink(filepath.Join("..data", "envoy.yaml"), link); err != nil {
			t.Fatal(err)
		}
		if err := WriteFileAtomic(link, []byte("new\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := os.Lstat(link)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a symlink (%v)", link, st.Mode())
		}
		checkFile(t, target, "new\n", 0o644)
		if got := dirNames(t, data); !slices.Equal(got, []string{"envoy.yaml"}) {
			t.Errorf("data directory holds %q, want only envoy.yaml", got)
		}
		if got := dirNames(t, dir); !slices.Equal(got, []string{"..data", "envoy.yaml"}) {
			t.Errorf("link directory holds %q", got)
		}
	})

	t.Run("unwritable directory leaves nothing", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into 0500 directories; the rename-failure case covers cleanup")
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		if err := WriteFileAtomic(filepath.Join(dir, "envoy.yaml"), []byte("x"), 0o600); err == nil {
			t.Fatal("want an error")
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("directory holds %q after a failure", got)
		}
	})

	t.Run("failed rename leaves no temp file", func(t *testing.T) {
		// The temp file is written and synced, then the rename fails because
		// the target is a non-empty directory: the temp file must go.
		dir := t.TempDir()
		p := filepath.Join(dir, "envoy.yaml")
		if err := os.MkdirAll(filepath.Join(p, "inside"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteFileAtomic(p, []byte("x"), 0o600); err == nil {
			t.Fatal("want an error")
		}
		if got := dirNames(t, dir); !slices.Equal(got, []string{"envoy.yaml"}) {
			t.Errorf("directory holds %q after a failed rename, want only envoy.yaml", got)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := WriteFileAtomic(filepath.Join(dir, "nope", "envoy.yaml"), []byte("x"), 0o600); err == nil {
			t.Fatal("want an error")
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("directory holds %q after a failure", got)
		}
	})
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	side := filepath.Join(dir, "sampling-rules.json")
	boot := filepath.Join(dir, "envoy.yaml")
	res := &Result{Bytes: []byte("node: {}\n"), SideFiles: map[string][]byte{side: []byte(`{"version":2}`)}}
	if err := Write(res, boot); err != nil {
		t.Fatal(err)
	}
	checkFile(t, boot, "node: {}\n", 0o600)
	checkFile(t, side, `{"version":2}`, 0o644) // read by Envoy, which may run as another user
	if got := dirNames(t, dir); !slices.Equal(got, []string{"envoy.yaml", "sampling-rules.json"}) {
		t.Errorf("directory holds %q", got)
	}

	// An existing ENVOY_CONFIG_FILE used as is is not rewritten; side files still are.
	if err := os.WriteFile(boot, []byte("user's own\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(boot, 0o644); err != nil { // WriteFile keeps an existing file's mode
		t.Fatal(err)
	}
	res = &Result{Bytes: []byte("user's own\n"), Existing: true, SideFiles: map[string][]byte{side: []byte(`{"version":3}`)}}
	if err := Write(res, boot); err != nil {
		t.Fatal(err)
	}
	checkFile(t, boot, "user's own\n", 0o644)
	checkFile(t, side, `{"version":3}`, 0o644)

	// A side file that cannot be written stops before the bootstrap is touched.
	res = &Result{Bytes: []byte("new\n"), SideFiles: map[string][]byte{filepath.Join(dir, "nope", "x.json"): []byte("{}")}}
	if err := Write(res, boot); err == nil {
		t.Fatal("want an error for an unwritable side file")
	}
	checkFile(t, boot, "user's own\n", 0o644)
}
