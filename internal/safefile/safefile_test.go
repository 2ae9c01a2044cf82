package safefile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// secret is a file outside the directory the agent writes in, which a planted link points at.
func secret(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkUntouched(t *testing.T, path string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != "secret\n" {
		t.Fatalf("%s was written through: %q %v", path, b, err)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// noTempLeft fails when a temporary file of Replace is left in dir.
func noTempLeft(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
}

// withTimeout fails the test when fn blocks (a FIFO opened the blocking way).
func withTimeout(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("blocked")
		return nil
	}
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "boot.yaml")
	if err := Replace(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %v, want 0600", st.Mode())
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	if err := Replace(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "two" || after.Mode().Perm() != 0o640 {
		t.Fatalf("got %q mode %v, want \"two\" 0640 (mode kept)", b, after.Mode())
	}
	if os.SameFile(before, after) {
		t.Fatal("replaced in place, want a new file renamed over the old one (atomic)")
	}
	noTempLeft(t, dir)

	// A world-writable file of another owner (planted) does not pass its mode on.
	if os.Geteuid() == 0 {
		if err := os.Chmod(p, 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := Replace(p, []byte("three"), 0o644); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 || st.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Fatalf("mode %v uid %d, want 0644 and root's", st.Mode(), st.Sys().(*syscall.Stat_t).Uid)
		}
	}
}

func TestReplaceRefuses(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, p string) (check func())
		want  error
	}{
		{"symlink to a secret", func(t *testing.T, p string) func() {
			s := secret(t)
			if err := os.Symlink(s, p); err != nil {
				t.Fatal(err)
			}
			return func() {
				checkUntouched(t, s)
				if got, _ := os.Readlink(p); got != s {
					t.Fatalf("the link was replaced: %q", got)
				}
			}
		}, ErrSymlink},
		{"dangling symlink", func(t *testing.T, p string) func() {
			target := filepath.Join(t.TempDir(), "created-by-agent")
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			return func() {
				if _, err := os.Lstat(target); err == nil {
					t.Fatal("the link's target was created")
				}
			}
		}, ErrSymlink},
		{"FIFO", func(t *testing.T, p string) func() {
			mkfifo(t, p)
			return func() {}
		}, ErrNotRegular},
		{"directory", func(t *testing.T, p string) func() {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return func() {}
		}, ErrNotRegular},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "sampling-rules.json")
			check := tc.plant(t, p)
			err := withTimeout(t, func() error { return Replace(p, []byte("{}"), 0o644) })
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("the error %q does not name %s", err, p)
			}
			check()
			noTempLeft(t, dir)
		})
	}
}

func TestOpenAppend(t *testing.T) {
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	f, err := d.OpenAppend("app.log", 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if st, _ := os.Stat(d.Join("app.log")); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640", st.Mode())
	}

	s := secret(t)
	if err := os.Symlink(s, d.Join("link.log")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenAppend("link.log", 0o640); !errors.Is(err, ErrSymlink) {
		t.Fatalf("symlink: %v, want ErrSymlink", err)
	}
	checkUntouched(t, s)

	if err := os.Link(s, d.Join("hard.log")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenAppend("hard.log", 0o640); err == nil || !strings.Contains(err.Error(), "2 hard links") {
		t.Fatalf("hard link: %v, want a refusal", err)
	}
	checkUntouched(t, s)

	mkfifo(t, d.Join("fifo.log"))
	err = withTimeout(t, func() error { _, err := d.OpenAppend("fifo.log", 0o640); return err })
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a FIFO") {
		t.Fatalf("FIFO: %v, want ErrNotRegular naming a FIFO", err)
	}
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "file")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadRegular(p, 5); err != nil || string(b) != "12345" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := ReadRegular(p, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v, want ErrTooLarge", err)
	}
	fifo := filepath.Join(dir, "fifo")
	mkfifo(t, fifo)
	err := withTimeout(t, func() error { _, err := ReadRegular(fifo, 10); return err })
	if !errors.Is(err, ErrNotRegular) || err.Error() != fifo+" is not a regular file (it is a FIFO)" {
		t.Fatalf("FIFO: %v", err)
	}
	if _, err := ReadRegular(dir, 10); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("directory: %v", err)
	}
	if dev := mknodNull(t, dir); dev != "" {
		if _, err := ReadRegular(dev, 10); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "character device") {
			t.Fatalf("device: %v", err)
		}
	}
}

