package conformance

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureSymlinks are the links the corpus relies on (m63). A checkout or copy
// that does not keep symlinks turns them into regular files holding the
// target's name; copyFixtures turns those back into links.
var fixtureSymlinks = map[string]string{"user-envoy-link.yaml": "user-envoy.yaml"}

// fixtureModes are modes the README specifies but git cannot store (m64's
// 0640 file, whose mode the binary must keep).
var fixtureModes = map[string]fs.FileMode{"empty-config.yaml": 0o640}

// copyFixtures copies src to dst with `cp -a` semantics (symlinks kept as
// links, file modes kept), then applies the README's link and mode facts.
// Directories are made owner-writable so the binary can write beside an
// ENVOY_CONFIG_FILE (atomic rename) and t.TempDir can clean up.
func copyFixtures(src, dst string) error {
	if err := copyTree(src, dst); err != nil {
		return err
	}
	for name, target := range fixtureSymlinks {
		if err := restoreSymlink(filepath.Join(dst, name), target); err != nil {
			return err
		}
	}
	for name, mode := range fixtureModes {
		if err := os.Chmod(filepath.Join(dst, name), mode); err != nil {
			return err
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			return os.MkdirAll(to, mode.Perm()|0o700)
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case mode.IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.WriteFile(to, data, mode.Perm()); err != nil {
				return err
			}
			return os.Chmod(to, mode.Perm()) // WriteFile's mode is subject to umask
		default:
			return fmt.Errorf("%s: unsupported file type %v", path, mode.Type())
		}
	})
}

// restoreSymlink makes path a symlink to target. A flattened link (a regular
// file whose whole content is the target name) is replaced; anything else
// means the corpus changed and must not be papered over.
func restoreSymlink(path, target string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() || strings.TrimSpace(string(data)) != target {
		return fmt.Errorf("%s: want a symlink to %s (or its flattened form), got %v %q", path, target, info.Mode(), data)
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	return os.Symlink(target, path)
}

// writeEnvoyStub writes an executable imitating `envoy --version` with the
// given output. It is written once per run, before any case starts: exec'ing
// a file that a concurrently forked process may still hold open for writing
// fails with ETXTBSY. The text is embedded (not read via cat) so the stub
// works whatever PATH the binary gives it.
func writeEnvoyStub(path string, version []byte) error {
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = \"--version\" ]; then\n" +
		"  printf '%s' " + shellQuote(string(version)) + "\n" +
		"  exit 0\n" +
		"fi\n" +
		"echo \"envoy stub: only --version is supported\" >&2\n" +
		"exit 1\n"
	return os.WriteFile(path, []byte(script), 0o755)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func TestCopyFixtures(t *testing.T) {
	src := t.TempDir()
	mustWrite := func(rel, content string, mode fs.FileMode) {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite("user-envoy.yaml", "node: {}\n", 0o444)
	mustWrite("user-envoy-link.yaml", "user-envoy.yaml", 0o444) // flattened link
	mustWrite("empty-config.yaml", "", 0o444)
	mustWrite("sub/exec.sh", "x", 0o751)
	if err := os.Symlink("sub/exec.sh", filepath.Join(src, "other-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "sub"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(src, "sub"), 0o755) })

	dst := filepath.Join(t.TempDir(), "fixtures")
	if err := copyFixtures(src, dst); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rel, link string
		mode      fs.FileMode
	}{
		{rel: "user-envoy.yaml", mode: 0o444},
		{rel: "empty-config.yaml", mode: 0o640},
		{rel: "sub/exec.sh", mode: 0o751},
		{rel: "user-envoy-link.yaml", link: "user-envoy.yaml"},
		{rel: "other-link", link: "sub/exec.sh"},
	} {
		info, err := os.Lstat(filepath.Join(dst, tt.rel))
		if err != nil {
			t.Fatal(err)
		}
		if tt.link != "" {
			got, err := os.Readlink(filepath.Join(dst, tt.rel))
			if err != nil || got != tt.link {
				t.Errorf("%s: link = %q, %v; want %q", tt.rel, got, err, tt.link)
			}
			continue
		}
		if info.Mode() != tt.mode {
			t.Errorf("%s: mode = %v, want %v", tt.rel, info.Mode(), tt.mode)
		}
	}
	if info, err := os.Stat(filepath.Join(dst, "sub")); err != nil || info.Mode().Perm()&0o700 != 0o700 {
		t.Errorf("sub: want an owner-writable directory, got %v, %v", info, err)
	}
}

func TestRestoreSymlinkRejectsOtherContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "link.yaml")
	if err := os.WriteFile(p, []byte("node: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := restoreSymlink(p, "user-envoy.yaml"); err == nil {
		t.Fatal("want an error for a regular file that is not a flattened link")
	}
}

func TestEnvoyStub(t *testing.T) {
	p := filepath.Join(t.TempDir(), "envoy")
	version := []byte("envoy  version: abc/1.29.0/Clean/RELEASE/BoringSSL 'q' $HOME `x`\n")
	if err := writeEnvoyStub(p, version); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p, "--version").Output()
	if err != nil || !bytes.Equal(out, version) {
		t.Errorf("--version = %q, %v; want %q", out, err, version)
	}
	if err := exec.Command(p, "-c", "x.yaml").Run(); err == nil {
		t.Error("want a failure for anything but --version")
	}
}
