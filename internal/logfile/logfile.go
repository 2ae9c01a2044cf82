// Package logfile is the log file of R7: Envoy's output and the agent's own log lines, appended
// to DIR/NAME and rotated by size, keeping at most N rotated files.
//
// Rotated files are numbered like logrotate's: NAME.1 is the newest, NAME.N the oldest. A
// rotation renames NAME.k to NAME.k+1 (from the oldest down, NAME.N being replaced), renames
// NAME to NAME.1 and opens a new NAME. Renaming rather than copy-and-truncate means nothing
// written is ever lost, and the agent is the only writer (Envoy's output reaches the file
// through the agent's pipes), so nobody keeps writing to a renamed file.
//
// Every Write goes whole into one file: callers write whole lines (the supervisor reads Envoy's
// pipes line by line; the agent's logger writes one line per call), so no line is split across
// files. A file is rotated before a write that would take it past the size limit, so files stay
// within the limit unless a single line is larger than it; such a line is written whole to a
// fresh file.
//
// Files are created 0640 (before the umask) and never through a symbolic link: the directory is
// opened once and every file in it is opened, renamed and removed relative to it with
// internal/safefile (a link, a FIFO or a file with extra hard links at NAME is refused).
//
// Why not gopkg.in/natefinch/lumberjack.v2: its size limit is whole megabytes (the agent
// accepts 0.001 MiB), it refuses a write larger than the limit (losing the line), it names
// backups by timestamp, and its cleanup goroutine outlives Close.
//
// Why this package is shaped as it is: docs/DESIGN.md.
package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/safefile"
)

// MaxKeep is the largest retention count (APPNET_AGENT_MAX_RETENTION_COUNT's maximum). Files
// named NAME.K with 1 ≤ K ≤ MaxKeep are this package's; other NAME.* files are never touched.
const MaxKeep = 1000

// fileMode is a new log file's mode before the umask: logs may carry request data, so they are
// never world-readable; the group may read them (a log shipper).
const fileMode = 0o640

// Writer appends to the log file and rotates it. It is safe for concurrent use.
//
// Nothing is lost silently. While the file cannot take lines, they go to the fallback writer
// (the agent's stderr) instead, the reason is reported there once, and the lines are counted
// (Lost); every later line tries the file again, and the first one that succeeds reports how
// many lines the file missed. The file cannot take lines when:
//   - a write fails (a full or read-only filesystem, an I/O error); the part of a line that a
//     failing write left in the file is cut off again, so the file holds whole lines only
//     (when that truncation fails too, the next line the file takes starts on a new line);
//   - it has reached its size limit and cannot be rotated (something that is not ours is in
//     the way of NAME.1): the size limit holds, so the file waits until a limit's worth of
//     lines has gone to stderr, then tries again;
//   - it, or its directory, was removed while the agent ran and cannot be made again; when it
//     can, the Writer goes on in a new file (and directory), says so, and copies into it what
//     was written to the removed file since it last looked (every removalCheckPeriod, and at
//     Close), so no line is lost either way.
//
// A NAME.K+1 that is in the way of NAME.K's rotation (e.g. a directory) is reported once;
// NAME.K is then replaced by newer lines, so fewer rotated files are kept until it is removed.
type Writer struct {
	mu      sync.Mutex
	dirPath string        // as configured; made again (mode dirMode) if removed
	dirMode fs.FileMode   // its permission bits when opened
	dir     *safefile.Dir // the open directory
	name    string
	path    string
	max     int64
	keep    int
	f       *os.File
	size    int64 // what counts towards the next rotation (reset by a failed rotation)
	end     int64 // the live file's length, as far as this Writer wrote it
	rotated int   // highest NAME.K that may exist

	fallback io.Writer // where lines go while the file refuses them
	failing  bool      // the last line did not reach the file
	torn     bool      // a write failed part-way: the file ends inside a line
	lost     int64     // lines that went only to fallback since the last report
	lostAll  int64     // ... over the Writer's life

	full      error            // set while the file is at its limit and cannot be rotated
	diverted  int64            // bytes sent to the fallback since rotation last failed
	gone      error            // set while the removed file (or directory) cannot be made again
	retryAt   time.Time        // when to try making it again
	obstacles map[string]error // rotation obstacles reported (NAME.K in the way), until they go

	checkedAt  time.Time   // when checkRemoved last looked
	checkedEnd int64       // end then: what was written since must be rescued if the file is gone
	rescued    []byte      // read back from a removed file, not yet written again
	stat       unix.Stat_t // checkRemoved's, kept here so no Write allocates
}

