package safefile

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// WriteOutput writes data to a path the user named on the command line (-o, --junit):
//
//   - "-" is stdout;
//   - a regular file, or nothing, at path: replaced (created with newMode) atomically, as
//     Replace does; an existing file keeps its mode;
//   - a device or FIFO: opened and written in place, never replaced (a FIFO waits for its
//     reader, as with a shell's >);
//   - a symbolic link: written through to its target in place, the way a shell's > opens it
//     (so the kernel's protection of links in sticky directories applies), never replaced
//     by a file; a link to nothing is an error, not created;
//   - a directory or a socket: an error; nothing is replaced.
func WriteOutput(path string, data []byte, newMode fs.FileMode, stdout io.Writer) error {
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && st.Mode().IsRegular():
		return Replace(path, data, newMode)
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		return writeInPlace(path, data, true)
	case st.IsDir(), st.Mode()&fs.ModeSocket != 0:
		return &PathError{Path: path, Err: ErrNotRegular, What: "it is " + Kind(st.Mode()), Hint: "nothing written"}
	default:
		return writeInPlace(path, data, false)
	}
}

// writeInPlace opens path without creating it and writes data into it: a regular file (the
// target of a link) is truncated first, anything else is written as it is.
func writeInPlace(path string, data []byte, follow bool) error {
	flags := os.O_WRONLY
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && follow {
			return &PathError{Path: path, Err: ErrSymlink, What: "to a file that does not exist", Hint: "a link's target is written, never created"}
		}
		return err
	}
	st, err := f.Stat()
	if err == nil {
		switch {
		case st.Mode().IsRegular():
			err = f.Truncate(0)
		case st.IsDir():
			err = &PathError{Path: path, Err: ErrNotRegular, What: "it leads to a directory", Hint: "nothing written"}
		}
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
