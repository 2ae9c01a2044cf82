package logging

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Stream is one of the agent's standard streams (stdout or stderr) as the run command writes
// to it: Envoy's output when there is no log file, and the agent's own lines. A write the
// stream refuses — its reader went away (EPIPE: a log driver restarting, the end of a `| tee`),
// or the disk behind a redirect is full — is handled like a full log disk: the line is
// dropped and counted (Lost), the failure is reported once on the other stream, and the writer
// carries on, trying every later line again; the first that succeeds reports how many were
// lost. Write never fails, so no caller stops on it. (SIGPIPE itself is caught from package
// initialisation, see internal/earlysignal, so such a write fails with EPIPE instead of
// killing the agent.) Safe for concurrent use.
type Stream struct {
	name  string
	w     io.Writer
	other io.Writer // where failures are reported: the other standard stream, unguarded

	mu      sync.Mutex
	failing bool
	lost    int64 // lines lost since the stream last worked
	lostAll atomic.Int64
}

// NewStreams guards stdout and stderr, each reporting its failures on the other.
func NewStreams(stdout, stderr io.Writer) (out, errs *Stream) {
	return &Stream{name: "stdout", w: stdout, other: stderr}, &Stream{name: "stderr", w: stderr, other: stdout}
}

// Name is "stdout" or "stderr".
func (s *Stream) Name() string { return s.name }

// Lost is how many lines the stream refused over its life.
func (s *Stream) Lost() int64 { return s.lostAll.Load() }

// Write writes p, or counts its lines as lost; it always reports success.
func (s *Stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		// Tell the stream itself first: if that works, the stream works again.
		msg := fmt.Sprintf("appnet-agent: %s can be written again; %d lines were lost meanwhile\n", s.name, s.lost)
		if _, err := io.WriteString(s.w, msg); err != nil {
			s.drop(p)
			return len(p), nil
		}
		_, _ = io.WriteString(s.other, msg)
		s.failing, s.lost = false, 0
	}
	if _, err := s.w.Write(p); err != nil {
		s.failing = true
		_, _ = fmt.Fprintf(s.other, "appnet-agent: cannot write to %s: %v; its lines are dropped and counted (appnet_agent_output_lines_lost_total) until it can be written again\n", s.name, err)
		s.drop(p)
	}
	return len(p), nil
}

// drop counts p's lines (at least one) as lost.
func (s *Stream) drop(p []byte) {
	n := int64(max(1, bytes.Count(p, []byte{'\n'})))
	s.lost += n
	s.lostAll.Add(n)
}
