package validate

import (
	"fmt"
	"io"

	"github.com/appnet/appnet-agent/internal/safefile"
)

// MaxDocumentBytes bounds a bootstrap or fragment the agent reads and validates. Validation
// holds the YAML tree and the proto at once: measured at about 0.2 s and 45 bytes of memory per
// byte of YAML (an 8 MiB bootstrap: 1.7 s, 366 MB), so a 45 MB file would stall the start and
// could exhaust a sidecar's memory limit. Real bootstraps are well below 1 MiB; one above this
// belongs in xDS.
const MaxDocumentBytes = 4 << 20

// ReadDocument reads a bootstrap or fragment file, refusing one larger than MaxDocumentBytes
// before reading it whole, and anything but a regular file before reading a byte (a FIFO would
// block the start, /dev/zero never end).
func ReadDocument(path string) ([]byte, error) {
	f, err := safefile.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxDocumentBytes {
		return nil, tooLarge(path, st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxDocumentBytes {
		return nil, tooLarge(path, int64(len(data)))
	}
	return data, nil
}

func tooLarge(path string, size int64) error {
	return fmt.Errorf("%s is %.1f MiB; the agent reads bootstraps and fragments of at most %d MiB (move large static resources to xDS)",
		path, float64(size)/(1<<20), MaxDocumentBytes>>20)
}
