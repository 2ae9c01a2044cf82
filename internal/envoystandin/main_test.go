package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := runOnce(t, nil, "--version")
	if code != 0 || out != "\nenvoy  version: "+defaultVersion+"\n\n" {
		t.Fatalf("--version: code %d, stdout %q", code, out)
	}
	code, out, _ = runOnce(t, []string{"STANDIN_VERSION=abc/1.34.1/Clean/RELEASE/BoringSSL-FIPS"}, "--version")
	if code != 0 || !strings.Contains(out, "version: abc/1.34.1/Clean/RELEASE/BoringSSL-FIPS\n") {
		t.Fatalf("STANDIN_VERSION: code %d, stdout %q", code, out)
	}
}

func TestBadCommandLinesExit1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "ok.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"), 0o600)
	os.WriteFile(bad, []byte("admin:\n  address: {socket_address: {address: 127.0.0.1, port_value: 99999}}\n"), 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-c", good, "--bogus"}, "PARSE ERROR: Argument: --bogus"},
		{[]string{"-c", good, "positional"}, "Couldn't find match for argument"},
		{[]string{"-c"}, "Missing a value for this argument!"},
		{[]string{"-c", good, "-l", "verbose"}, "invalid log level specified 'verbose'"},
		{[]string{"-c", good, "--concurrency", "two"}, "Couldn't read argument value"},
		{[]string{"-c", good, "--disable-hot-restart=true"}, "PARSE ERROR"},
		{[]string{"-c", good, "-c", good}, "Argument already set!"},
		{[]string{"-l", "info"}, "At least one of --config-path or --config-yaml"},
		{[]string{"-c", filepath.Join(dir, "missing.yaml")}, "unable to read file"},
		{[]string{"-c", bad}, "port_value"},
	}
	for _, c := range cases {
		code, _, stderr := runOnce(t, nil, c.args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: code %d, stderr %q; want 1 and %q", c.args, code, stderr, c.want)
		}
	}
	code, out, _ := runOnce(t, nil, "--mode", "validate", "-c", good)
	if code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("--mode validate: code %d, stdout %q", code, out)
	}
}

func TestAgentCommandLineAccepted(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{args: []string{"-c", "%BOOT%", "-l", "debug", "--concurrency", "2",
		"--drain-time-s=30", "--disable-hot-restart", "--skip-deprecated-logs"}})
	code, body := p.get("/server_info")
	if code != 200 {
		t.Fatalf("/server_info: %d %s", code, body)
	}
	var info struct {
		State   string         `json:"state"`
		Version string         `json:"version"`
		Options map[string]any `json:"command_line_options"`
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("/server_info is not JSON: %v", err)
	}
	if info.State != "LIVE" || info.Options["concurrency"] != 2.0 || info.Options["drain_time"] != "30s" ||
		info.Options["log_level"] != "debug" || info.Options["disable_hot_restart"] != true {
		t.Errorf("/server_info = %+v", info)
	}
	startEv := p.events("start")[0]
	argv, _ := startEv["argv"].([]any)
	if len(argv) != 10 || argv[9] != "--skip-deprecated-logs" {
		t.Errorf("recorded argv %v", argv)
	}
	if rl, _ := startEv["rlimit_nofile"].([]any); len(rl) != 2 {
		t.Errorf("rlimit_nofile = %v", startEv["rlimit_nofile"])
	}
	if !strings.Contains(p.stderr.String(), "[info][main] [standin] starting main dispatch loop") {
		t.Errorf("no Envoy-like start line on stderr:\n%s", p.stderr.String())
	}
}

func TestTCPAdminBasics(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{})
	if code, body := p.get("/ready"); code != 200 || body != "LIVE\n" {
		t.Errorf("/ready = %d %q", code, body)
	}
	if code, body := p.get("/nope"); code != 404 || !strings.Contains(body, "/ready") {
		t.Errorf("/nope = %d %q", code, body)
	}
	for _, path := range []string{"/logging", "/drain_listeners", "/healthcheck/fail", "/quitquitquit"} {
		if code, body := p.get(path); code != 405 || body != "Method GET not allowed, POST required." {
			t.Errorf("GET %s = %d %q", path, code, body)
		}
	}
	if code, _ := p.post("/healthcheck/fail"); code != 200 {
		t.Fatal("healthcheck/fail")
	}
	if code, body := p.get("/ready"); code != 503 || body != "DRAINING\n" {
		t.Errorf("/ready after healthcheck/fail = %d %q", code, body)
	}
	p.post("/healthcheck/ok")
	if code, _ := p.get("/ready"); code != 200 {
		t.Errorf("/ready after healthcheck/ok = %d", code)
	}
	if code, body := p.post("/quitquitquit"); code != 200 || body != "OK\n" {
		t.Errorf("/quitquitquit = %d %q", code, body)
	}
	if st := p.wait(exitTimeout); st.ExitCode() != 0 {
		t.Errorf("exit after quitquitquit: %v", st)
	}
}