// Open opens dir/name for appending, creating it (mode 0640 before the umask) if needed; an
// existing file is kept and appended to. dir must be an existing directory. maxBytes (> 0) is
// the size at which the file is rotated, keep (1..MaxKeep) how many rotated files remain.
// Rotated files beyond keep, left by an earlier run with a larger retention, are removed.
func Open(dir, name string, maxBytes int64, keep int) (*Writer, error) {
	if dir == "" {
		return nil, errors.New("log directory is empty")
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("log directory %s does not exist", dir)
	case err != nil:
		return nil, fmt.Errorf("log directory %s: %w", dir, err)
	case !st.IsDir():
		return nil, fmt.Errorf("log directory %s is not a directory", dir)
	}
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("log file name %q must be a plain file name", name)
	}
	if maxBytes <= 0 {
		return nil, fmt.Errorf("log file size limit %d must be positive", maxBytes)
	}
	if keep < 1 || keep > MaxKeep {
		return nil, fmt.Errorf("log file retention %d must be within 1..%d", keep, MaxKeep)
	}
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("log directory %s: %w", dir, err)
	}
	w := &Writer{dirPath: dir, dirMode: st.Mode().Perm(), dir: d, name: name, path: filepath.Join(dir, name),
		max: maxBytes, keep: keep, fallback: os.Stderr, obstacles: map[string]error{}}
	if err := w.open(); err != nil {
		d.Close()
		return nil, err
	}
	w.rotated = w.scan()
	return w, nil
}

// FromConfig opens the log file the Logging settings describe. It returns (nil, nil) when
// APPNET_ENVOY_LOG_DESTINATION is empty: logs then stay on stdout/stderr. Errors name the
// variable.
func FromConfig(c env.Logging) (*Writer, error) {
	if c.Destination == "" {
		return nil, nil
	}
	maxBytes := int64(c.MaxSizeMB * (1 << 20))
	w, err := Open(c.Destination, c.Name, max(maxBytes, 1), c.MaxFiles)
	if err != nil {
		return nil, fmt.Errorf("APPNET_ENVOY_LOG_DESTINATION: %w", err)
	}
	return w, nil
}

// Path is the live file's path.
func (w *Writer) Path() string { return w.path }

func (w *Writer) open() error {
	f, err := w.dir.OpenAppend(w.name, fileMode)
	if err != nil {
		return fmt.Errorf("opening log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening log file: %w", err)
	}
	w.f, w.size, w.end, w.checkedEnd = f, st.Size(), st.Size(), st.Size()
	return nil
}

// scan returns the highest NAME.K (K ≤ MaxKeep) present, after removing those beyond keep.
func (w *Writer) scan() int {
	names, err := w.dir.Names()
	if err != nil {
		return w.keep // unknown: rotate() tolerates missing files
	}
	highest := 0
	for _, n := range names {
		k, ok := rotatedIndex(n, w.name+".")
		if !ok {
			continue
		}
		if k > w.keep {
			_ = w.dir.Remove(n)
			continue
		}
		highest = max(highest, k)
	}
	return highest
}

