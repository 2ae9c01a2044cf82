package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/appnet/appnet-agent/internal/env"
)

// loggerNames is Envoy's logger registry, as the agent knows it (env.EnvoyComponents); /logging
// lists them and accepts changes only for these names, and --component-log-level refuses
// others, as Envoy does for its own registry.
var loggerNames = env.EnvoyComponents

func isLoggerName(name string) bool {
	for _, n := range loggerNames {
		if n == name {
			return true
		}
	}
	return false
}

func levelIndex(l string) int {
	for i, n := range logLevels {
		if n == l {
			return i
		}
	}
	return len(logLevels)
}

// envoyLog writes Envoy-formatted lines and keeps the per-logger levels that /logging
// reads and changes. All methods are safe for concurrent use.
type envoyLog struct {
	mu     sync.Mutex
	out    io.Writer
	levels map[string]string
	pid    int
	// pattern is --log-format ("" for the default format); escape is --log-format-escaped.
	pattern string
	escape  bool
}

func newEnvoyLog(out io.Writer, level string, component map[string]string) *envoyLog {
	l := &envoyLog{out: out, levels: map[string]string{}, pid: os.Getpid()}
	for _, n := range loggerNames {
		l.levels[n] = level
	}
	for n, lv := range component {
		l.levels[n] = lv
	}
	return l
}

// logf prints one line in Envoy's default format when the logger's level allows it.
func (l *envoyLog) logf(logger, level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, ok := l.levels[logger]
	if !ok || levelIndex(level) < levelIndex(cur) || cur == "off" {
		return
	}
	now, msg := time.Now().UTC(), fmt.Sprintf(format, args...)
	if l.pattern == "" {
		fmt.Fprintf(l.out, "[%s][%d][%s][%s] [standin] %s\n", now.Format("2006-01-02 15:04:05.000"), l.pid, level, logger, msg)
		return
	}
	line := formatPattern(l.pattern, logLine{time: now, level: level, logger: logger, pid: l.pid, msg: msg})
	if l.escape {
		line = cEscape(line) // Envoy escapes the whole formatted line, pattern included
	}
	io.WriteString(l.out, line+"\n")
}

// listing renders the "active loggers" block Envoy returns from /logging.
func (l *envoyLog) listing() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.levels))
	for n := range l.levels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("active loggers:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %s: %s\n", n, l.levels[n])
	}
	b.WriteString("\n")
	return b.String()
}

// adminLevel checks a level given to /logging. Unlike the command line, the admin
// endpoint knows only spdlog's own names, so "warn" is refused.
func adminLevel(v string) (string, error) {
	for _, n := range logLevels {
		if n == v {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown logger level")
}

// change applies a /logging query the way Envoy does: nothing, level=L, paths=a:L,b:L, or
// a single name=L. It changes nothing unless the whole request is valid.
func (l *envoyLog) change(q url.Values) error {
	if len(q) == 0 {
		return nil
	}
	if len(q) != 1 {
		return fmt.Errorf("invalid number of parameters")
	}
	updates := map[string]string{}
	for key, vals := range q {
		val := ""
		if len(vals) > 0 {
			val = vals[0]
		}
		switch key {
		case "level":
			lv, err := adminLevel(val)
			if err != nil {
				return err
			}
			for _, n := range loggerNames {
				updates[n] = lv
			}
		case "paths":
			for _, item := range strings.Split(val, ",") {
				name, level, ok := strings.Cut(item, ":")
				if !ok {
					return fmt.Errorf("invalid number of parameters")
				}
				lv, err := adminLevel(level)
				if err != nil {
					return err
				}
				updates[name] = lv
			}
		default:
			lv, err := adminLevel(val)
			if err != nil {
				return err
			}
			updates[key] = lv
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for n := range updates {
		if _, ok := l.levels[n]; !ok {
			return fmt.Errorf("unknown logger name")
		}
	}
	for n, lv := range updates {
		l.levels[n] = lv
	}
	return nil
}

// loggingUsage is appended to a failed /logging response, as Envoy does.
func loggingUsage(err error) string {
	return fmt.Sprintf("error: %v\n\n", err) +
		"usage: /logging?<name>=<level> (change single level)\n" +
		"usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n" +
		"usage: /logging?level=<level> (change all levels)\n" +
		"levels: " + strings.Join(logLevels, " ") + " \n"
}
