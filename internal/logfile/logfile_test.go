package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere

	"go.uber.org/goleak"

	"github.com/appnet/appnet-agent/internal/env"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("%s ends with a partial line", path)
	}
	return strings.Split(string(b[:len(b)-1]), "\n")
}

// allLines returns the lines of NAME.keep … NAME.1, NAME in write order, and the number of
// rotated files found.
func allLines(t *testing.T, w *Writer, keep int) ([]string, int) {
	t.Helper()
	var out []string
	files := 0
	for k := keep; k >= 1; k-- {
		if _, err := os.Stat(w.rotatedPath(k)); err != nil {
			continue
		}
		files++
		out = append(out, readLines(t, w.rotatedPath(k))...)
	}
	return append(out, readLines(t, w.path)...), files
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, name string
		max       int64
		keep      int
		want      string
	}{
		{filepath.Join(dir, "missing"), "x.log", 10, 1, "does not exist"},
		{file, "x.log", 10, 1, "is not a directory"},
		{dir, "../x.log", 10, 1, "plain file name"},
		{dir, "", 10, 1, "plain file name"},
		{dir, "x.log", 0, 1, "must be positive"},
		{dir, "x.log", 10, 0, "retention"},
		{"", "x.log", 10, 1, "empty"},
	} {
		if _, err := Open(tc.dir, tc.name, tc.max, tc.keep); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %q, %d, %d) = %v, want %q", tc.dir, tc.name, tc.max, tc.keep, err, tc.want)
		}
	}
}

func TestFromConfig(t *testing.T) {
	if w, err := FromConfig(env.Logging{}); w != nil || err != nil {
		t.Fatalf("no destination: %v, %v", w, err)
	}
	_, err := FromConfig(env.Logging{Destination: "/nonexistent/dir", Name: "a.log", MaxSizeMB: 1, MaxFiles: 5})
	if err == nil || !strings.HasPrefix(err.Error(), "APPNET_ENVOY_LOG_DESTINATION: ") {
		t.Fatalf("err = %v", err)
	}
	dir := t.TempDir()
	w, err := FromConfig(env.Logging{Destination: dir, Name: "a.log", MaxSizeMB: 0.001, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.max != 1048 || w.keep != 2 || w.Path() != filepath.Join(dir, "a.log") {
		t.Errorf("max %d keep %d path %s", w.max, w.keep, w.Path())
	}
}

func TestAppendsToExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	if err := os.WriteFile(path, []byte("from the last run\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(dir, "a.log", 1<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("new line\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); len(got) != 2 || got[0] != "from the last run" || got[1] != "new line" {
		t.Errorf("lines = %q", got)
	}
	if _, err := w.Write([]byte("x\n")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func TestRotationKeepsNewestTail(t *testing.T) {
	dir := t.TempDir()
	const keep, maxBytes, n = 3, 100, 1000
	w, err := Open(dir, "a.log", maxBytes, keep)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := fmt.Fprintf(w, "line %04d\n", i); err != nil {
			t.Fatal(err)
		}
	}
	defer w.Close()
	lines, files := allLines(t, w, keep+2)
	if files != keep {
		t.Fatalf("%d rotated files, want %d", files, keep)
	}
	// The retained lines are exactly the newest ones, in order.
	first := n - len(lines)
	for i, l := range lines {
		if want := fmt.Sprintf("line %04d", first+i); l != want {
			t.Fatalf("line %d = %q, want %q", i, l, want)
		}
	}
	for _, p := range []string{w.path, w.rotatedPath(1), w.rotatedPath(2), w.rotatedPath(3)} {
		if st, _ := os.Stat(p); st.Size() > maxBytes {
			t.Errorf("%s is %d bytes, over the %d limit", p, st.Size(), maxBytes)
		}
	}
	if len(lines) < keep*maxBytes/10 {
		t.Errorf("only %d lines retained", len(lines))
	}
}

// TestConcurrentBurstLosesNothing writes from many goroutines through hundreds of rotations
// and finds every line exactly once, whole.
func TestConcurrentBurstLosesNothing(t *testing.T) {
	dir := t.TempDir()
	const writers, per = 8, 2500
	w, err := Open(dir, "burst.log", 4096, MaxKeep)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				line := fmt.Sprintf("writer %d seq %d %s\n", g, i, strings.Repeat("x", i%40))
				if _, err := w.Write([]byte(line)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	defer w.Close()
	lines, files := allLines(t, w, MaxKeep)
	if files < 100 {
		t.Fatalf("only %d rotations; the test needs many", files)
	}
	next := make([]int, writers)
	for _, l := range lines {
		f := strings.Split(l, " ")
		if len(f) != 5 || f[0] != "writer" || f[2] != "seq" {
			t.Fatalf("torn line %q", l)
		}
		g, err1 := strconv.Atoi(f[1])
		i, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || g < 0 || g >= writers || f[4] != strings.Repeat("x", i%40) {
			t.Fatalf("torn line %q", l)
		}
		if i != next[g] {
			t.Fatalf("writer %d: got seq %d, want %d (lost or duplicated)", g, i, next[g])
		}
		next[g]++
	}
	for g, n := range next {
		if n != per {
			t.Errorf("writer %d: %d lines found, want %d", g, n, per)
		}
	}
	t.Logf("%d lines over %d rotated files", len(lines), files)
}

func TestOversizedLineIsWrittenWhole(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, "a.log", 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := strings.Repeat("b", 50)
	for _, l := range []string{"small", big, "after"} {
		if _, err := w.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	lines, _ := allLines(t, w, 2)
	if strings.Join(lines, ",") != "small,"+big+",after" {
		t.Errorf("lines = %q", lines)
	}
	if got := readLines(t, w.rotatedPath(1)); len(got) != 1 || got[0] != big {
		t.Errorf("%s = %q", w.rotatedPath(1), got)
	}
}

func TestStaleRotatedFilesAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	names := []string{"a.log.1", "a.log.2", "a.log.3", "a.log.7", "a.log.01", "a.log.old", "a.log.1764107359", "other.1"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := Open(dir, "a.log", 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("first\n"))
	_, _ = w.Write([]byte("second\n")) // rotates: first → a.log.1, old a.log.1 → a.log.2
	w.Close()
	for n, want := range map[string]string{
		"a.log.1": "first", "a.log.2": "a.log.1", "a.log.3": "", "a.log.7": "",
		"a.log.01": "a.log.01", "a.log.old": "a.log.old", "a.log.1764107359": "a.log.1764107359", "other.1": "other.1",
	} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		switch {
		case want == "" && err == nil:
			t.Errorf("%s should have been removed", n)
		case want != "" && strings.TrimSpace(string(b)) != want:
			t.Errorf("%s = %q (%v), want %q", n, b, err, want)
		}
	}
}
