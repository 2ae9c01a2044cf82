package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runUntilLinesDone runs the agent until every stand-in output burst is written, then stops
// it gracefully: the agent forwards what is left in the pipes before it exits.
func runUntilLinesDone(a *agent, streams int) {
	a.t.Helper()
	a.start()
	a.waitFor("the output bursts", 60*time.Second, func(evs []event) bool {
		return len(filter(evs, isEvent("lines_done"))) >= streams
	})
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("agent exit code %d, want 0", code)
	}
}

// Every line in the log file is one of these; anything else is a torn or merged line.
var (
	stdoutLine  = regexp.MustCompile(`^line (\d+)$`)
	stderrLine  = regexp.MustCompile(`^stderr line (\d+)$`)
	agentLine   = regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[[a-z]+\] \[AppNet Agent\] \S`)
	standinLine = regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[[a-z]+\]\[[a-z_]+\] \S`)
)

// TestLogRotationLosesNoLine (R7): bursts on Envoy's stdout and stderr, far larger than
// several rotations of a 10 KiB file, all end up in the log files, each line once, whole,
// in order per stream, and no file exceeds the limit.
func TestLogRotationLosesNoLine(t *testing.T) {
	t.Parallel()
	const outLines, errLines = 20000, 8000 // about 210 KiB + 140 KiB
	const maxSize = 10485                  // int64(0.01 MiB), as the agent truncates it
	logDir := t.TempDir()
	a := newAgent(t, "APPNET_ENVOY_LOG_DESTINATION="+logDir, "APPNET_AGENT_MAX_LOG_FILE_SIZE=0.01",
		"APPNET_AGENT_MAX_RETENTION_COUNT=1000",
		"STANDIN_STDOUT_LINES="+strconv.Itoa(outLines), "STANDIN_STDERR_LINES="+strconv.Itoa(errLines))
	runUntilLinesDone(a, 2)

	// Oldest first: NAME.K … NAME.1, then NAME. Every rotated file is kept (retention 1000),
	// so the numbers are contiguous.
	live := filepath.Join(logDir, "appnet_envoy.log")
	entries, err := os.ReadDir(logDir)
	if err != nil {
		t.Fatal(err)
	}
	rotated := len(entries) - 1
	if rotated < 10 {
		a.fatalf("%d rotations, want many (files: %v)", rotated, entries)
	}
	var files []string
	for k := rotated; k >= 1; k-- {
		files = append(files, live+"."+strconv.Itoa(k))
	}
	files = append(files, live)

	next := map[string]int{"stdout": 1, "stderr": 1} // the line number expected next
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			a.fatalf("rotated files not numbered 1..%d: %v", rotated, err)
		}
		if st.Size() > maxSize {
			a.fatalf("%s is %d bytes, over the %d limit", f, st.Size(), maxSize)
		}
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := sc.Text()
			stream, m := "stdout", stdoutLine.FindStringSubmatch(line)
			if m == nil {
				stream, m = "stderr", stderrLine.FindStringSubmatch(line)
			}
			switch {
			case m != nil:
				if n, _ := strconv.Atoi(m[1]); n != next[stream] {
					fh.Close()
					a.fatalf("%s: %s line %d where %d was due (lost or reordered)", filepath.Base(f), stream, n, next[stream])
				}
				next[stream]++
			case agentLine.MatchString(line), standinLine.MatchString(line):
			default:
				fh.Close()
				a.fatalf("%s: torn or unknown line %q", filepath.Base(f), line)
			}
		}
		fh.Close()
	}
	if next["stdout"] != outLines+1 || next["stderr"] != errLines+1 {
		a.fatalf("%d stdout and %d stderr lines found, want %d and %d", next["stdout"]-1, next["stderr"]-1, outLines, errLines)
	}
	// With a log destination nothing of Envoy's goes to the agent's own stderr.
	if strings.Contains(a.stderr(), "line 1\n") {
		a.fatalf("Envoy output on the agent's stderr")
	}
}

// TestLogFileIsAppended (R7): the log file survives agent restarts; the reference truncated
// it at every start.
func TestLogFileIsAppended(t *testing.T) {
	t.Parallel()
	logDir := t.TempDir()
	live := filepath.Join(logDir, "custom.log")
	const marker = "a line from before the agent ran\n"
	if err := os.WriteFile(live, []byte(marker), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		a := newAgent(t, "APPNET_ENVOY_LOG_DESTINATION="+logDir, "APPNET_ENVOY_LOG_NAME=custom.log", "STANDIN_STDOUT_LINES=3")
		runUntilLinesDone(a, 1)
	}
	b, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.HasPrefix(got, marker) || strings.Count(got, "\nline 3\n") != 2 || strings.Count(got, "Executing command: [") != 2 {
		t.Fatalf("want the old content, then both runs' logs:\n%s", got)
	}
	if entries, _ := os.ReadDir(logDir); len(entries) != 1 {
		t.Fatalf("files %v, want only custom.log (no rotation at the default size)", entries)
	}
}
