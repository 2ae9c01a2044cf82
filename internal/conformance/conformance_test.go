// Package conformance runs the bootstrap conformance corpus
// (its copy in testdata/conformance) through the real
// `appnet-agent render` binary. See that corpus's README for the contract.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const (
	buildTimeout = 15 * time.Minute // go-control-plane is large; CI machines are small
	runTimeout   = 20 * time.Second // per render; metadata calls are bounded at 2 s
	maxParallel  = 2                // the machines running this have two cores
	maxLogBytes  = 8 << 10
)

// Set by TestMain; a build failure is reported by TestConformance so that the
// helper tests still run while the binary is broken.
var (
	agentBin string
	buildErr error
	binDir   string // where TestMain builds; removed when the tests end
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "appnet-conformance-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	agentBin = filepath.Join(dir, "appnet-agent")
	buildErr = buildAgent(agentBin)
	return m.Run()
}

func buildAgent(out string, flags ...string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"build"}, flags...), "-o", out, ".")...)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s . (in %s): %v\n%s", out, root, err, output)
	}
	return nil
}

// runEnv is what every case shares: mocks, envoy stubs.
type runEnv struct {
	bin        string // the agent binary under test
	mocks      *mocks
	envoyStubs map[envoyKind]string
}

func TestConformance(t *testing.T) {
	if buildErr != nil {
		t.Fatalf("building the agent: %v", buildErr)
	}
	runCorpus(t, agentBin, nil)
}

// runCorpus runs every case of the corpus through bin's render, but those for which skip returns a reason.
func runCorpus(t *testing.T, bin string, skip func(*caseFile) string) {
	cases := mustLoadCases(t)
	env := &runEnv{bin: bin, mocks: startMocks(t, corpusFixturesDir()), envoyStubs: map[envoyKind]string{}}
	stubDir := t.TempDir()
	for kind, file := range map[envoyKind]string{envoyPlain: "envoy-version-plain.txt", envoyFIPS: "envoy-version-fips.txt"} {
		version, err := os.ReadFile(filepath.Join(corpusFixturesDir(), file))
		if err != nil {
			t.Fatal(err)
		}
		env.envoyStubs[kind] = filepath.Join(stubDir, "envoy-"+string(kind))
		if err := writeEnvoyStub(env.envoyStubs[kind], version); err != nil {
			t.Fatal(err)
		}
	}
	env.envoyStubs[envoyAbsent] = filepath.Join(stubDir, "no-such-envoy")

	sem := make(chan struct{}, maxParallel)
	for _, c := range cases {
		cf, err := readCaseFile(c.ID)
		if err != nil {
			t.Errorf("%s: %v", c.ID, err)
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			if skip != nil {
				if why := skip(cf); why != "" {
					t.Skip(why)
				}
			}
			// Cases with a side effect share the global samplingRulesPath: they
			// run in this sequential phase, before any parallel case starts.
			if cf.SamplingRules == nil {
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
			}
			env.runCase(t, c, cf)
		})
	}
}

// runResult is one finished render.
type runResult struct {
	stdout, stderr []byte
	exitCode       int
}

func (r *runResult) String() string {
	return fmt.Sprintf("exit code %d\nstderr:\n%s\nstdout:\n%s", r.exitCode, clip(r.stderr), clip(r.stdout))
}

func clip(b []byte) string {
	if len(b) > maxLogBytes {
		return string(b[:maxLogBytes]) + fmt.Sprintf("\n... (%d more bytes)", len(b)-maxLogBytes)
	}
	return string(b)
}

// caseRun is the per-case sandbox.
type caseRun struct {
	bin           string
	dir, fixtures string
	environ       []string
}

func (e *runEnv) runCase(t *testing.T, c corpusCase, cf *caseFile) {
	expected, err := os.ReadFile(filepath.Join(corpusCasesDir(), c.ID+string(c.Expect)))
	if err != nil {
		t.Fatal(err)
	}
	cr := &caseRun{bin: e.bin, dir: t.TempDir()}
	cr.fixtures = filepath.Join(cr.dir, "fixtures")
	if err := copyFixtures(corpusFixturesDir(), cr.fixtures); err != nil {
		t.Fatalf("copying fixtures: %v", err)
	}
	for _, d := range []string{"home", "tmp"} {
		if err := os.Mkdir(filepath.Join(cr.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// Only PATH (the binary runs uname), a private HOME (no ~/.aws config
	// leaks a region in) and a private TMPDIR, then the case's variables,
	// which win over the runner's APPNET_ENVOY_PATH should a case set it.
	cr.environ = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(cr.dir, "home"),
		"TMPDIR=" + filepath.Join(cr.dir, "tmp"),
		"APPNET_ENVOY_PATH=" + e.envoyStubs[cf.Envoy],
	}, cf.environ(placeholders{Fixtures: cr.fixtures, TMDS: e.mocks.TMDSBase(), IMDS: e.mocks.IMDSBase()})...)

	if cf.SamplingRules != nil {
		// Remove a stale file so that only this run can satisfy the check.
		if err := os.Remove(samplingRulesPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(samplingRulesPath) })
	}
	configFile := configFileState(t, cf, cr)

	res := cr.render(t)
	if bytes.Contains(res.stderr, []byte("panic:")) || bytes.Contains(res.stderr, []byte("goroutine ")) {
		t.Fatalf("the agent panicked:\n%s", res)
	}
	switch c.Expect {
	case expectError:
		checkError(t, expected, cr.fixtures, res)
	case expectYAML:
		if res.exitCode != 0 {
			t.Fatalf("want exit code 0 and a bootstrap, got:\n%s", res)
		}
		checkBootstrap(t, "stdout", expected, res.stdout, cr.fixtures, res)
		configFile.check(t)
		if cf.SamplingRules != nil {
			checkSamplingRules(t, cf.SamplingRules)
		}
	}
}

// render runs `appnet-agent render` in its own process group, so a timeout
// kills the agent and anything it started (e.g. a hanging envoy probe).
func (cr *caseRun) render(t *testing.T) *runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, cr.bin, "render")
	cmd.Dir = cr.dir
	cmd.Env = cr.environ
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second // do not wait forever on pipes held by strays
	err := cmd.Run()
	res := &runResult{stdout: stdout.Bytes(), stderr: stderr.Bytes(), exitCode: cmd.ProcessState.ExitCode()}
	if ctx.Err() != nil {
		t.Fatalf("render did not finish within %v:\n%s", runTimeout, res)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running %s: %v\n%s", cr.bin, err, res)
	}
	return res
}
