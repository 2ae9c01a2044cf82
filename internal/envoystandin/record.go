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

// write records an event. "event" comes first so the file is easy to grep; "pid" and
// "time" are added to every line. Errors are ignored: recording must never change how the
// stand-in behaves.
func (r *recorder) write(event string, fields map[string]any) {
	if !r.enabled() {
		return
	}
	all := map[string]any{"pid": os.Getpid(), "time": time.Now().UTC().Format(time.RFC3339Nano)}
	for k, v := range fields {
		all[k] = v
	}
	rest, err := json.Marshal(all)
	if err != nil {
		return
	}
	ev, _ := json.Marshal(event)
	line := make([]byte, 0, len(rest)+len(ev)+12)
	line = append(line, `{"event":`...)
	line = append(line, ev...)
	line = append(line, ',')
	line = append(line, rest[1:]...)
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

// startFields describes the process as it was started: what a supervisor test asserts.
func startFields(args []string, extraEnv []string) map[string]any {
	cwd, _ := os.Getwd()
	f := map[string]any{
		"argv":          args,
		"ppid":          os.Getppid(),
		"pgid":          getpgid(),
		"sid":           getsid(),
		"cwd":           cwd,
		"env_subset":    envSubset(extraEnv),
		"rlimit_nofile": originalNofile(),
		"fds":           inheritedFDs,
	}
	if pdeathsig >= 0 {
		f["pdeathsig"] = pdeathsig
	}
	return f
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
