package bootfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/appnet/appnet-agent/internal/safefile"
)

// Handoff describes an Output to the process that takes it over (TakeOver): where each file
// is, its mode, what decided its path, and the bytes written (a bootstrap is at most a few MiB:
// render caps template output at 4 MiB), so the taking process can write back a file removed
// or changed while Envoy ran, as the writing process could.
type Handoff struct {
	Path       string        `json:"path"`
	PrivateDir string        `json:"private_dir,omitempty"`
	Files      []HandoffFile `json:"files"`
}

// HandoffFile is one file of a Handoff.
type HandoffFile struct {
	Path  string      `json:"path"`
	Mode  fs.FileMode `json:"mode"`
	Owner string      `json:"owner"`
	Data  []byte      `json:"data"`
}

// Handoff describes o for TakeOver in another process.
func (o *Output) Handoff() Handoff {
	h := Handoff{Path: o.Path}
	if o.private != nil {
		h.PrivateDir = o.private.Path()
	}
	for _, f := range o.files {
		h.Files = append(h.Files, HandoffFile{Path: f.path, Mode: f.mode, Owner: f.owner, Data: f.data})
	}
	return h
}

// TakeOver makes the Output that h describes in the process that takes it over, so that
// Restore can put its files back later. Envoy was started with them already; the agent's
// private directory, if someone removed it meanwhile, is made again now (Restore writes the
// bootstrap back into it before the next start).
func TakeOver(h Handoff) (*Output, error) {
	o := &Output{Path: h.Path}
	if h.PrivateDir != "" {
		d, err := safefile.OpenDir(h.PrivateDir)
		if errors.Is(err, fs.ErrNotExist) {
			d, err = safefile.MkdirPrivate(h.PrivateDir)
		}
		if err != nil {
			return nil, fmt.Errorf("TMPDIR: cannot open the bootstrap's directory again: %w", err)
		}
		o.private, o.name = d, filepath.Base(h.Path)
	}
	for _, hf := range h.Files {
		o.files = append(o.files, outputFile{path: hf.Path, data: hf.Data, mode: hf.Mode, owner: hf.Owner})
	}
	return o, nil
}
