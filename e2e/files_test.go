package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The files the agent and its commands write are
// never written through a link someone planted, and a bootstrap removed while Envoy runs is
// written again before Envoy restarts.

// plantSecret writes a file a planted link points at; its content must survive the run.
func plantSecret(t *testing.T, dir, content string) string {
	t.Helper()
	return writeFile(t, dir, "secret", content, 0o600)
}

func checkSecret(t *testing.T, a *agent, path, content string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != content {
		if a != nil {
			a.fatalf("the link's target %s was written through: %q (%v)", path, b, err)
		}
		t.Fatalf("the link's target %s was written through: %q (%v)", path, b, err)
	}
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// privateTmp runs the agent in a private mount namespace with a /tmp of its own (an empty
// tmpfs), so a test can plant files at the agent's fixed /tmp paths without touching the
// machine's /tmp. The test's directories under /tmp (its temp dir, the built binaries) are
// bind-mounted back at their paths; setup (shell commands) then prepares the new /tmp, and
// after runs once the agent has exited.
func (a *agent) privateTmp(setup, after string) {
	dirs := []string{a.dir, filepath.Dir(filepath.Dir(agentBin)), filepath.Dir(standinBin)}
	// mount resolves a source path itself unless told not to; ./ is the old /tmp (the cwd).
	script := "cd /tmp && mount -t tmpfs tmpfs /tmp"
	for _, d := range dirs {
		rel, err := filepath.Rel("/tmp", d)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // not under /tmp: visible as it is
		}
		script += fmt.Sprintf(" && mkdir -p '/tmp/%s' && mount --no-canonicalize --bind './%s' '/tmp/%s'", rel, rel, rel)
	}
	a.inMountNS(script+" && cd / && "+setup, after)
}

// TestSamplingRulesNeverWrittenThroughALink (item 1): a local user plants
// /tmp/sampling-rules.json -> a secret; the agent (root) refuses to start, naming the file and
// the variable, and the secret is untouched. The reference (and this agent before) replaced
// the secret with the sampling rules.
func TestSamplingRulesNeverWrittenThroughALink(t *testing.T) {
	t.Parallel()
	requireMountNS(t)
	a := newAgent(t, "ENABLE_ENVOY_XRAY_TRACING=1", "XRAY_SAMPLING_RATE=0.5")
	secret := plantSecret(t, a.dir, "root's secret\n")
	a.privateTmp("ln -s '"+secret+"' /tmp/sampling-rules.json", "true")
	if code := a.run(30 * time.Second); code != 1 {
		a.fatalf("exit code %d, want 1", code)
	}
	checkSecret(t, a, secret, "root's secret\n")
	errs := a.errorLines()
	if len(errs) != 1 || !strings.Contains(errs[0], "XRAY_SAMPLING_RATE") ||
		!strings.Contains(errs[0], "/tmp/sampling-rules.json is a symbolic link (to "+secret+")") {
		a.fatalf("want one error naming XRAY_SAMPLING_RATE and the link, got %q", errs)
	}
	if _, err := os.Stat(a.rec); err == nil && len(envoyStarts(a.events())) > 0 {
		a.fatalf("Envoy was started")
	}
}

// TestSamplingRulesWrittenInPrivateTmp: the same /tmp without a planted link gets the file,
// so the refusal above is about the link.
func TestSamplingRulesWrittenInPrivateTmp(t *testing.T) {
	t.Parallel()
	requireMountNS(t)
	a := newAgent(t, "ENABLE_ENVOY_XRAY_TRACING=1", "XRAY_SAMPLING_RATE=0.5", "APPNET_ENVOY_RESTART_COUNT=0", "STANDIN_EXIT_CODE=0")
	a.privateTmp("true", "cp /tmp/sampling-rules.json '"+a.dir+"/rules.json'")
	if code := a.run(30 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
	b, err := os.ReadFile(filepath.Join(a.dir, "rules.json"))
	if err != nil || !strings.Contains(string(b), `"rate":0.5`) {
		a.fatalf("sampling rules %q (%v)", b, err)
	}
}

// TestPlantedLinksStopTheStart (item 1): a link at ENVOY_CONFIG_FILE (to be generated: the
// target is empty) or at the log file ends the start with one error naming the variable; the
// targets are untouched.
func TestPlantedLinksStopTheStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string // the secret's
		plant   func(a *agent, secret string)
		want    []string
	}{
		{"ENVOY_CONFIG_FILE to be generated", "", func(a *agent, secret string) {
			a.setenv("ENVOY_CONFIG_FILE=" + symlink(a.t, secret, filepath.Join(a.dir, "envoy.yaml")))
		}, []string{"ENVOY_CONFIG_FILE:", "is a symbolic link", "followed only to read"}},
		{"log file", "secret\n", func(a *agent, secret string) {
			logs := filepath.Join(a.dir, "logs")
			mkdir(a.t, logs)
			symlink(a.t, secret, filepath.Join(logs, "appnet_envoy.log"))
			a.setenv("APPNET_ENVOY_LOG_DESTINATION=" + logs)
		}, []string{"APPNET_ENVOY_LOG_DESTINATION", "appnet_envoy.log is a symbolic link", "never writes through a link"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAgent(t)
			secret := plantSecret(t, t.TempDir(), tc.content)
			tc.plant(a, secret)
			if code := a.run(30 * time.Second); code != 1 {
				a.fatalf("exit code %d, want 1", code)
			}
			checkSecret(t, a, secret, tc.content)
			out := a.stderr()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					a.fatalf("stderr lacks %q", w)
				}
			}
		})
	}
}

