// Package logging builds the agent's go-hclog logger. Lines keep the reference agent's format,
// which log pipelines already parse:
//
//	[2026-11-25 21:49:19.123][4321][info] [AppNet Agent] message key=value
//
// hclog formats nothing here: the logger is an hclog intercept logger whose own output is off,
// and one sink formats each call's message and arguments directly, so every value prints
// exactly as it was logged (an int64 as its digits, a duration as 1.5s, an error as its text),
// except for credentials in URLs (a password, token-like query parameters), which are redacted
// from every message and value.
//
// Why this package is shaped as it is: docs/DESIGN.md.
package logging

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/redact"
)

// Name is the identifier every agent line carries.
const Name = "AppNet Agent"

// New returns a logger writing reference-format lines to w at the given Envoy-style level
// (trace, debug, info, warn/warning, error, critical, off).
func New(w io.Writer, level string) hclog.Logger { return newLogger(w, level, textLine) }

// newLogger is an hclog intercept logger whose own output is off and whose one sink formats
// each call with format.
func newLogger(w io.Writer, level string, format lineFormat) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Level: hclog.Off, Output: io.Discard})
	l.RegisterSink(&sink{out: w, pid: os.Getpid(), level: Level(level), now: time.Now, format: format})
	return l
}

// Level maps Envoy's level names to hclog levels.
func Level(s string) hclog.Level {
	switch strings.ToLower(s) {
	case "trace":
		return hclog.Trace
	case "debug":
		return hclog.Debug
	case "warn", "warning":
		return hclog.Warn
	case "error", "critical":
		return hclog.Error
	case "off":
		return hclog.Error // Envoy may be silenced, but the agent still reports why it failed
	}
	return hclog.Info
}

// lineFormat renders one logging call as the bytes to write, newline included. Arguments
// come as key, value pairs, the logger's implied ones (With) first, as hclog hands them over.
type lineFormat func(now time.Time, pid int, level hclog.Level, msg string, args []any) []byte

// sink writes what format makes of each call with a single Write, so lines never interleave
// with Envoy's in a shared file.
type sink struct {
	mu     sync.Mutex
	out    io.Writer
	pid    int
	level  hclog.Level
	now    func() time.Time
	format lineFormat
}

var _ hclog.SinkAdapter = (*sink)(nil)

// Accept formats and writes one call at or above the sink's level.
func (s *sink) Accept(_ string, level hclog.Level, msg string, args ...any) {
	if level < s.level || level == hclog.Off {
		return
	}
	line := s.format(s.now(), s.pid, level, msg, args)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.out.Write(line)
}

// textLine is the reference format: one line per call (or, for a multi-line message, one per
// line of it).
func textLine(now time.Time, pid int, level hclog.Level, msg string, args []any) []byte {
	prefix := "[" + now.UTC().Format("2006-01-02 15:04:05.000") + "][" + strconv.Itoa(pid) + "][" + levelName(level) + "] [" + Name + "] "
	var b strings.Builder
	// A multi-line message (e.g. a list of validation problems) becomes one prefixed line per
	// line, so line-based log pipelines never see an orphan continuation.
	lines := strings.Split(strings.TrimSuffix(redact.Text(msg), "\n"), "\n")
	for i, line := range lines {
		if i > 0 {
			b.WriteString("\n" + prefix + "  ")
		} else {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	for i := 0; i < len(args); i += 2 {
		key, val := "EXTRA_VALUE_AT_END", args[i] // an odd argument out, as hclog names it
		if i+1 < len(args) {
			key, val = fmt.Sprint(args[i]), args[i+1]
		}
		b.WriteString(" " + key + "=" + quoteIfNeeded(redact.Text(Value(val))))
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

func levelName(l hclog.Level) string {
	switch l {
	case hclog.Trace:
		return "trace"
	case hclog.Debug:
		return "debug"
	case hclog.Warn:
		return "warning" // the reference's (and Envoy's) word
	case hclog.Error:
		return "error"
	}
	return "info"
}

// Value renders one logged value exactly: integers and floats in full (never through a
// float64), durations and other Stringers in their own syntax, errors as their text.
func Value(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return x
	case error:
		return x.Error()
	case time.Duration:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	case hclog.Format:
		if len(x) == 0 {
			return ""
		}
		return fmt.Sprintf(fmt.Sprint(x[0]), x[1:]...)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return fmt.Sprintf("%+v", v)
}

// quoteIfNeeded quotes a value (Go syntax) when it is empty or holds a space, a quote, an
// equals sign, a control character or invalid UTF-8, so that `key=value` stays one token and
// a multi-line value stays on one line. Other values print bare.
func quoteIfNeeded(s string) string {
	if s == "" || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r == '"' || r == '=' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