func TestUDSAdmin(t *testing.T) {
	t.Parallel()
	for _, boot := range []string{
		"admin:\n  address:\n    pipe:\n      path: %SOCK%\n      mode: 384\n",
		`{"admin": {"address": {"pipe": {"path": "%SOCK%"}}}}`, // no mode: default 0600
	} {
		p := start(t, runConfig{pipe: true, bootstrap: boot})
		fi, err := os.Stat(p.socket)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("socket mode = %v, want socket 0600", fi.Mode())
		}
		if code, body := p.get("/ready"); code != 200 || body != "LIVE\n" {
			t.Errorf("/ready over UDS = %d %q", code, body)
		}
		ev := p.events("admin")
		if len(ev) == 0 || ev[0]["transport"] != "unix" || ev[0]["host"] != "127.0.0.1:9901" {
			t.Errorf("recorded admin events %v", ev)
		}
	}
}

func TestReadySequence(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_READY_SEQUENCE=PRE_INITIALIZING:1500ms,INITIALIZING:1500ms,LIVE"}})
	order := map[string]int{"PRE_INITIALIZING": 0, "INITIALIZING": 1, "LIVE": 2}
	last, seen := -1, map[string]bool{}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) && !seen["LIVE"] {
		code, body := p.get("/ready")
		state := strings.TrimSpace(body)
		idx, ok := order[state]
		if !ok || idx < last || (state == "LIVE") != (code == 200) {
			t.Fatalf("/ready = %d %q after %v", code, body, seen)
		}
		last, seen[state] = idx, true
		time.Sleep(50 * time.Millisecond)
	}
	if !seen["INITIALIZING"] || !seen["LIVE"] {
		t.Errorf("states seen: %v", seen)
	}
	if _, body := p.get("/stats?filter=^server.state$"); body != "server.state: 0\n" {
		t.Errorf("server.state when LIVE: %q", body)
	}
}

func TestStatsFormatsAndFilters(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_CONNECTED_STATE=0", "STANDIN_LISTENER_FAILED=1"}})
	code, body := p.get("/stats?filter=control_plane.connected_state&format=json")
	if code != 200 || strings.TrimSpace(body) != `{"stats":[{"name":"control_plane.connected_state","value":0}]}` {
		t.Errorf("json filter = %d %q", code, body)
	}
	_, body = p.get("/stats?filter=listener_manager")
	for _, want := range []string{"listener_manager.listener_create_failure: 1\n",
		"listener_manager.lds.update_rejected: 1\n", "listener_manager.total_listeners_active: 2\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("text stats lack %q:\n%s", want, body)
		}
	}
	_, all := p.get("/stats")
	_, used := p.get("/stats?usedonly")
	if !strings.Contains(all, "cluster_manager.cds.update_rejected: 0") || strings.Contains(used, "cds.update_rejected") {
		t.Errorf("usedonly should hide zero counters")
	}
	var parsed struct {
		Stats []json.RawMessage `json:"stats"`
	}
	if _, body = p.get("/stats?format=json"); json.Unmarshal([]byte(body), &parsed) != nil || len(parsed.Stats) < 20 ||
		!strings.Contains(string(parsed.Stats[len(parsed.Stats)-1]), "histograms") {
		t.Errorf("full json stats: %.300s", body)
	}
	_, prom := p.get("/stats/prometheus")
	_, prom2 := p.get("/stats?format=prometheus")
	for _, b := range []string{prom, prom2} {
		if !strings.Contains(b, "# TYPE envoy_control_plane_connected_state gauge\nenvoy_control_plane_connected_state{} 0\n") ||
			!strings.Contains(b, `envoy_listener_downstream_cx_active{envoy_listener_address="0.0.0.0_15000"} 0`) ||
			!strings.Contains(b, `envoy_server_initialization_time_ms_bucket{le="+Inf"} 1`) {
			t.Errorf("prometheus output:\n%s", b)
		}
	}
	if code, _ := p.get("/stats?filter=(unclosed"); code != 400 {
		t.Errorf("bad regex = %d, want 400", code)
	}
}

