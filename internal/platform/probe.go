package platform

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// maxVersionOutput caps what we keep of `envoy --version`; the real output is
// one line, and a runaway binary must not grow our memory.
const maxVersionOutput = 64 << 10

// probeEnvoy runs `<path> --version` within CallTimeout and returns its
// trimmed stdout. A failed run, a timeout or empty output is an error: the
// caller then reports UnknownVersion (not FIPS), like the reference.
func probeEnvoy(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	out := &cappedBuffer{limit: maxVersionOutput}
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Stdout = out
	// If the binary leaves a child holding stdout open, Wait must still
	// return soon after the kill.
	cmd.WaitDelay = 100 * time.Millisecond
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s --version: %w", path, ctx.Err())
	}
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	v := strings.TrimSpace(out.String())
	if v == "" {
		return "", fmt.Errorf("%s --version: %w", path, errors.New("empty output"))
	}
	return v, nil
}

// isFIPS is the reference's FIPS test: "fips" anywhere in the version string.
func isFIPS(version string) bool {
	return strings.Contains(strings.ToLower(version), "fips")
}

// cappedBuffer keeps the first limit bytes written and silently drops the
// rest, always reporting success so the child never sees a broken pipe.
type cappedBuffer struct {
	buf   []byte
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string { return string(b.buf) }
