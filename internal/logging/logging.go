// Package logging builds the agent's go-hclog logger. Lines keep the reference agent's format,
// which log pipelines already parse:
//
//	[2026-11-25 21:49:19.123][4321][info] [AppNet Agent] message key=value
package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Name is the identifier every agent line carries.
const Name = "AppNet Agent"

// New returns a logger writing reference-format lines to w at the given Envoy-style level
// (trace, debug, info, warn/warning, error, critical, off).
func New(w io.Writer, level string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Level:      Level(level),
		Output:     &lineWriter{out: w, pid: os.Getpid()},
		JSONFormat: true, // structured lines that lineWriter re-renders; hclog's own text format differs from the reference
	})
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

// lineWriter receives one JSON object per Write from hclog and writes one formatted line.
type lineWriter struct {
	mu  sync.Mutex
	out io.Writer
	pid int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	var rec map[string]any
	if err := json.Unmarshal(p, &rec); err != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.out.Write(p) // never lose a line
	}
	ts := time.Now()
	if s, ok := rec["@timestamp"].(string); ok {
		if t, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", s); err == nil {
			ts = t
		}
	}
	level, _ := rec["@level"].(string)
	if level == "warn" {
		level = "warning" // the reference's (and Envoy's) word
	}
	msg, _ := rec["@message"].(string)
	prefix := fmt.Sprintf("[%s][%d][%s] [%s] ", ts.UTC().Format("2006-01-02 15:04:05.000"), l.pid, level, Name)
	var b bytes.Buffer
	// A multi-line message (e.g. a list of validation problems) becomes one prefixed line per
	// line, so line-based log pipelines never see an orphan continuation.
	lines := strings.Split(msg, "\n")
	for i, line := range lines[:len(lines)-1] {
		if i == 0 {
			b.WriteString(prefix + line + "\n")
		} else {
			b.WriteString(prefix + "  " + line + "\n")
		}
	}
	last := lines[len(lines)-1]
	if len(lines) > 1 {
		last = "  " + last
	}
	b.WriteString(prefix + last)
	keys := make([]string, 0, len(rec))
	for k := range rec {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, rec[k])
	}
	b.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.out.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