func TestStatsFileOverlay(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "stats.txt")
	os.WriteFile(file, []byte("control_plane.connected_state: 0\ncustom.thing: 7\nnot a stat\n"), 0o600)
	p := start(t, runConfig{env: []string{"STANDIN_STATS_FILE=" + file}})
	if _, body := p.get("/stats?filter=connected_state|custom"); body != "control_plane.connected_state: 0\ncustom.thing: 7\n" {
		t.Errorf("overlay: %q", body)
	}
	os.WriteFile(file, []byte("control_plane.connected_state: 1\n"), 0o600)
	if _, body := p.get("/stats?filter=connected_state"); body != "control_plane.connected_state: 1\n" {
		t.Errorf("overlay after rewrite: %q", body)
	}
}

func TestPrometheusBodyFromFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.prom")
	var sb strings.Builder
	sb.WriteString("# TYPE envoy_appmesh_RequestCount counter\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "envoy_appmesh_RequestCount{Mesh=\"m\",VirtualNode=\"vn%d\"} %d\n", i, i)
	}
	os.WriteFile(big, []byte(sb.String()), 0o600)
	p := start(t, runConfig{env: []string{"STANDIN_PROM_FILE=" + big}})
	for _, path := range []string{"/stats/prometheus", "/stats?format=prometheus&filter=appmesh&usedonly"} {
		code, body := p.get(path)
		if code != 200 || body != sb.String() {
			t.Errorf("%s: status %d, %d bytes, want the file's %d bytes", path, code, len(body), sb.Len())
		}
	}

	tmpl := filepath.Join(dir, "tmpl.prom")
	os.WriteFile(tmpl, []byte("c{} {{scrape*5+95}}\ng{} {{scrape}}\n"), 0o600)
	q := start(t, runConfig{env: []string{"STANDIN_PROM_FILE=" + tmpl}})
	q.get("/stats/prometheus")
	if _, body := q.get("/stats/prometheus"); body != "c{} 105\ng{} 2\n" {
		t.Errorf("templated body %q", body)
	}
}

func TestLogging(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{})
	code, body := p.post("/logging")
	if code != 200 || !strings.HasPrefix(body, "active loggers:\n") || !strings.Contains(body, "  upstream: info\n") {
		t.Fatalf("/logging list = %d %q", code, body)
	}
	if code, body = p.post("/logging?level=debug"); code != 200 || strings.Contains(body, ": info\n") {
		t.Errorf("level=debug = %d %q", code, body)
	}
	if code, body = p.post("/logging?paths=upstream:trace,main:error"); code != 200 ||
		!strings.Contains(body, "  upstream: trace\n") || !strings.Contains(body, "  main: error\n") {
		t.Errorf("paths = %d %q", code, body)
	}
	if code, body = p.post("/logging?http=warning"); code != 200 || !strings.Contains(body, "  http: warning\n") {
		t.Errorf("single logger = %d %q", code, body)
	}
	for _, q := range []string{"level=warn", "level=verbose", "nosuch=debug", "level=info&http=debug", "paths=upstream"} {
		if code, body = p.post("/logging?" + q); code != 404 || !strings.Contains(body, "usage: /logging") {
			t.Errorf("%s = %d %q, want 404 with usage", q, code, body)
		}
	}
	if _, body = p.post("/logging"); !strings.Contains(body, "  upstream: trace\n") {
		t.Errorf("a rejected request changed levels: %q", body)
	}
}

