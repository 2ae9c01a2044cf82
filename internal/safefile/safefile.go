// Package safefile is how the agent creates, replaces, appends to and reads files without
// being tricked by what someone else put at a path: it never follows a symbolic link when it
// creates or replaces a file, and it never blocks opening a FIFO.
//
// Writing (Dir.Replace, Replace): a temporary file is created beside the target with
// O_CREAT|O_EXCL|O_NOFOLLOW, so whatever is planted at that name is not opened; it is written,
// given its mode and renamed over the target. It is not fsynced: the rename is the guarantee (a
// reader sees the old file or the new one, whole), and every file written here is made again from
// its inputs at the next start; an fsync cost 0.8 ms median and up to 24 ms under disk
// contention on every start (issue 19). rename(2) replaces a link itself, never
// what it points at. A link, or any other non-regular file, already at the target's name is
// refused with an error naming it (ErrSymlink, ErrNotRegular); after the rename the name is
// checked to hold the file just written, so a swap in a directory others can write to is an
// error too. Appending (Dir.OpenAppend, for the log file) opens with O_NOFOLLOW|O_NONBLOCK and
// accepts only a regular file with a single link. Every operation works on an open directory
// (Dir), so a directory renamed or replaced after it was opened cannot redirect the next one.
//
// Reading (OpenRegular, ReadRegular): input files are opened with O_NONBLOCK, so a FIFO without
// a writer cannot block the open, and anything but a regular file is refused before a byte
// is read (a FIFO, a device such as /dev/zero, a directory).
//
// The command line's own outputs (-o, --junit) follow WriteOutput's rules instead: the user
// named those paths, so a link is written through in place (never replaced) and a device is
// written as a device.
//
// os.Root is not used: its methods follow symbolic links that stay inside the root, and the
// agent must not follow them at all; the file names here are single components, so
// golang.org/x/sys/unix's *at calls on the directory's descriptor say exactly what happens.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Errors the checks return, wrapped in a *PathError that names the file.
var (
	// ErrSymlink: the name is a symbolic link, which is never written through or replaced.
	ErrSymlink = errors.New("is a symbolic link")
	// ErrNotRegular: the name is a directory, FIFO, device or socket, where a regular file is needed.
	ErrNotRegular = errors.New("is not a regular file")
)

// PathError is a refusal, naming the file and saying what it is instead.
type PathError struct {
	Path string
	Err  error  // ErrSymlink or ErrNotRegular, or another reason
	What string // what the file is ("a FIFO", "a symbolic link to /x"); may be empty
	Hint string // what to do about it; may be empty
}

func (e *PathError) Error() string {
	s := e.Path + " " + e.Err.Error()
	if e.What != "" {
		s += " (" + e.What + ")"
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *PathError) Unwrap() error { return e.Err }

// Kind names what a file mode is, for error messages: "a directory", "a FIFO", ...
func Kind(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "a regular file"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}

// kindOf is Kind for a raw stat mode.
func kindOf(m uint32) string { return Kind(fileMode(m)) }

func fileMode(m uint32) fs.FileMode {
	perm := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return perm
	case unix.S_IFLNK:
		return perm | fs.ModeSymlink
	case unix.S_IFDIR:
		return perm | fs.ModeDir
	case unix.S_IFIFO:
		return perm | fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return perm | fs.ModeSocket
	case unix.S_IFCHR:
		return perm | fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return perm | fs.ModeDevice
	}
	return perm | fs.ModeIrregular
}

// Dir is an open directory in which files are created, replaced and appended to by name.
type Dir struct {
	f    *os.File
	path string
}

// OpenDir opens the directory at path (links in path itself are followed: the directory is
// the caller's choice; only the files in it are guarded).
func OpenDir(path string) (*Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open directory", Path: path, Err: err}
	}
	return &Dir{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

// MkdirTemp creates a new directory in parent that only its owner can use (mode 0700), named
// pattern followed by a random suffix, and opens it.
func MkdirTemp(parent, pattern string) (*Dir, error) {
	p, err := OpenDir(parent)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	for range 100 {
		name := pattern + strconv.FormatUint(rand.Uint64()%1e12, 36)
		err := unix.Mkdirat(p.fd(), name, 0o700)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "mkdir", Path: p.Join(name), Err: err}
		}
		return p.openSubdir(name)
	}
	return nil, &fs.PathError{Op: "mkdir", Path: filepath.Join(parent, pattern+"*"), Err: fs.ErrExist}
}

