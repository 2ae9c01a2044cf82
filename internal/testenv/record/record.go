// Package record is the schema of envoy-standin's record file (STANDIN_RECORD): one JSON
// object per line, each an Event. The stand-in writes Events and the tests read them, so
// both sides agree on the field names by construction.
//
// It is test support, like its parent testenv: only the stand-in (itself a test program)
// and _test.go files import it, never the agent (testenv's TestNotImportedByProductionCode
// checks this). It imports nothing of the project, so the stand-in stays small.
package record

import "time"

// Event is one line of the record. Event, Pid and Time are on every line; the other fields
// belong to the kinds named in their comments, and a field that is empty (zero, "", nil) is
// left out of the line. Kinds: start, admin_listening, listener_listening, listener_stopped,
// admin, signal, orphan, lines_done, exit (see internal/envoystandin/doc.go for when each is written).
type Event struct {
	Event string    `json:"event"` // the kind; first on the line, so the file greps well
	Pid   int       `json:"pid"`
	Time  time.Time `json:"time"` // RFC 3339 with nanoseconds, UTC

	// start: the process as the supervisor started it.
	Argv         []string          `json:"argv,omitempty"` // with argv[0]
	Ppid         int               `json:"ppid,omitempty"`
	Pgid         int               `json:"pgid,omitempty"`
	Sid          int               `json:"sid,omitempty"`
	Cwd          string            `json:"cwd,omitempty"`
	Pdeathsig    *int              `json:"pdeathsig,omitempty"`     // Linux only; 0 is "none set"
	FDs          map[string]string `json:"fds,omitempty"`           // inherited descriptor → link target
	RlimitNofile []uint64          `json:"rlimit_nofile,omitempty"` // [soft, hard]
	Env          map[string]string `json:"env_subset,omitempty"`

	// admin_listening: where the admin endpoint is bound; listener_listening: where a static
	// listener (named by Name) is bound.
	Network string `json:"network,omitempty"` // "tcp" or "unix"
	Address string `json:"address,omitempty"`

	// admin: one admin request, recorded when it arrives.
	Method        string `json:"method,omitempty"`
	Path          string `json:"path,omitempty"`
	Query         string `json:"query,omitempty"` // raw
	Host          string `json:"host,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	Connection    string `json:"connection,omitempty"`
	ContentLength int64  `json:"content_length,omitempty"` // -1 when unknown
	Transport     string `json:"transport,omitempty"`      // "tcp" or "unix"

	// signal (and exit by a signal): Go's name ("terminated"), the C name ("SIGTERM"), the number.
	// Name is also the listener of listener_listening and listener_stopped.
	Signal string `json:"signal,omitempty"`
	Name   string `json:"name,omitempty"`
	Signo  int    `json:"signo,omitempty"`

	// orphan: the child left to outlive the stand-in.
	ChildPid int `json:"child_pid,omitempty"`

	// lines_done: how many lines went to which stream.
	Stream string `json:"stream,omitempty"` // "stdout" or "stderr"
	Lines  int    `json:"lines,omitempty"`

	// exit: the exit code (-1 when dying by a signal; a pointer, since 0 is a code) and why.
	Code   *int   `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}