func TestDrainRecordedAndConnections(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_DOWNSTREAM_CX=4", "STANDIN_DRAIN_CX_AFTER=700ms"}})
	if _, body := p.get("/stats?filter=^server.total_connections$"); body != "server.total_connections: 4\n" {
		t.Errorf("before drain: %q", body)
	}
	if code, body := p.post("/drain_listeners?inboundonly&graceful"); code != 200 || body != "OK\n" {
		t.Fatalf("drain = %d %q", code, body)
	}
	var found bool
	for _, ev := range p.events("admin") {
		if ev["method"] == "POST" && ev["path"] == "/drain_listeners" && ev["query"] == "inboundonly&graceful" {
			found = true
		}
	}
	if !found {
		t.Errorf("drain not recorded: %v", p.events("admin"))
	}
	_, body := p.get("/stats?filter=total_listeners|total_connections")
	if !strings.Contains(body, "listener_manager.total_listeners_draining: 1\n") ||
		!strings.Contains(body, "server.total_connections: 4\n") {
		t.Errorf("right after drain: %q", body)
	}
	if code, _ := p.get("/ready"); code != 200 {
		t.Errorf("/ready after drain_listeners = %d, want 200 as in Envoy", code)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		if _, body = p.get("/stats?filter=^server.total_connections$"); body == "server.total_connections: 0\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections never fell to 0: %q", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSIGTERMExitsZero(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := p.wait(exitTimeout); st.ExitCode() != 0 {
		t.Fatalf("after SIGTERM: %v", st)
	}
	sig := p.events("signal")
	exit := p.events("exit")
	if len(sig) != 1 || sig[0]["signal"] != "terminated" || len(exit) != 1 || exit[0]["code"] != 0.0 {
		t.Errorf("records: signal %v, exit %v", sig, exit)
	}
}

func TestScriptedExitCode(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_EXIT_CODE=3", "STANDIN_LIFETIME=300ms"}})
	st := p.wait(exitTimeout)
	if st.ExitCode() != 3 {
		t.Fatalf("exit = %v, want code 3", st)
	}
	if ev := p.events("exit"); len(ev) != 1 || ev[0]["code"] != 3.0 || ev[0]["reason"] != "lifetime" {
		t.Errorf("exit record %v", ev)
	}
}

func TestScriptedSignalDeath(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_EXIT_SIGNAL=SIGSEGV", "STANDIN_LIFETIME=200ms"}})
	ws := p.wait(exitTimeout).Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSEGV {
		t.Errorf("wait status %v, want killed by SIGSEGV", ws)
	}
	// SIGQUIT is not handled by Envoy either: the process dies by it (not Go's exit 2).
	q := start(t, runConfig{})
	q.cmd.Process.Signal(syscall.SIGQUIT)
	ws = q.wait(exitTimeout).Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGQUIT {
		t.Errorf("after SIGQUIT: %v", ws)
	}
}

func TestIgnoreSIGTERMNeedsSIGKILL(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_IGNORE_SIGTERM=1"}})
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitEvent("signal", startTimeout)
	time.Sleep(300 * time.Millisecond)
	if !p.running() {
		t.Fatal("exited despite STANDIN_IGNORE_SIGTERM")
	}
	if code, _ := p.get("/ready"); code != 200 {
		t.Errorf("/ready after ignored SIGTERM = %d", code)
	}
	p.cmd.Process.Kill()
	ws := p.wait(exitTimeout).Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("wait status %v", ws)
	}
}

func TestOtherSignalsAreHarmless(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{})
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGPIPE} {
		p.cmd.Process.Signal(sig)
	}
	deadline := time.Now().Add(startTimeout)
	for len(p.events("signal")) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if !p.running() || len(p.events("signal")) != 2 {
		t.Errorf("running=%v signals=%v", p.running(), p.events("signal"))
	}
}

func TestDelaysStatusesAndGarbage(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_DELAY_PATHS=/ready:400ms", "STANDIN_STATUS_PATHS=/logging:500",
		"STANDIN_GARBAGE=/stats", "STANDIN_RECORD_SKIP=/server_info"}})
	t0 := time.Now()
	if code, _ := p.get("/ready"); code != 200 || time.Since(t0) < 400*time.Millisecond {
		t.Errorf("/ready took %v", time.Since(t0))
	}
	if code, _ := p.post("/logging?level=debug"); code != 500 {
		t.Errorf("/logging = %d, want forced 500", code)
	}
	if code, body := p.get("/stats?format=json"); code != 200 || json.Valid([]byte(body)) {
		t.Errorf("garbage /stats = %d %q", code, body)
	}
	p.get("/server_info")
	for _, ev := range p.events("admin") {
		if ev["path"] == "/server_info" {
			t.Errorf("/server_info recorded despite STANDIN_RECORD_SKIP")
		}
	}
}

func TestStdoutLines(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_STDOUT_LINES=5000", "STANDIN_STDERR_LINES=10"}})
	deadline := time.Now().Add(startTimeout)
	for len(p.events("lines_done")) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSuffix(p.stdout.String(), "\n"), "\n")
	if len(lines) != 5000 || lines[0] != "line 1" || lines[4999] != "line 5000" {
		t.Errorf("stdout has %d lines, first %q", len(lines), lines[0])
	}
	if !strings.Contains(p.stderr.String(), "stderr line 10\n") {
		t.Errorf("stderr lines missing")
	}
}

func TestOrphanOutlivesStandin(t *testing.T) {
	t.Parallel()
	p := start(t, runConfig{env: []string{"STANDIN_SPAWN_ORPHAN=20s"}})
	ev := p.waitEvent("orphan", startTimeout)
	pid := int(ev["child_pid"].(float64))
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(exitTimeout)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("orphan %d is gone after the stand-in exited: %v", pid, err)
	}
}

func TestRecordInterleavingAcrossProcesses(t *testing.T) {
	t.Parallel()
	rec := filepath.Join(t.TempDir(), "shared.jsonl")
	var cmds []*exec.Cmd
	for i := 0; i < 6; i++ {
		cmd := exec.Command(testenv.Standin(t), "--version")
		cmd.Env = append(os.Environ(), "STANDIN_RECORD="+rec)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(rec)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 12 {
		t.Fatalf("got %d record lines from 6 --version runs, want 12", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("torn record line %q", l)
		}
	}
}