// rotatedIndex parses NAME.K, accepting only canonical numbers 1..MaxKeep.
func rotatedIndex(file, prefix string) (int, bool) {
	s, ok := strings.CutPrefix(file, prefix)
	if !ok || s == "" || s[0] == '0' || len(s) > 4 {
		return 0, false
	}
	k, err := strconv.Atoi(s)
	if err != nil || k < 1 || k > MaxKeep {
		return 0, false
	}
	return k, true
}

func (w *Writer) rotatedName(k int) string { return w.name + "." + strconv.Itoa(k) }

func (w *Writer) rotatedPath(k int) string { return w.path + "." + strconv.Itoa(k) }

// SetFallback replaces os.Stderr as the writer that receives the lines the file refuses.
func (w *Writer) SetFallback(f io.Writer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fallback = f
}

// Lost is how many lines the file refused over the Writer's life (they went to the fallback).
func (w *Writer) Lost() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lostAll
}

// Write appends p to the live file, rotating first if p would take it past the limit. p is
// written whole to a single file, or, when the file cannot take it (see Writer), to the
// fallback writer; either way Write reports success, since the line was delivered. It fails
// only after Close.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, fs.ErrClosed
	}
	if reason := w.checkRemoved(false); reason != nil {
		w.refused(p, reason)
		return len(p), nil
	}
	if w.size > 0 && w.size+int64(len(p)) > w.max && (w.full == nil || w.diverted >= w.max) {
		w.rotate()
	}
	if w.full != nil {
		w.diverted += int64(len(p))
		w.refused(p, w.full)
		return len(p), nil
	}
	if w.torn && w.writeWhole([]byte{'\n'}) == nil {
		w.torn = false // the line the failed write cut is ended
	}
	if w.failing && !w.torn {
		// Tell the file (first) and stderr that the file works again, and what it missed.
		msg := fmt.Sprintf("appnet-agent: the log file %s can be written again; %d lines went only to stderr meanwhile\n", w.path, w.lost)
		if w.writeWhole([]byte(msg)) == nil {
			w.failing, w.lost = false, 0
			_, _ = io.WriteString(w.fallback, msg)
		}
	}
	if w.failing || w.torn {
		w.refused(p, errors.New("still failing"))
		return len(p), nil
	}
	if err := w.writeWhole(p); err != nil {
		w.refused(p, err)
	}
	return len(p), nil
}

// writeWhole appends b to the file, or nothing: a write that fails part-way is cut off again
// (when even that fails, the file ends inside a line: torn).
func (w *Writer) writeWhole(b []byte) error {
	n, err := w.f.Write(b)
	if err == nil {
		w.size += int64(n)
		w.end += int64(n)
		return nil
	}
	if n > 0 && w.f.Truncate(w.end) != nil {
		w.size += int64(n)
		w.end += int64(n)
		w.torn = true
	}
	return err
}

// refused hands a line the file did not take to the fallback writer, reporting the reason
// there the first time.
func (w *Writer) refused(p []byte, err error) {
	lines := int64(bytes.Count(p, []byte{'\n'}))
	if lines == 0 {
		lines = 1
	}
	w.lost += lines
	w.lostAll += lines
	if !w.failing {
		w.failing = true
		_, _ = fmt.Fprintf(w.fallback, "appnet-agent: cannot write the log file %s: %v; Envoy's and the agent's lines go to stderr until it can be written again\n", w.path, err)
	}
	_, _ = w.fallback.Write(p)
}

// notice writes an explanation to the file (when it takes it) and to the fallback writer.
func (w *Writer) notice(msg string) {
	line := []byte("appnet-agent: " + msg + "\n")
	if !w.failing && !w.torn && w.full == nil {
		_ = w.writeWhole(line)
	}
	_, _ = w.fallback.Write(line)
}

// Close closes the live file and its directory, after making sure (as Write does now and
// then) that what was written is in a file that has a name. Later Writes fail with
// fs.ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	_ = w.checkRemoved(true)
	err := w.f.Close()
	w.f = nil
	w.dir.Close()
	return err
}
