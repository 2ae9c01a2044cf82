package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// withAPI turns on the management API on a free loopback port and returns its base URL.
func (a *agent) withAPI() string {
	a.t.Helper()
	port := testenv.FreePort(a.t)
	a.setenv("APPNET_AGENT_ADMIN_MODE=tcp", "APPNET_AGENT_HTTP_BIND_ADDRESS=127.0.0.1", "APPNET_AGENT_HTTP_PORT="+strconv.Itoa(port))
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

var apiClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}

// get calls the agent's API and returns the status and body (0 and "" when it did not
// answer).
func get(method, url string) (int, string) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, ""
	}
	res, err := apiClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// slowGet is get with a client that waits up to a minute: the agent's own bounds (e.g. two
// 5 s attempts for a stats dump) must answer first.
func slowGet(method, url string) (int, string) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, ""
	}
	res, err := slowClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var slowClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{Proxy: nil}}

// status reads /status; ok is false when the agent did not answer with a JSON status.
func status(base string) (api.Status, bool) {
	code, body := get("GET", base+"/status")
	var s api.Status
	if code != 200 || json.Unmarshal([]byte(body), &s) != nil {
		return s, false
	}
	return s, true
}

// waitStatus polls /status until cond holds.
func (a *agent) waitStatus(base, what string, timeout time.Duration, cond func(api.Status) bool) api.Status {
	a.t.Helper()
	var s api.Status
	if !testenv.Poll(timeout, func() bool {
		var ok bool
		s, ok = status(base)
		return ok && cond(s)
	}) {
		a.fatalf("no %s within %v; last /status %+v", what, timeout, s)
	}
	return s
}

// watchStatus records every /status answer until stop is called, polling every 20 ms.
func watchStatus(base string) (stop func() []api.Status) {
	var mu sync.Mutex
	var seen []api.Status
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if s, ok := status(base); ok {
				mu.Lock()
				seen = append(seen, s)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return func() []api.Status {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

// probe runs `appnet-agent -envoyReadiness` with the agent's environment and returns its
// exit code.
func (a *agent) probe(extra ...string) int {
	a.t.Helper()
	cmd := exec.Command(agentBin, "-envoyReadiness")
	for k, v := range a.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, extra...)
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode()
}

// errorLines are the agent's [error] lines on stderr.
func (a *agent) errorLines() []string {
	var out []string
	for _, l := range strings.Split(a.stderr(), "\n") {
		if strings.Contains(l, "][error] [AppNet Agent] ") {
			out = append(out, l)
		}
	}
	return out
}

// peakRSS is a process's peak resident set (VmHWM), in bytes; 0 if unknown.
func peakRSS(pid int) int64 { return procStatusKB(pid, "VmHWM:") << 10 }

// rss is a process's resident set (VmRSS), in bytes; 0 if unknown.
func rss(pid int) int64 { return procStatusKB(pid, "VmRSS:") << 10 }

// threads is a process's thread count; 0 if unknown.
func threads(pid int) int64 { return procStatusKB(pid, "Threads:") }

func procStatusKB(pid int, key string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
