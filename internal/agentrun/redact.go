package agentrun

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// RedactCommand is the agent's internal subcommand that redacts Envoy's config dump from its
// stdin to its stdout (configdump.Redact).
const RedactCommand = "redact-config-dump"

// RedactWith redacts a config dump by running the agent at agentPath as a filter: the
// supervisor links none of the Envoy API's descriptors that the redaction is driven by (they
// are most of the agent's memory), and a config dump is asked for rarely, by an operator.
func RedactWith(agentPath string) func(r io.Reader, w io.Writer) error {
	return func(r io.Reader, w io.Writer) error {
		var stderr bytes.Buffer
		cmd := exec.Command(agentPath, RedactCommand)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = r, w, &limitedBuffer{buf: &stderr, left: 4 << 10}
		if err := cmd.Run(); err != nil {
			if msg := strings.TrimSpace(strings.TrimPrefix(stderr.String(), "error: ")); msg != "" {
				return fmt.Errorf("%s", msg)
			}
			return fmt.Errorf("%s %s: %w", agentPath, RedactCommand, err)
		}
		return nil
	}
}

// limitedBuffer keeps the first left bytes written to it and drops the rest.
type limitedBuffer struct {
	buf  *bytes.Buffer
	left int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := min(len(p), b.left)
	b.buf.Write(p[:n])
	b.left -= n
	return len(p), nil
}
