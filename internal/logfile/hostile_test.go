package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/safefile"
)

// Issue 16: what someone else does to the log directory while the agent runs, or before.

func openWithStderr(t *testing.T, dir string, maxBytes int64, keep int) (*Writer, *bytes.Buffer) {
	t.Helper()
	w, err := Open(dir, "a.log", maxBytes, keep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	var stderr bytes.Buffer
	w.SetFallback(&stderr)
	return w, &stderr
}

func writeLines(t *testing.T, w *Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := fmt.Fprintf(w, "line %04d\n", i); err != nil {
			t.Fatal(err)
		}
	}
}

// seen counts "line NNNN" lines across texts; every line of [0, n) must be there exactly once.
func checkEveryLineOnce(t *testing.T, n int, texts ...string) {
	t.Helper()
	count := make([]int, n)
	for _, text := range texts {
		for _, l := range strings.Split(text, "\n") {
			var i int
			if _, err := fmt.Sscanf(l, "line %04d", &i); err == nil && i < n {
				count[i]++
			}
		}
	}
	for i, c := range count {
		if c != 1 {
			t.Fatalf("line %d seen %d times, want once", i, c)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// Item 10: a directory at NAME.2 blocks one step of the rotation. The live file keeps its
// limit, the obstacle is reported once (not per rotation), it is left alone, and NAME.1 is
// replaced by newer lines instead.
func TestRotationObstacleIsReportedOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a.log.2", "keep-me"), 0o755); err != nil {
		t.Fatal(err)
	}
	const maxBytes = 100
	w, stderr := openWithStderr(t, dir, maxBytes, 3)
	writeLines(t, w, 0, 500)
	if n := strings.Count(stderr.String(), "cannot rotate the log file to "+filepath.Join(dir, "a.log.2")); n != 1 {
		t.Fatalf("the obstacle is reported %d times, want once; stderr:\n%s", n, stderr.String())
	}
	if !strings.Contains(stderr.String(), "is a directory") {
		t.Fatalf("the report lacks the reason: %s", stderr.String())
	}
	for _, p := range []string{w.path, w.rotatedPath(1)} {
		if s := fileSize(t, p); s > maxBytes+200 { // + the one-off notice line
			t.Fatalf("%s is %d bytes, over its limit", p, s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a.log.2", "keep-me")); err != nil {
		t.Fatal("the obstacle was touched")
	}
	if strings.Contains(stderr.String(), "cannot write the log file") || w.Lost() != 0 {
		t.Fatalf("lines were diverted, but the live file could rotate: %s", stderr.String())
	}
}

// Item 10: when the live file itself cannot be rotated (a directory at NAME.1), it does not
// grow past its limit: lines go to stderr, reported once, counted, none lost; once the
// obstacle is gone, rotation resumes within a limit's worth of lines and the file says how
// many lines it missed.
func TestBlockedRotationKeepsTheLimit(t *testing.T) {
	dir := t.TempDir()
	obstacle := filepath.Join(dir, "a.log.1")
	if err := os.Mkdir(obstacle, 0o755); err != nil {
		t.Fatal(err)
	}
	const maxBytes = 100
	w, stderr := openWithStderr(t, dir, maxBytes, 10)
	writeLines(t, w, 0, 200)
	if s := fileSize(t, w.path); s > maxBytes {
		t.Fatalf("the live file grew to %d bytes past its %d limit", s, maxBytes)
	}
	report := "cannot write the log file " + w.path + ": it reached its size limit (APPNET_AGENT_MAX_LOG_FILE_SIZE) and cannot be rotated"
	if n := strings.Count(stderr.String(), report); n != 1 || strings.Contains(stderr.String(), "line kept") {
		t.Fatalf("report seen %d times, want once and clear:\n%s", n, stderr.String())
	}
	if err := os.Remove(obstacle); err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, 200, 230) // 300 bytes: past a limit's worth, rotation is tried again
	files, n := allLines(t, w, 10)
	all := strings.Join(files, "\n")
	if n < 2 || !strings.Contains(all, "can be written again; 190 lines went only to stderr meanwhile") {
		t.Fatalf("rotation did not resume (%d rotated files): %q", n, all)
	}
	checkEveryLineOnce(t, 230, all, stderr.String())
}

// Item 9: the log directory removed while the agent runs. A line after the next check makes it
// again (with its mode) and a new file, the agent says so, and the lines written to the removed
// file since the last check are copied into the new one: none is lost.
func TestRemovedLogDirectoryIsMadeAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	w, stderr := openWithStderr(t, dir, 1<<20, 3)
	writeLines(t, w, 0, 10)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, 10, 20) // into the removed file, until the next check
	time.Sleep(removalCheckPeriod + 10*time.Millisecond)
	writeLines(t, w, 20, 21)
	if st, err := os.Stat(dir); err != nil || st.Mode() != fs.ModeDir|0o750 {
		t.Fatalf("directory not made again as it was: %v %v", st, err)
	}
	live, _ := os.ReadFile(w.path)
	got := string(live)
	if i := strings.Index(got, "line 0010\n"); i < 0 {
		t.Fatalf("the lines written after the removal are lost: %q", got)
	} else {
		checkEveryLineOnce(t, 21, "line 0000\nline 0001\nline 0002\nline 0003\nline 0004\nline 0005\nline 0006\nline 0007\nline 0008\nline 0009\n", got[i:])
	}
	if !strings.Contains(stderr.String(), "the log directory "+dir+" was removed while the agent ran; writing to a new "+w.path) {
		t.Fatalf("stderr does not say what happened: %q", stderr.String())
	}

	// Only the file removed: a new file, no directory made; Close copies what the removed
	// file took since the last check.
	if err := os.Remove(w.path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(removalCheckPeriod + 10*time.Millisecond)
	writeLines(t, w, 21, 22)
	if err := os.Remove(w.path); err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, 22, 23)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if live, _ := os.ReadFile(w.path); !strings.HasSuffix(string(live), "line 0022\n") ||
		!strings.Contains(stderr.String(), "the log file "+w.path+" was removed while the agent ran") {
		t.Fatalf("file %q, stderr %q", live, stderr.String())
	}
}

