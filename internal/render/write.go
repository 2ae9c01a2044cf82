package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write stores res for Envoy: side files first (they are referenced by the bootstrap), then the
// bootstrap at path, each atomically (temp file in the same directory, fsync, rename), so Envoy never
// reads a partial file. A new file gets mode 0600; an existing file keeps its mode. An existing
// ENVOY_CONFIG_FILE used as is is not rewritten.
func Write(res *Result, path string) error {
	for p, content := range res.SideFiles {
		if err := WriteFileAtomic(p, content, 0o644); err != nil {
			return err
		}
	}
	if res.Existing {
		return nil
	}
	return WriteFileAtomic(path, res.Bytes, 0o600)
}

// WriteFileAtomic replaces path with data. newMode applies only when path does not exist yet.
func WriteFileAtomic(path string, data []byte, newMode fs.FileMode) error {
	mode := newMode
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// Resolve a symlinked target (e.g. a ConfigMap mount) so the rename replaces the real file.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
