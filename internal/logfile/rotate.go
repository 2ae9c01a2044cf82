package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/safefile"
)

// rotate shifts the numbered files and starts a new live file. A NAME.K+1 in the way is
// reported once and skipped (NAME.K is then replaced by the next newer file). When the live
// file itself cannot be rotated, w.full says why and the old file stays current, so the
// Writer is never without a file; Write then sends lines to the fallback, keeping the limit.
func (w *Writer) rotate() {
	for k := min(w.rotated, w.keep-1); k >= 1; k-- {
		w.shift(w.rotatedName(k), w.rotatedName(k+1))
	}
	// A live file removed by someone else is simply replaced.
	if err := w.dir.Rename(w.name, w.rotatedName(1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.rotateFailed(err)
		return
	}
	w.rotated = min(w.rotated+1, w.keep)
	old := w.f
	if err := w.open(); err != nil {
		w.f = old // the renamed file: nothing more is written to it while w.full is set
		w.rotateFailed(err)
		return
	}
	old.Close()
	w.full, w.diverted = nil, 0
	for name, err := range w.obstacles {
		if err == nil {
			continue // reported already
		}
		w.notice(fmt.Sprintf("cannot rotate the log file to %s (%v); the file before it is replaced by newer lines instead, "+
			"so fewer than %d rotated files are kept until %s is removed", filepath.Join(w.dirPath, name), err, w.keep, name))
		w.obstacles[name] = nil // reported; kept until the obstacle goes
	}
}

// shift renames one rotated file to the next number, noting an obstacle at the new name to be
// reported once (by rotate, in the new file). Only regular files are moved: a directory
// someone put at NAME.K stays where it is (and blocks NAME.K-1 in turn).
func (w *Writer) shift(from, to string) {
	if mode, err := w.dir.Lstat(from); err != nil || !mode.IsRegular() {
		return
	}
	if err := w.dir.Rename(from, to); err != nil {
		if _, known := w.obstacles[to]; !known {
			w.obstacles[to] = unwrapLink(err)
		}
		return
	}
	delete(w.obstacles, to)
}

func unwrapLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// rotateFailed keeps the limit: lines go to the fallback (Write) until a limit's worth has
// gone there, then rotation is tried again.
func (w *Writer) rotateFailed(err error) {
	w.full = fmt.Errorf("it reached its size limit (APPNET_AGENT_MAX_LOG_FILE_SIZE) and cannot be rotated: %w", err)
	w.diverted = 0
}

// removalCheckPeriod is how often Write checks that the live file still has a name: the
// check is a system call as costly as the write itself, so it is not made for every line.
// What was written since the last check is read back from the removed file (see
// checkRemoved), so nothing is lost meanwhile.
const removalCheckPeriod = 100 * time.Millisecond

// checkRemoved notices that the live file (or its whole directory) was removed while the
// agent ran: the lines would go nowhere. It makes the directory again (as it was, with the
// mode it had) and a new file, says so, and copies into it what was written to the removed
// file since the last check; when it cannot, it returns why (those lines then go to the
// fallback) and tries again at most every second. force checks now (Close).
func (w *Writer) checkRemoved(force bool) error {
	now := time.Now()
	switch {
	case w.gone == nil:
		if !force && now.Sub(w.checkedAt) < removalCheckPeriod {
			return nil
		}
		w.checkedAt = now
		if err := unix.Fstat(int(w.f.Fd()), &w.stat); err != nil || w.stat.Nlink > 0 {
			w.checkedEnd = w.end
			return nil
		}
		w.rescued = w.readBack(w.checkedEnd, w.end)
	case !force && now.Before(w.retryAt):
		return w.gone
	}
	what := "the log file " + w.path + " was removed"
	if w.dir.Removed() {
		if err := w.reopenDir(); err != nil {
			return w.stillGone(fmt.Errorf("its directory was removed and cannot be made again: %w", err))
		}
		what = "the log directory " + w.dirPath + " was removed"
	}
	old := w.f
	if err := w.open(); err != nil {
		w.f = old
		return w.stillGone(fmt.Errorf("it was removed and cannot be made again: %w", err))
	}
	old.Close()
	w.gone, w.rotated, w.torn = nil, w.scan(), false
	w.notice(what + " while the agent ran; writing to a new " + w.path)
	if len(w.rescued) > 0 && w.writeWhole(w.rescued) != nil {
		w.refused(w.rescued, errors.New("the new file refused them"))
	}
	w.rescued, w.checkedEnd = nil, w.end
	return nil
}

// readBack reads [from, to) of the live file, which is open for reading too.
func (w *Writer) readBack(from, to int64) []byte {
	if to <= from {
		return nil
	}
	b := make([]byte, to-from)
	n, _ := w.f.ReadAt(b, from)
	return b[:n]
}

// stillGone records that the removed file cannot be made again; the lines read back from it
// go to the fallback.
func (w *Writer) stillGone(err error) error {
	w.gone, w.retryAt = err, time.Now().Add(time.Second)
	if len(w.rescued) > 0 {
		w.refused(w.rescued, err)
		w.rescued = nil
	}
	return err
}

// reopenDir makes the log directory again and opens it.
func (w *Writer) reopenDir() error {
	if err := os.Mkdir(w.dirPath, w.dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	} else if err == nil {
		_ = os.Chmod(w.dirPath, w.dirMode) // as it was, whatever the umask
	}
	d, err := safefile.OpenDir(w.dirPath)
	if err != nil {
		return err
	}
	w.dir.Close()
	w.dir = d
	return nil
}