// Item 9: when the directory cannot be made again (its parent is gone too), the lines go to
// stderr with one report, and the file comes back once it can.
func TestRemovedLogDirectoryFallsBackToStderr(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "parent")
	dir := filepath.Join(parent, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, stderr := openWithStderr(t, dir, 1<<20, 3)
	if err := os.RemoveAll(parent); err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, 0, 5)
	if n := strings.Count(stderr.String(), "cannot write the log file "+w.path+": its directory was removed and cannot be made again"); n != 1 {
		t.Fatalf("report seen %d times:\n%s", n, stderr.String())
	}
	checkEveryLineOnce(t, 5, stderr.String())
	if w.Lost() != 5 {
		t.Fatalf("Lost %d, want 5", w.Lost())
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	w.retryAt = w.retryAt.Add(-2e9) // as after a second
	writeLines(t, w, 5, 6)
	if live, _ := os.ReadFile(w.path); !strings.HasSuffix(string(live), "5 lines went only to stderr meanwhile\nline 0005\n") {
		t.Fatalf("file %q", live)
	}
}

// Item 1: the log file is created 0640 and never through a link; a link planted at a rotated
// name is replaced by the rotation, its target untouched.
func TestLogFileLinks(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret")
	if err := os.WriteFile(secret, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(dir, "a.log")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, "a.log", 100, 2); !errors.Is(err, safefile.ErrSymlink) {
		t.Fatalf("Open through a link: %v, want a refusal", err)
	}
	if err := os.Remove(filepath.Join(dir, "a.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "a.log.1")); err != nil {
		t.Fatal(err)
	}
	w, _ := openWithStderr(t, dir, 100, 2)
	if st, _ := os.Stat(w.path); st.Mode().Perm() != 0o640 {
		t.Fatalf("new log file mode %v, want 0640", st.Mode())
	}
	writeLines(t, w, 0, 30)
	if b, _ := os.ReadFile(secret); string(b) != "secret\n" {
		t.Fatalf("the link's target was written: %q", b)
	}
	for _, p := range []string{w.path, w.rotatedPath(1), w.rotatedPath(2)} {
		if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
			t.Fatalf("%s: %v %v, want a regular file", p, st, err)
		}
	}
}