// mknodNull makes a character device like /dev/null in dir (root only; "" otherwise), so no
// test touches the real devices.
func mknodNull(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "null")
	if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Logf("no device node (%v): device cases skipped", err)
		return ""
	}
	return p
}

func TestWriteOutput(t *testing.T) {
	t.Run("- is stdout", func(t *testing.T) {
		var b strings.Builder
		if err := WriteOutput("-", []byte("x"), 0o600, &b); err != nil || b.String() != "x" {
			t.Fatalf("%q %v", b.String(), err)
		}
	})
	t.Run("a missing file is created", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "out.yaml")
		if err := WriteOutput(p, []byte("x"), 0o600, nil); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
			t.Fatalf("%v %v", st, err)
		}
	})
	t.Run("a regular file is replaced atomically", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "out.yaml")
		if err := os.WriteFile(p, []byte("old old old"), 0o644); err != nil {
			t.Fatal(err)
		}
		before, _ := os.Stat(p)
		if err := WriteOutput(p, []byte("new"), 0o600, nil); err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(p)
		if b, _ := os.ReadFile(p); string(b) != "new" || os.SameFile(before, after) || after.Mode().Perm() != 0o644 {
			t.Fatalf("%q same inode %v mode %v", b, os.SameFile(before, after), after.Mode())
		}
	})
	t.Run("a symlink is written through and stays a link", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "target.yaml")
		if err := os.WriteFile(target, []byte("old old old"), 0o640); err != nil {
			t.Fatal(err)
		}
		before, _ := os.Stat(target)
		link := filepath.Join(dir, "link.yaml")
		if err := os.Symlink("target.yaml", link); err != nil {
			t.Fatal(err)
		}
		if err := WriteOutput(link, []byte("new"), 0o600, nil); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
			t.Fatal("the link was replaced by a file")
		}
		after, _ := os.Stat(target)
		if b, _ := os.ReadFile(target); string(b) != "new" || !os.SameFile(before, after) || after.Mode().Perm() != 0o640 {
			t.Fatalf("target %q, same inode %v, mode %v: want written in place", b, os.SameFile(before, after), after.Mode())
		}
	})
	t.Run("a dangling symlink is an error", func(t *testing.T) {
		dir := t.TempDir()
		link := filepath.Join(dir, "link.yaml")
		if err := os.Symlink("missing.yaml", link); err != nil {
			t.Fatal(err)
		}
		if err := WriteOutput(link, []byte("new"), 0o600, nil); !errors.Is(err, ErrSymlink) {
			t.Fatalf("%v, want ErrSymlink", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "missing.yaml")); err == nil {
			t.Fatal("the target was created")
		}
	})
	t.Run("a FIFO is written in place", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "fifo")
		mkfifo(t, p)
		got := make(chan string, 1)
		go func() {
			b, _ := os.ReadFile(p)
			got <- string(b)
		}()
		if err := withTimeout(t, func() error { return WriteOutput(p, []byte("through the pipe"), 0o600, nil) }); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "through the pipe" {
			t.Fatalf("reader got %q", s)
		}
		if st, _ := os.Lstat(p); st.Mode()&fs.ModeNamedPipe == 0 {
			t.Fatalf("the FIFO was replaced: %v", st.Mode())
		}
	})
	t.Run("a device is written in place", func(t *testing.T) {
		dev := mknodNull(t, t.TempDir())
		if dev == "" {
			t.Skip("cannot make a device node")
		}
		if err := WriteOutput(dev, []byte("into the void"), 0o600, nil); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Lstat(dev); st.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("the device was replaced: %v", st.Mode())
		}
	})
	t.Run("a socket or a directory is an error", func(t *testing.T) {
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for _, p := range []string{sock, dir} {
			if err := WriteOutput(p, []byte("x"), 0o600, nil); !errors.Is(err, ErrNotRegular) {
				t.Fatalf("%s: %v, want ErrNotRegular", p, err)
			}
		}
		if st, _ := os.Lstat(sock); st.Mode()&fs.ModeSocket == 0 {
			t.Fatal("the socket was replaced")
		}
	})
}

func TestMkdirTempIsPrivate(t *testing.T) {
	d, err := MkdirTemp(t.TempDir(), "appnet-agent-")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := os.Lstat(d.Path())
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Fatalf("%v %v, want a 0700 directory", st, err)
	}
	if d.Removed() {
		t.Fatal("Removed before removal")
	}
	if err := os.Remove(d.Path()); err != nil {
		t.Fatal(err)
	}
	if !d.Removed() {
		t.Fatal("Removed is false after removal")
	}
}
