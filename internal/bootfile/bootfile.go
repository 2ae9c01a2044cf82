// Package bootfile keeps the files the agent writes for Envoy — the bootstrap and the side files
// it refers to — and puts them back when they are removed or changed while Envoy runs. It links
// nothing of the Envoy API, so the long-lived supervising process (internal/agentrun) can own
// the files that the rendering process wrote (TakeOver).
package bootfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"

	"github.com/appnet/appnet-agent/internal/safefile"
)

// BootstrapName is the bootstrap's name in the agent's private directory under TMPDIR
// ($TMPDIR/appnet-agent-XXXX/envoy-config.yaml) when ENVOY_CONFIG_FILE is not set.
const BootstrapName = "envoy-config.yaml"

// Output is what the agent wrote for Envoy: the bootstrap and the side files it refers to
// (the X-Ray sampling rules). It keeps their bytes, so Restore can put back a file removed or
// changed while Envoy ran, before Envoy is started again.
//
// Every file is written with safefile.Replace: never through a symbolic link, atomically.
type Output struct {
	// Path is the bootstrap Envoy reads (its -c).
	Path    string
	files   []outputFile  // in writing order: side files, then the bootstrap
	private *safefile.Dir // the agent's own 0700 directory under TMPDIR; nil with ENVOY_CONFIG_FILE
	name    string        // the bootstrap's name in private
}

type outputFile struct {
	path string
	data []byte
	mode fs.FileMode
	// owner names what decided this path, for errors: a variable, or TMPDIR.
	owner string
}

// Input is what Write stores: the bootstrap's bytes (unless an existing ENVOY_CONFIG_FILE is
// used as is) and the side files by path, with the variable that asks for each.
type Input struct {
	Bootstrap []byte
	Existing  bool
	// FileName is the bootstrap's name in the private directory when not BootstrapName
	// (ENVOY_CONFIG's bootstrap may be envoy-config.json).
	FileName  string
	SideFiles map[string][]byte
	// SideFileOwner names the variable that asks for a side file, for errors.
	SideFileOwner func(path string) string
}

// Write stores in for Envoy: side files first (the bootstrap refers to them), then the
// bootstrap at configFile (ENVOY_CONFIG_FILE), or, when that is empty, as envoy-config.yaml (or
// in.FileName) in a new directory of the agent's own (mode 0700) under tempDir, so nobody else can replace it
// between restarts. A new bootstrap gets mode 0600, side files 0644 (Envoy may run as another
// user); an existing file keeps its mode. An existing ENVOY_CONFIG_FILE used as is (in.Existing)
// is neither written nor restored: it is the user's. On error nothing of the private directory
// is left.
func Write(in Input, configFile, tempDir string) (*Output, error) {
	o := &Output{Path: configFile, name: BootstrapName}
	if in.FileName != "" {
		o.name = in.FileName
	}
	for _, p := range slices.Sorted(maps.Keys(in.SideFiles)) {
		o.files = append(o.files, outputFile{path: p, data: in.SideFiles[p], mode: 0o644, owner: in.SideFileOwner(p)})
	}
	if !in.Existing {
		boot := outputFile{path: configFile, data: in.Bootstrap, mode: 0o600, owner: "ENVOY_CONFIG_FILE"}
		if configFile == "" {
			d, err := safefile.MkdirTemp(tempDir, "appnet-agent-")
			if err != nil {
				return nil, fmt.Errorf("TMPDIR: cannot create the bootstrap file: %w", err)
			}
			o.private = d
			o.Path = d.Join(o.name)
			boot.path, boot.owner = o.Path, "TMPDIR"
		}
		o.files = append(o.files, boot)
	}
	for _, f := range o.files {
		if err := o.write(f); err != nil {
			o.Discard()
			return nil, err
		}
	}
	return o, nil
}

// write writes f, explaining a refusal to write through a link.
func (o *Output) write(f outputFile) error {
	var err error
	if o.private != nil && f.path == o.Path {
		err = o.private.Replace(o.name, f.data, f.mode)
	} else {
		err = safefile.Replace(f.path, f.data, f.mode)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, safefile.ErrSymlink) && f.owner == "ENVOY_CONFIG_FILE":
		// D10 follows a link to READ an existing bootstrap (a ConfigMap mount); a generated
		// one is never written through a link: the link could lead anywhere, and a ConfigMap
		// mount is read-only anyway.
		return fmt.Errorf("ENVOY_CONFIG_FILE: %w. A link is followed only to read a bootstrap that is there already: "+
			"put the bootstrap in the link's target, or point ENVOY_CONFIG_FILE at an empty file in a writable directory, or unset it", err)
	case f.owner == "TMPDIR":
		return fmt.Errorf("TMPDIR: cannot create the bootstrap file: %w", err)
	}
	return fmt.Errorf("%s: cannot write %s: %w", f.owner, f.path, err)
}

// Discard removes the agent's private directory under TMPDIR with the bootstrap in it (Envoy
// was never started with it). Files elsewhere are left.
func (o *Output) Discard() {
	if o.private == nil {
		return
	}
	_ = o.private.Remove(o.name)
	if parent, err := safefile.OpenDir(filepath.Dir(o.private.Path())); err == nil {
		_ = parent.RemoveDir(filepath.Base(o.private.Path()))
		parent.Close()
	}
	o.private.Close()
	o.private = nil
}

// Restore writes back every file that no longer holds what Write wrote (removed, emptied or
// changed), and returns their paths. The agent's private directory is made again if it was
// removed. It runs before each restart of Envoy, which would otherwise fail to start.
func (o *Output) Restore() ([]string, error) {
	if o.private != nil && o.private.Removed() {
		d, err := safefile.MkdirPrivate(o.private.Path())
		if err != nil {
			return nil, fmt.Errorf("TMPDIR: cannot make the bootstrap's directory again: %w", err)
		}
		o.private.Close()
		o.private = d
	}
	var restored []string
	var errs []error
	for _, f := range o.files {
		if o.holds(f) {
			continue
		}
		if err := o.write(f); err != nil {
			errs = append(errs, err)
			continue
		}
		restored = append(restored, f.path)
	}
	return restored, errors.Join(errs...)
}

// holds reports whether f's path still holds f's bytes, as a regular file (not a link).
func (o *Output) holds(f outputFile) bool {
	d := o.private
	if d == nil || f.path != o.Path {
		var err error
		if d, err = safefile.OpenDir(filepath.Dir(f.path)); err != nil {
			return false
		}
		defer d.Close()
	}
	got, err := d.ReadFile(filepath.Base(f.path), int64(len(f.data))) // longer differs anyway
	return err == nil && bytes.Equal(got, f.data)
}