// TestBootstrapRestoredBeforeRestart (item 13): the generated bootstrap lives in a 0700
// directory of the agent's own under TMPDIR; when someone removes it while Envoy runs, the
// agent writes it again before the restart, which then succeeds, and says so.
func TestBootstrapRestoredBeforeRestart(t *testing.T) {
	t.Parallel()
	a := newAgent(t, "ENVOY_CONFIG_FILE", "APPNET_ENVOY_RESTART_COUNT=2")
	a.start()
	up := a.waitEnvoyUp(1)
	argv := envoyStarts(a.events())[0].Argv
	i := slices.Index(argv, "-c")
	if i < 0 || i+1 >= len(argv) {
		a.fatalf("no -c in %q", argv)
	}
	boot := argv[i+1]
	if ok, _ := filepath.Match(filepath.Join(a.dir, "appnet-agent-*", "envoy-config.yaml"), boot); !ok {
		a.fatalf("bootstrap at %s, want TMPDIR/appnet-agent-*/envoy-config.yaml", boot)
	}
	if st, err := os.Lstat(filepath.Dir(boot)); err != nil || st.Mode() != fs.ModeDir|0o700 {
		a.fatalf("the bootstrap's directory: %v %v, want mode 0700", st, err)
	}
	want, err := os.ReadFile(boot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(boot)); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(up.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.waitEnvoyUp(2) // the stand-in, like Envoy, cannot start without its bootstrap
	if got, err := os.ReadFile(boot); err != nil || string(got) != string(want) {
		a.fatalf("the bootstrap was not written back as it was: %v", err)
	}
	if !strings.Contains(a.stderr(), "A file Envoy reads was removed or changed while Envoy ran; wrote it again from memory") {
		a.fatalf("the agent does not say it wrote the bootstrap again")
	}
	a.signal(syscall.SIGTERM)
	if code := a.wait(30 * time.Second); code != 0 {
		a.fatalf("exit code %d, want 0", code)
	}
}

// TestGoldenUpdateNeverWritesThroughALink (item 1): golden --update does not follow a case's
// NAME.yaml or NAME.error that is a link (it could lead out of the case directory): the case
// is reported broken, the link and its target stay as they were.
func TestGoldenUpdateNeverWritesThroughALink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := t.TempDir()
	cases := filepath.Join(dir, "cases")
	mkdir(t, cases)
	yamlSecret := writeFile(t, outside, "secret.yaml", "not: a bootstrap\n", 0o600)
	errSecret := writeFile(t, outside, "secret.error", "an error that will not come\n", 0o600)
	writeFile(t, cases, "a.env", offlineEnvFile, 0o644)
	symlink(t, yamlSecret, filepath.Join(cases, "a.yaml"))
	writeFile(t, cases, "b.env", "AWS_REGION=us-west-2\n", 0o644) // no node id: an error
	symlink(t, errSecret, filepath.Join(cases, "b.error"))
	res := runCommand(t, dir, nil, "golden", "--update", "cases")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	checkSecret(t, nil, yamlSecret, "not: a bootstrap\n")
	checkSecret(t, nil, errSecret, "an error that will not come\n")
	for _, name := range []string{"a.yaml", "b.error"} {
		p := filepath.Join(cases, name)
		if !strings.Contains(res.stdout, filepath.Join("cases", name)+" is a symbolic link") {
			t.Errorf("the report does not say %s is a link:\n%s", p, res.stdout)
		}
		if st, err := os.Lstat(p); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link", p)
		}
	}
}

// TestOutputFiles: -o and --junit write a link's target in place (the link
// stays), write a FIFO as a FIFO, take - as stdout, and create nothing for a dangling link.
func TestOutputFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envFile := writeFile(t, dir, "case.env", offlineEnvFile, 0o644)
	render := func(out string) cmdResult {
		return runCommand(t, dir, nil, "render", "--env-file", envFile, "-o", out)
	}
	stdout := render("-").mustSucceed(t, "render -o -").stdout
	if !strings.Contains(stdout, "node:") {
		t.Fatalf("-o - printed %q", stdout)
	}

	target := writeFile(t, dir, "target.yaml", "old\n", 0o640)
	link := symlink(t, "target.yaml", filepath.Join(dir, "link.yaml"))
	render(link).mustSucceed(t, "render -o link")
	if b, _ := os.ReadFile(target); string(b) != stdout {
		t.Fatalf("the link's target holds %q, want the bootstrap", b)
	}
	if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}

	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	render(fifo).mustSucceed(t, "render -o fifo")
	if s := <-got; s != stdout {
		t.Fatalf("the FIFO's reader got %q", s)
	}
	if st, _ := os.Lstat(fifo); st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatal("the FIFO was replaced by a file")
	}

	mkdir(t, filepath.Join(dir, "cases"))
	writeFile(t, filepath.Join(dir, "cases"), "a.env", offlineEnvFile, 0o644)
	writeFile(t, filepath.Join(dir, "cases"), "a.error", "no such error\n", 0o644)
	dangling := symlink(t, "missing.xml", filepath.Join(dir, "report.xml"))
	res := runCommand(t, dir, nil, "golden", "--junit", dangling, "cases")
	if res.code != 2 || !strings.Contains(res.stderr, "--junit") || !strings.Contains(res.stderr, "does not exist") {
		t.Fatalf("golden --junit to a dangling link: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, "missing.xml")); err == nil {
		t.Fatal("the dangling link's target was created")
	}
}
