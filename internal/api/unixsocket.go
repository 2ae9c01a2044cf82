package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// liveCheckTimeout bounds the connection attempt that tells a live socket from a stale one.
const liveCheckTimeout = time.Second

// listenUnix binds the management socket at path (APPNET_AGENT_ADMIN_UDS_PATH) with mode 0600
// from its first moment, never through a symbolic link, and never in place of a socket
// another process still serves:
//
//   - an existing file at path is replaced only when it is a stale socket: one that refuses
//     connections (a run that ended without removing it). A socket that accepts a connection
//     belongs to a live process (a second agent with the same path), and is reported like a
//     TCP port in use; a symbolic link or any other kind of file is reported and left alone;
//   - the socket is bound in a new private directory (0700, created beside path, so the rename
//     below stays on one filesystem), chmod'ed there and renamed onto path. Inside the
//     private directory nobody else can plant a link, and a rename replaces a link at path
//     rather than writing through it. The directory is reached through its descriptor
//     (/proc/self/fd), so its name may be longer than a socket address allows.
func listenUnix(path string) (net.Listener, error) {
	fail := func(err error) (net.Listener, error) {
		return nil, fmt.Errorf("APPNET_AGENT_ADMIN_UDS_PATH: %w", err)
	}
	if err := clearStaleSocket(path); err != nil {
		return fail(err)
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".appnet-")
	if err != nil {
		return fail(fmt.Errorf("cannot create the socket beside %s: %w", path, err))
	}
	defer os.RemoveAll(dir)
	dirFD, err := openPrivateDir(dir)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(dirFD)
	bind := "/proc/self/fd/" + strconv.Itoa(dirFD) + "/s"
	if _, err := os.Stat(filepath.Dir(bind)); err != nil { // no /proc: the directory's own name
		bind = filepath.Join(dir, "s")
	}
	ln, err := net.Listen("unix", bind)
	if err != nil {
		return fail(fmt.Errorf("cannot listen on %s: %w", path, err))
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // its name changes below; Close removes the final path
	if err := unix.Fchmodat(dirFD, "s", socketMode, 0); err != nil {
		ln.Close()
		return fail(fmt.Errorf("cannot restrict the socket: %w", err))
	}
	if err := unix.Renameat(dirFD, "s", unix.AT_FDCWD, path); err != nil {
		ln.Close()
		return fail(fmt.Errorf("cannot move the socket to %s: %w", path, err))
	}
	return newUnixListener(ul, path), nil
}

// clearStaleSocket removes a stale socket at path (see listenUnix); nothing there is fine.
func clearStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode().Type() == fs.ModeSymlink:
		return fmt.Errorf("%s is a symbolic link; not replacing it (nor what it points to)", path)
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("%s exists and is not a socket; not replacing it", path)
	}
	conn, err := net.DialTimeout("unix", path, liveCheckTimeout)
	if err == nil {
		conn.Close()
		return fmt.Errorf("%s is in use: another process (a second agent with the same path?) accepts connections on it; not replacing it", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("cannot tell whether another process serves the socket %s (%v); not replacing it", path, err)
	}
	// Stale. Unlinking never follows a link: a file swapped in meanwhile is at worst removed
	// itself, never what it points to.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the stale socket: %w", err)
	}
	return nil
}

// openPrivateDir opens dir, just made by os.MkdirTemp, and makes sure it is still that
// directory: not a link, owned by this process's user, writable by no one else.
func openPrivateDir(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("cannot open the private directory %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("cannot open the private directory %s: %w", dir, err)
	}
	if int(st.Uid) != os.Geteuid() || st.Mode&0o077 != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("the private directory %s was replaced by another user's", dir)
	}
	return fd, nil
}

// unixListener removes its socket file when closed, unless the path now names another file
// (e.g. someone removed it and another process bound the path meanwhile).
type unixListener struct {
	*net.UnixListener
	path string
	file fs.FileInfo // the socket file as bound; nil if it could not be read
}

func newUnixListener(ul *net.UnixListener, path string) *unixListener {
	fi, _ := os.Lstat(path)
	return &unixListener{UnixListener: ul, path: path, file: fi}
}

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	if cur, statErr := os.Lstat(l.path); statErr != nil || l.file == nil || !os.SameFile(cur, l.file) {
		return err // gone already, or not ours any more
	}
	if rmErr := os.Remove(l.path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
		err = rmErr
	}
	return err
}

// Addr reports the socket's final path.
func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }
