package bootfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/appnet/appnet-agent/internal/safefile"
)

// Handoff describes an Output to the process that takes it over (TakeOver): where each file
// is, its mode, what decided its path, and a digest of what was written. It carries no bytes:
// the files were written a moment ago, and TakeOver reads them back.
type Handoff struct {
	Path       string        `json:"path"`
	PrivateDir string        `json:"private_dir,omitempty"`
	Files      []HandoffFile `json:"files"`
}

// HandoffFile is one file of a Handoff.
type HandoffFile struct {
	Path   string      `json:"path"`
	Mode   fs.FileMode `json:"mode"`
	Owner  string      `json:"owner"`
	SHA256 string      `json:"sha256"`
}

// maxHandoffFile bounds what TakeOver reads back: a rendered bootstrap is at most a few MiB
// (render caps template output at 4 MiB; user fragments add less).
const maxHandoffFile = 64 << 20

// Handoff describes o for TakeOver in another process.
func (o *Output) Handoff() Handoff {
	h := Handoff{Path: o.Path}
	if o.private != nil {
		h.PrivateDir = o.private.Path()
	}
	for _, f := range o.files {
		sum := sha256.Sum256(f.data)
		h.Files = append(h.Files, HandoffFile{Path: f.path, Mode: f.mode, Owner: f.owner, SHA256: hex.EncodeToString(sum[:])})
	}
	return h
}

// TakeOver makes the Output that h describes, reading each file back (never through a link in
// the private directory) and checking it against its digest, so that Restore can put it back
// later. A file that changed since it was written is an error: Envoy must read what was
// validated.
func TakeOver(h Handoff) (*Output, error) {
	o := &Output{Path: h.Path}
	if h.PrivateDir != "" {
		d, err := safefile.OpenDir(h.PrivateDir)
		if err != nil {
			return nil, fmt.Errorf("TMPDIR: cannot open the bootstrap's directory again: %w", err)
		}
		o.private, o.name = d, filepath.Base(h.Path)
	}
	for _, hf := range h.Files {
		var data []byte
		var err error
		if o.private != nil && hf.Path == o.Path {
			data, err = o.private.ReadFile(filepath.Base(hf.Path), maxHandoffFile)
		} else {
			data, err = safefile.ReadRegular(hf.Path, maxHandoffFile)
		}
		if err != nil {
			o.closePrivate()
			return nil, fmt.Errorf("%s: cannot read %s back: %w", hf.Owner, hf.Path, err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != hf.SHA256 {
			o.closePrivate()
			return nil, fmt.Errorf("%s: %s changed between writing it and starting Envoy; not starting Envoy with a file that was not validated", hf.Owner, hf.Path)
		}
		o.files = append(o.files, outputFile{path: hf.Path, data: data, mode: hf.Mode, owner: hf.Owner})
	}
	return o, nil
}

func (o *Output) closePrivate() {
	if o.private != nil {
		o.private.Close()
		o.private = nil
	}
}
