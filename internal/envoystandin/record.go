package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv/record"
)

// recorder appends one JSON object per line to STANDIN_RECORD. The file is opened with
// O_APPEND and each line is a single write, so lines from several stand-ins (restarts,
// --version probes) sharing one file never interleave.
type recorder struct {
	mu sync.Mutex
	f  *os.File
}

func openRecorder(path string) (*recorder, error) {
	if path == "" {
		return &recorder{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return &recorder{f: f}, nil
}

func (r *recorder) enabled() bool { return r != nil && r.f != nil }

// write records ev, with this process's pid and, unless ev has one, the time filled in. The
// line is marshalled whole and written at once. Errors are ignored: recording must never
// change how the stand-in behaves.
func (r *recorder) write(ev record.Event) {
	if !r.enabled() {
		return
	}
	ev.Pid = os.Getpid()
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = ev.Time.UTC()
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	line = append(line, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.f.Write(line)
}

// recordedEnvPrefixes selects the environment worth recording: the stand-in's own script
// and what a supervisor is expected to pass through. Credentials are not recorded.
var recordedEnvPrefixes = []string{"STANDIN_", "APPNET_", "ENVOY_", "AWS_REGION", "HOME", "PATH", "TMPDIR"}

func envSubset(extra []string) map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		for _, p := range recordedEnvPrefixes {
			if strings.HasPrefix(name, p) {
				out[name] = val
			}
		}
	}
	for _, name := range extra {
		if v, ok := os.LookupEnv(name); ok {
			out[name] = v
		}
	}
	return out
}

// startEvent describes the process as it was started at start: what a supervisor test
// asserts. Its time is start, not the time of writing (reading the open-files limit runs
// cat, slow on a loaded machine), because the scripted timings (STANDIN_READY_SEQUENCE,
// STANDIN_LIFETIME) count from start too.
func startEvent(start time.Time, args []string, extraEnv []string) record.Event {
	cwd, _ := os.Getwd()
	ev := record.Event{
		Event:        "start",
		Time:         start,
		Argv:         args,
		Ppid:         os.Getppid(),
		Pgid:         getpgid(),
		Sid:          getsid(),
		Cwd:          cwd,
		Env:          envSubset(extraEnv),
		RlimitNofile: originalNofile(),
		FDs:          inheritedFDs,
	}
	if pdeathsig >= 0 {
		sig := pdeathsig
		ev.Pdeathsig = &sig
	}
	return ev
}

func getpgid() int {
	pgid, err := syscall.Getpgid(0)
	if err != nil {
		return -1
	}
	return pgid
}

// originalNofile reports the open-files limit the supervisor gave this process. The Go
// runtime raises its own soft limit to the hard limit at start-up but restores the original
// for children, so a non-Go child (cat) sees the limit Envoy would have seen.
func originalNofile() []uint64 {
	cat, err := exec.LookPath("cat")
	if err != nil {
		cat = "/bin/cat" // the supervisor may pass a minimal PATH
	}
	out, err := exec.Command(cat, "/proc/self/limits").Output()
	if err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "Max open files") {
				continue
			}
			fields := strings.Fields(strings.TrimPrefix(line, "Max open files"))
			if len(fields) >= 2 {
				return []uint64{parseLimit(fields[0]), parseLimit(fields[1])}
			}
		}
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return nil
	}
	return []uint64{lim.Cur, lim.Max}
}

func parseLimit(s string) uint64 {
	if s == "unlimited" {
		return ^uint64(0)
	}
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}