// MkdirPrivate makes the directory path (mode 0700) and opens it; it must not exist yet.
func MkdirPrivate(path string) (*Dir, error) {
	p, err := OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer p.Close()
	name := filepath.Base(path)
	if err := unix.Mkdirat(p.fd(), name, 0o700); err != nil {
		return nil, &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	return p.openSubdir(name)
}

func (d *Dir) openSubdir(name string) (*Dir, error) {
	fd, err := unix.Openat(d.fd(), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open directory", Path: d.Join(name), Err: err}
	}
	return &Dir{f: os.NewFile(uintptr(fd), d.Join(name)), path: d.Join(name)}, nil
}

// Path is the directory's path as it was opened.
func (d *Dir) Path() string { return d.path }

// Join is the path of name in the directory.
func (d *Dir) Join(name string) string { return filepath.Join(d.path, name) }

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

func (d *Dir) fd() int { return int(d.f.Fd()) }

// Removed reports whether the directory has been removed since it was opened (a removed
// directory has no links left; nothing can be created in it any more).
func (d *Dir) Removed() bool {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd(), &st); err != nil {
		return true
	}
	return st.Nlink == 0
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("%q is not a file name", name)
	}
	return nil
}

// lstat stats name without following a link; ok is false when nothing is there.
func (d *Dir) lstat(name string) (st unix.Stat_t, ok bool, err error) {
	err = unix.Fstatat(d.fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	if err != nil {
		return st, false, &fs.PathError{Op: "lstat", Path: d.Join(name), Err: err}
	}
	return st, true, nil
}

// Lstat returns the mode of name without following a link; a missing name is an error
// wrapping fs.ErrNotExist.
func (d *Dir) Lstat(name string) (fs.FileMode, error) {
	st, ok, err := d.lstat(name)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 0, &fs.PathError{Op: "lstat", Path: d.Join(name), Err: fs.ErrNotExist}
	}
	return fileMode(st.Mode), nil
}

// refusal is the error for something other than a regular file at name.
func (d *Dir) refusal(name string, st *unix.Stat_t) error {
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		what := ""
		if target, err := d.readlink(name); err == nil {
			what = "to " + target
		}
		return &PathError{Path: d.Join(name), Err: ErrSymlink, What: what, Hint: "the agent never writes through a link"}
	}
	return &PathError{Path: d.Join(name), Err: ErrNotRegular, What: "it is " + kindOf(st.Mode)}
}

func (d *Dir) readlink(name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(d.fd(), name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// Replace atomically replaces (or creates) the regular file name with data. A new file gets
// newMode; an existing one of the same owner keeps its permission bits (one of another owner,
// say a world-writable file planted in /tmp, gets newMode). A link or another non-regular file at
// name is refused, and so is a file that someone swapped in while data was being written.
func (d *Dir) Replace(name string, data []byte, newMode fs.FileMode) error {
	if err := checkName(name); err != nil {
		return err
	}
	mode := uint32(newMode.Perm())
	st, exists, err := d.lstat(name)
	if err != nil {
		return err
	}
	if exists {
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return d.refusal(name, &st)
		}
		if int(st.Uid) == os.Geteuid() { // a file someone else put there does not choose the mode
			mode = st.Mode & 0o777
		}
	}
	tmp, f, err := d.createTemp(name)
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = unix.Unlinkat(d.fd(), tmp, 0)
		}
	}()
	var written unix.Stat_t
	err = writeFile(f, data, mode, &written)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "write", Path: d.Join(name), Err: unwrap(err)}
	}
	if err := unix.Renameat(d.fd(), tmp, d.fd(), name); err != nil {
		return &fs.PathError{Op: "rename", Path: d.Join(name), Err: err}
	}
	renamed = true
	now, there, err := d.lstat(name)
	if err != nil {
		return err
	}
	if !there || now.Dev != written.Dev || now.Ino != written.Ino {
		return &PathError{Path: d.Join(name), Err: errors.New("was replaced by someone else while the agent wrote it")}
	}
	return nil
}

// writeFile writes data to f, sets its mode and reports its identity in st.
func writeFile(f *os.File, data []byte, mode uint32, st *unix.Stat_t) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := unix.Fchmod(int(f.Fd()), mode); err != nil {
		return err
	}
	return unix.Fstat(int(f.Fd()), st)
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// createTemp creates a new, private temporary file for name in the directory.
func (d *Dir) createTemp(name string) (string, *os.File, error) {
	prefix := "." + name + ".tmp-"
	if len(prefix) > 200 { // NAME_MAX is 255
		prefix = prefix[:200]
	}
	for range 100 {
		tmp := prefix + strconv.FormatUint(rand.Uint64()%1e12, 36)
		fd, err := unix.Openat(d.fd(), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", nil, &fs.PathError{Op: "create", Path: d.Join(tmp), Err: err}
		}
		return tmp, os.NewFile(uintptr(fd), d.Join(tmp)), nil
	}
	return "", nil, &fs.PathError{Op: "create", Path: d.Join(prefix + "*"), Err: fs.ErrExist}
}

