package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 16, items 9 and 10: the log directory changes under the running agent.

// stdoutNumbers lists the numbers of the stand-in's "line N" lines in text, in order.
func stdoutNumbers(text string) []int {
	var out []int
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if m := stdoutLine.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[1])
			out = append(out, n)
		}
	}
	return out
}

// TestLogDirectoryRemovedWhileRunning (item 9): the log directory is removed while Envoy
// writes; the agent makes it again with a new file, says so, and every later line is there,
// in order. Before, every later line went into the removed file, silently.
func TestLogDirectoryRemovedWhileRunning(t *testing.T) {
	t.Parallel()
	const lines = 1000 // 10 s at 10 ms each: the removal comes early in it
	logDir := filepath.Join(t.TempDir(), "logs")
	mkdir(t, logDir)
	a := newAgent(t, "APPNET_ENVOY_LOG_DESTINATION="+logDir,
		"STANDIN_STDOUT_LINES="+strconv.Itoa(lines), "STANDIN_LINE_INTERVAL=10ms")
	a.start()
	live := filepath.Join(logDir, "appnet_envoy.log")
	if !testenv.Poll(20*time.Second, func() bool { b, _ := os.ReadFile(live); return strings.Contains(string(b), "line 20\n") }) {
		a.fatalf("no Envoy output in the log file")
	}
	if err := os.RemoveAll(logDir); err != nil {
		t.Fatal(err)
	}
	if len(filter(a.events(), isEvent("lines_done"))) > 0 {
		t.Fatal("the stand-in finished before the directory was removed; the machine is too slow for this test")
	}
	a.waitFor("the output", 60*time.Second, func(evs []event) bool { return len(filter(evs, isEvent("lines_done"))) > 0 })
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	b, err := os.ReadFile(live)
	if err != nil {
		a.fatalf("the log file was not made again: %v", err)
	}
	got := stdoutNumbers(string(b))
	if len(got) == 0 || got[len(got)-1] != lines {
		a.fatalf("the new log file does not end with line %d: %v", lines, got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			a.fatalf("line %d follows line %d in the new log file (lost or reordered)", got[i], got[i-1])
		}
	}
	if !strings.Contains(a.stderr(), "the log directory "+logDir+" was removed while the agent ran; writing to a new "+live) {
		a.fatalf("the agent does not say what happened")
	}
}

// TestLogRotationBlocked (item 10): a directory at appnet_envoy.log.2 blocks one step of the
// rotation. The live file and NAME.1 keep the size limit, the obstacle is reported once and
// clearly, and the newest lines are in the live file. Before, the live file grew without
// bound and the only report was "output lost … (line kept)".
func TestLogRotationBlocked(t *testing.T) {
	t.Parallel()
	// About 30 KiB: about 7 rotations of a 4 KiB file. With .2 in the way only the live file and
	// .1 are kept, and they must hold the agent's and Envoy's shutdown lines after the newest
	// line (about 1.5 KiB, more on a loaded machine): two 1 KiB files were not always enough.
	const lines = 3000
	const limit = 4194 // int64(0.004 MiB)
	logDir := t.TempDir()
	mkdir(t, filepath.Join(logDir, "appnet_envoy.log.2", "not-ours"))
	a := newAgent(t, "APPNET_ENVOY_LOG_DESTINATION="+logDir, "APPNET_AGENT_MAX_LOG_FILE_SIZE=0.004",
		"APPNET_AGENT_MAX_RETENTION_COUNT=3", "STANDIN_STDOUT_LINES="+strconv.Itoa(lines))
	runUntilLinesDone(a, 1)
	live := filepath.Join(logDir, "appnet_envoy.log")
	for _, p := range []string{live, live + ".1"} {
		st, err := os.Stat(p)
		if err != nil {
			a.fatalf("%v", err)
		}
		if st.Size() > limit+400 { // + the one report line
			a.fatalf("%s is %d bytes: over its %d limit", p, st.Size(), limit)
		}
	}
	if _, err := os.Stat(filepath.Join(logDir, "appnet_envoy.log.2", "not-ours")); err != nil {
		a.fatalf("the directory in the way was touched: %v", err)
	}
	stderr := a.stderr()
	report := "cannot rotate the log file to " + live + ".2 (is a directory)"
	if n := strings.Count(stderr, report); n != 1 {
		a.fatalf("the obstacle is reported %d times on stderr, want once", n)
	}
	if strings.Contains(stderr, "line kept") || strings.Contains(stderr, "Envoy output lost") {
		a.fatalf("contradictory report")
	}
	all, _ := os.ReadFile(live + ".1")
	b, _ := os.ReadFile(live)
	got := stdoutNumbers(string(all) + string(b))
	if len(got) == 0 || got[len(got)-1] != lines {
		a.fatalf("the newest line is not in the log files: %v", got)
	}
}
