package logfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7, defect 7: a log file that refuses writes (a full filesystem: /dev/full fails every
// write with ENOSPC) loses no line silently: each goes to stderr, the failure is reported
// there once, the lines are counted, and the file's return is reported with the count.
func TestRefusedWritesGoToTheFallback(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	dir := t.TempDir()
	w, err := Open(dir, "envoy.log", 1<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var stderr bytes.Buffer
	w.SetFallback(&stderr)
	if _, err := w.Write([]byte("before\n")); err != nil {
		t.Fatal(err)
	}
	good := w.f
	w.f = full // the filesystem fills up
	for _, l := range []string{"one\n", "two\n", "three\nfour\n"} {
		if n, err := w.Write([]byte(l)); err != nil || n != len(l) {
			t.Fatalf("Write(%q) = %d, %v; want the line delivered", l, n, err)
		}
	}
	got := stderr.String()
	if strings.Count(got, "cannot write the log file") != 1 || !strings.Contains(got, "no space left on device") ||
		!strings.HasSuffix(got, "one\ntwo\nthree\nfour\n") || w.Lost() != 4 {
		t.Fatalf("stderr %q, lost %d", got, w.Lost())
	}
	w.f = good // space again
	stderr.Reset()
	if _, err := w.Write([]byte("after\n")); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(filepath.Join(dir, "envoy.log"))
	if !strings.Contains(stderr.String(), "can be written again; 4 lines went only to stderr") ||
		!strings.HasPrefix(string(file), "before\n") || !strings.HasSuffix(string(file), "4 lines went only to stderr meanwhile\nafter\n") {
		t.Fatalf("stderr %q, file %q", stderr.String(), file)
	}
	full.Close()
}

// A write that fails part-way leaves a cut line; the next line the file takes starts on a
// line of its own.
func TestCutLineIsEnded(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, "envoy.log", 1<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var stderr bytes.Buffer
	w.SetFallback(&stderr)
	_, _ = w.Write([]byte("par"))
	w.torn, w.failing, w.lost = true, true, 2 // as after a short write
	if _, err := w.Write([]byte("next\n")); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(filepath.Join(dir, "envoy.log"))
	if !strings.HasPrefix(string(file), "par\nappnet-agent: the log file") || !strings.HasSuffix(string(file), "2 lines went only to stderr meanwhile\nnext\n") {
		t.Fatalf("file %q", file)
	}
}