// OpenAppend opens the regular file name for appending (and reading back what was written),
// creating it with mode (before the umask) when it does not exist. A link, a non-regular file, or a file with more than one link
// (a hard link planted to another file) is refused.
func (d *Dir) OpenAppend(name string, mode fs.FileMode) (*os.File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	st, exists, err := d.lstat(name)
	if err != nil {
		return nil, err
	}
	if exists && st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, d.refusal(name, &st)
	}
	fd, err := unix.Openat(d.fd(), name, unix.O_RDWR|unix.O_APPEND|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err != nil {
		if st, exists, _ := d.lstat(name); exists && st.Mode&unix.S_IFMT != unix.S_IFREG {
			return nil, d.refusal(name, &st) // swapped since the check above
		}
		return nil, &fs.PathError{Op: "open", Path: d.Join(name), Err: err}
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "fstat", Path: d.Join(name), Err: err}
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		unix.Close(fd)
		return nil, d.refusal(name, &st)
	case st.Nlink > 1:
		unix.Close(fd)
		return nil, &PathError{Path: d.Join(name), Err: fmt.Errorf("has %d hard links", st.Nlink),
			Hint: "the agent appends only to a file of its own; remove the extra links"}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "fcntl", Path: d.Join(name), Err: err}
	}
	return os.NewFile(uintptr(fd), d.Join(name)), nil
}

// Rename renames oldName to newName in the directory; a link at either name is renamed or
// replaced itself, never followed.
func (d *Dir) Rename(oldName, newName string) error {
	if err := unix.Renameat(d.fd(), oldName, d.fd(), newName); err != nil {
		return &os.LinkError{Op: "rename", Old: d.Join(oldName), New: d.Join(newName), Err: err}
	}
	return nil
}

// Remove removes the file (or link) name.
func (d *Dir) Remove(name string) error {
	if err := unix.Unlinkat(d.fd(), name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: d.Join(name), Err: err}
	}
	return nil
}

// RemoveDir removes the empty directory name.
func (d *Dir) RemoveDir(name string) error {
	if err := unix.Unlinkat(d.fd(), name, unix.AT_REMOVEDIR); err != nil {
		return &fs.PathError{Op: "remove", Path: d.Join(name), Err: err}
	}
	return nil
}

// Names lists the names in the directory.
func (d *Dir) Names() ([]string, error) {
	f, err := openat(d.fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY, d.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// ReadFile reads the regular file name, at most limit bytes (more is an error); it does not
// follow a link.
func (d *Dir) ReadFile(name string, limit int64) ([]byte, error) {
	f, err := openRegularAt(d.fd(), name, unix.O_NOFOLLOW, d.Join(name))
	if err != nil {
		if st, exists, _ := d.lstat(name); exists && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return nil, d.refusal(name, &st)
		}
		return nil, err
	}
	defer f.Close()
	return readRegular(f, limit)
}

func openat(dirfd int, name string, flags int, path string) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Replace is Dir.Replace for path's directory and base name.
func Replace(path string, data []byte, newMode fs.FileMode) error {
	d, err := OpenDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Replace(filepath.Base(path), data, newMode)
}

// ErrTooLarge is what ReadRegular's error wraps when the file exceeds its limit.
var ErrTooLarge = errors.New("too large")

// OpenRegular opens path for reading, following links (the user named it), without blocking
// on a FIFO, and refuses anything but a regular file.
func OpenRegular(path string) (*os.File, error) {
	return openRegularAt(unix.AT_FDCWD, path, 0, path)
}

// openRegularAt opens name in dirfd with O_NONBLOCK (a FIFO cannot block the open), refuses
// anything but a regular file, and clears O_NONBLOCK again.
func openRegularAt(dirfd int, name string, flags int, path string) (*os.File, error) {
	f, err := openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|flags, path)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, &PathError{Path: path, Err: ErrNotRegular, What: "it is " + kindOf(st.Mode)}
	}
	if err := unix.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "fcntl", Path: path, Err: err}
	}
	return f, nil
}

// ReadRegular reads the regular file at path (see OpenRegular), at most limit bytes: a larger
// file is an error wrapping ErrTooLarge, found before it is read when its size says so.
func ReadRegular(path string, limit int64) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readRegular(f, limit)
}

// TooLargeError is a file over a read limit.
type TooLargeError struct {
	Path        string
	Size, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %.1f MiB, over the limit of %.1f MiB", e.Path, float64(e.Size)/(1<<20), float64(e.Limit)/(1<<20))
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

func readRegular(f *os.File, limit int64) ([]byte, error) {
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, &TooLargeError{Path: f.Name(), Size: st.Size(), Limit: limit}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: f.Name(), Size: int64(len(data)), Limit: limit}
	}
	return data, nil
}
