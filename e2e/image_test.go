package e2e

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/dispatch"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestImage builds the container image of `make image` (scripts/build-image.sh, with the three
// static binaries — the lean appnet-agent as the entrypoint, appnet-agent-full and
// appnet-agent-supervisor — and envoy-standin), checks that it is reproducible and agrees with
// the Dockerfile, unpacks it with umoci and runs it as a container runtime would, without one:
// its entrypoint, environment, user and working directory from the image config, as PID 1 of a
// new PID and mount namespace chrooted into the root filesystem (unshare), with the environment
// of the Service Connect task definition example. The Dockerfile's health check, run inside the
// same root as the same user, must pass, and so must `appnet-agent validate` of the bootstrap the
// agent wrote (a subcommand the entry point hands to appnet-agent-full); /status must say
// HEALTHY; SIGTERM must drain Envoy and end the container with exit 0.
func TestImage(t *testing.T) {
	needImageTools(t)
	bins := imageBinaries(t)
	dir := t.TempDir()
	start := time.Now()
	layout := buildImage(t, dir, "a", bins, standinBin)
	t.Logf("image built in %v", time.Since(start).Round(time.Millisecond))
	again := buildImage(t, dir, "b", bins, standinBin)
	if a, b := readFile(t, layout+".tar"), readFile(t, again+".tar"); a != b {
		t.Fatal("two builds of the image from the same binaries differ: the image is not reproducible")
	}
	img := readImage(t, layout, "test")
	t.Logf("image: %s, %d bytes compressed", img.manifestDigest, img.size)

	bundle := filepath.Join(dir, "bundle")
	if out, err := exec.Command("umoci", "unpack", "--image", layout+":test", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, out)
	}
	rootfs := filepath.Join(bundle, "rootfs")
	df := readDockerfile(t)
	t.Run("agrees with the Dockerfile", func(t *testing.T) { checkAgainstDockerfile(t, df, img.config, rootfs) })
	t.Run("installs the three binaries", func(t *testing.T) { checkBinaries(t, df, img.config, rootfs) })
	if t.Failed() {
		return
	}

	td := testenv.ReadTaskDefinition(t, filepath.Join(testenv.RepoRoot(), "examples", "ecs", "service-connect.json"))
	task := td.Container(t, "appnet-envoy")
	env := mergeEnv(img.config.Env, task.EnvLines(),
		// What a test adds: no instance metadata service here, a short minimum drain, a record.
		[]string{"AWS_EC2_METADATA_DISABLED=true", "APPNET_MIN_DRAIN_TIME_S=1", "STANDIN_RECORD=/tmp/standin.jsonl"})
	if task.User != "" && task.User != img.config.User {
		t.Errorf("the task definition runs the agent as %q, the image as %q", task.User, img.config.User)
	}
	c := startContainer(t, rootfs, img.config, env)

	probe := append([]string(nil), df.healthcheck...)
	var probeOut string
	if !testenv.Poll(30*time.Second, func() bool { code, out := c.exec(probe...); probeOut = out; return code == 0 }) {
		c.fatalf("the Dockerfile's health check %q never passed; its last output:\n%s", probe, probeOut)
	}
	// A subcommand the entry point hands to appnet-agent-full: found next to it in the image, run as the
	// image's user, the full validator accepts the bootstrap the lean build rendered.
	boots, _ := filepath.Glob(filepath.Join(rootfs, "tmp", "appnet-agent-*", "envoy-config.yaml"))
	if len(boots) != 1 {
		c.fatalf("want one bootstrap the agent wrote under /tmp in the container, found %q", boots)
	}
	boot := strings.TrimPrefix(boots[0], rootfs)
	if code, out := c.exec(productFiles[0], "validate", boot); code != 0 {
		c.fatalf("%s validate %s (through %s) exited %d in the container, want 0:\n%s", productFiles[0], boot, productFiles[1], code, out)
	}
	sock := filepath.Join(rootfs, envValue(env, "APPNET_AGENT_ADMIN_UDS_PATH", "/var/run/ecs/appnet_admin.sock"))
	res, err := testenv.UnixClient(sock).Get("http://agent/status")
	if err != nil {
		c.fatalf("GET /status over %s: %v", sock, err)
	}
	var st struct{ HealthStatus, EnvoyState string }
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || st.HealthStatus != "HEALTHY" {
		c.fatalf("/status: %+v (%v), want HEALTHY", st, err)
	}
	res.Body.Close()
	c.checkProcesses()

	c.signal(syscall.SIGTERM)
	if code := c.wait(30 * time.Second); code != 0 {
		c.fatalf("after SIGTERM the container exited %d, want 0", code)
	}
	evs := testenv.ReadRecord[event](t, filepath.Join(rootfs, "tmp", "standin.jsonl"), nil)
	admin := filter(evs, isEvent("admin"))
	for _, want := range []string{"/healthcheck/fail", "/drain_listeners"} {
		if !slices.ContainsFunc(admin, func(e event) bool { return e.Method == "POST" && e.Path == want }) {
			c.fatalf("Envoy got no POST %s during the shutdown", want)
		}
	}
	if exits := filter(evs, isEvent("exit")); len(exits) == 0 || exits[len(exits)-1].Reason != "signal" ||
		exits[len(exits)-1].Code == nil || *exits[len(exits)-1].Code != 0 {
		c.fatalf("Envoy did not exit 0 on the agent's SIGTERM: %+v", exits)
	}
}

// needImageTools skips the test, saying why, where it cannot run: it needs umoci (Debian's
// package; CI installs it, and there its absence is a failure), unshare and nsenter, and root for chroot,
// namespaces and the device node.
func needImageTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("umoci"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("umoci is not installed; .ci/run installs it (apt-get install umoci)")
		}
		t.Skip("umoci is not installed (Debian: apt-get install umoci); `make image` needs it too")
	}
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (util-linux) is not installed", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("running the image needs root (chroot, PID and mount namespaces, /dev/null)")
	}
}

// productBinaries are the binaries the image ships, as `make build` builds them.
type productBinaries struct {
	entry, full, supervisor string
}

// imageBinaries are the three binaries as installed, which TestMain builds side by side (testenv.AgentBinary:
// the lean entry point, appnet-agent-full and appnet-agent-supervisor); static, as testenv builds with
// CGO_ENABLED=0, but not under -race.
func imageBinaries(t *testing.T) productBinaries {
	t.Helper()
	entry := agentBin
	if raceBuild {
		var err error
		if entry, err = testenv.AgentBinary(); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Dir(entry)
	return productBinaries{entry: entry, full: filepath.Join(dir, dispatch.FullName),
		supervisor: filepath.Join(dir, "appnet-agent-supervisor")}
}

// buildImage runs scripts/build-image.sh into dir/name (an OCI layout tagged "test", and
// dir/name.tar, its archive) with a fixed epoch, so two builds can be compared.
func buildImage(t *testing.T, dir, name string, bins productBinaries, envoy string) string {
	t.Helper()
	layout := filepath.Join(dir, name)
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(), "scripts", "build-image.sh"), "--out", layout, "--tag", "test",
		"--agent", bins.entry, "--full", bins.full, "--supervisor", bins.supervisor, "--envoy", envoy,
		"--epoch", "1700000000", "--version", "v0.0.0-test", "--archive", layout+".tar")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-image.sh: %v\n%s", err, out)
	}
	return layout
}

// imageConfig is the part of an OCI image configuration a runtime uses to start a container.
type imageConfig struct {
	User       string
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	StopSignal string
}

type image struct {
	manifestDigest string
	size           int64 // config and layers, as stored
	config         imageConfig
}

type ociDescriptor struct {
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
}

// readImage reads the manifest and configuration of tag from an OCI image layout.
func readImage(t *testing.T, layout, tag string) image {
	t.Helper()
	blob := func(digest string, v any) {
		t.Helper()
		path := filepath.Join(layout, "blobs", strings.Replace(digest, ":", string(filepath.Separator), 1))
		if err := json.Unmarshal([]byte(readFile(t, path)), v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var index struct{ Manifests []ociDescriptor }
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(layout, "index.json"))), &index); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(index.Manifests, func(d ociDescriptor) bool {
		return d.Annotations["org.opencontainers.image.ref.name"] == tag
	})
	if i < 0 {
		t.Fatalf("no tag %q in %s", tag, layout)
	}
	var manifest struct {
		Config ociDescriptor
		Layers []ociDescriptor
	}
	blob(index.Manifests[i].Digest, &manifest)
	var cfg struct {
		Architecture, OS string
		Config           imageConfig
	}
	blob(manifest.Config.Digest, &cfg)
	img := image{manifestDigest: index.Manifests[i].Digest, size: manifest.Config.Size, config: cfg.Config}
	for _, l := range manifest.Layers {
		img.size += l.Size
	}
	if cfg.OS != "linux" || cfg.Architecture == "" {
		t.Errorf("image platform %s/%s, want linux and an architecture", cfg.OS, cfg.Architecture)
	}
	return img
}

// dockerfile is what the Dockerfile's final stage sets for the container.
type dockerfile struct {
	entrypoint, cmd, healthcheck []string
	user, stopSignal             string
	env                          map[string]string
	built                        []string // paths the COPY --from=build instructions install
}

// readDockerfile parses the instructions of the Dockerfile's final stage that shape the
// container (continuation lines joined, comments dropped; exec-form JSON only).
func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	df := dockerfile{env: map[string]string{}}
	jsonArgs := func(s string) []string {
		var v []string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("Dockerfile: %q is not an exec-form JSON array: %v", s, err)
		}
		return v
	}
	var line string
	sc := bufio.NewScanner(strings.NewReader(readFile(t, filepath.Join(testenv.RepoRoot(), "Dockerfile"))))
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(text, `\`); ok {
			line += cont + " "
			continue
		}
		line += text
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		line = ""
		switch strings.ToUpper(instr) {
		case "FROM":
			df = dockerfile{env: map[string]string{}} // only the final stage counts
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || strings.ContainsAny(v, `"'$`) {
					t.Fatalf("Dockerfile: ENV %q: want plain KEY=VALUE pairs", kv)
				}
				df.env[k] = v
			}
		case "USER":
			df.user = rest
		case "COPY":
			if args := strings.Fields(rest); slices.Contains(args, "--from=build") {
				args = slices.DeleteFunc(args, func(a string) bool { return strings.HasPrefix(a, "--") })
				if len(args) < 2 || !strings.HasSuffix(args[len(args)-1], "/") {
					t.Fatalf("Dockerfile: COPY %q: want sources and a destination directory", rest)
				}
				for _, src := range args[:len(args)-1] {
					df.built = append(df.built, args[len(args)-1]+filepath.Base(src))
				}
			}
		case "STOPSIGNAL":
			df.stopSignal = rest
		case "ENTRYPOINT":
			df.entrypoint = jsonArgs(rest)
		case "CMD":
			df.cmd = jsonArgs(rest)
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, " CMD ")
			if !ok {
				t.Fatalf("Dockerfile: HEALTHCHECK %q has no CMD", rest)
			}
			df.healthcheck = jsonArgs(cmd)
		}
	}
	return df
}

// checkAgainstDockerfile compares the built image with the Dockerfile's final stage: the same
// entrypoint, arguments, user, stop signal and agent settings; only where Envoy lives differs
// (the Envoy image keeps it in /usr/local/bin), and it must be in the image where it says.
func checkAgainstDockerfile(t *testing.T, df dockerfile, cfg imageConfig, rootfs string) {
	if !slices.Equal(cfg.Entrypoint, df.entrypoint) || len(cfg.Cmd) != 0 || len(df.cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q, the Dockerfile's %q %q", cfg.Entrypoint, cfg.Cmd, df.entrypoint, df.cmd)
	}
	if cfg.User != df.user || cfg.StopSignal != df.stopSignal {
		t.Errorf("user %q stop signal %q, the Dockerfile's %q %q", cfg.User, cfg.StopSignal, df.user, df.stopSignal)
	}
	for k, v := range df.env {
		got := envValue(cfg.Env, k, "")
		switch {
		case got == "":
			t.Errorf("the image does not set %s (the Dockerfile sets %s)", k, v)
		case k == "APPNET_ENVOY_PATH":
			checkExecutable(t, rootfs, got)
		case got != v:
			t.Errorf("the image sets %s=%s, the Dockerfile %s", k, got, v)
		}
	}
	for _, path := range []string{df.entrypoint[0], df.healthcheck[0]} {
		checkExecutable(t, rootfs, path)
	}
	if len(df.healthcheck) < 2 || df.healthcheck[1] != "-envoyReadiness" {
		t.Errorf("the Dockerfile's health check is %q, want the agent's -envoyReadiness", df.healthcheck)
	}
	for _, file := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/cert.pem"} {
		if st, err := os.Stat(filepath.Join(rootfs, file)); err != nil || st.Size() == 0 {
			t.Errorf("CA bundle %s: %v", file, err)
		}
	}
}

// productFiles are the binaries of the product, installed side by side; the first is the
// entry point, the lean build, which execs the other two from its own directory.
var productFiles = []string{"/usr/bin/appnet-agent", "/usr/bin/appnet-agent-full", "/usr/bin/appnet-agent-supervisor"}

// checkBinaries checks that the Dockerfile and the image install the three binaries, executable,
// in one directory, with the entry point unchanged (/usr/bin/appnet-agent, the lean build; the
// health check runs it too) and appnet-agent-full the full build.
func checkBinaries(t *testing.T, df dockerfile, cfg imageConfig, rootfs string) {
	if got := slices.Sorted(slices.Values(df.built)); !slices.Equal(got, productFiles) {
		t.Errorf("the Dockerfile installs %q from its build stage, want %q", got, productFiles)
	}
	if !slices.Equal(cfg.Entrypoint, productFiles[:1]) || len(df.healthcheck) == 0 || df.healthcheck[0] != productFiles[0] {
		t.Errorf("entrypoint %q, health check %q: want both to run %s", cfg.Entrypoint, df.healthcheck, productFiles[0])
	}
	for _, path := range productFiles {
		checkExecutable(t, rootfs, path)
	}
	lean := func(path string) bool {
		out, err := exec.Command("go", "version", "-m", filepath.Join(rootfs, path)).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", path, err)
		}
		return regexp.MustCompile(`(?m)^\s*build\s+-tags=(\S+,)?appnet_lean(,\S+)?$`).Match(out)
	}
	if !lean(productFiles[0]) {
		t.Errorf("%s is not the lean build (go version -m shows no -tags=appnet_lean)", productFiles[0])
	}
	if lean(productFiles[1]) {
		t.Errorf("%s is the lean build; it must be the full one", productFiles[1])
	}
}

func checkExecutable(t *testing.T, rootfs, path string) {
	t.Helper()
	if st, err := os.Stat(filepath.Join(rootfs, path)); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("%s is not an executable file in the image (%v)", path, err)
	}
}

// mergeEnv is base overridden by each layer in turn, key by key, as a runtime combines the
// image's environment with the container's.
func mergeEnv(base []string, layers ...[]string) []string {
	out := slices.Clone(base)
	for _, layer := range layers {
		for _, kv := range layer {
			k, _, _ := strings.Cut(kv, "=")
			out = slices.DeleteFunc(out, func(o string) bool { return strings.HasPrefix(o, k+"=") })
			out = append(out, kv)
		}
	}
	return out
}

// envValue is key's value in env, or def.
func envValue(env []string, key, def string) string {
	for _, kv := range slices.Backward(env) {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return def
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// container is the image's entrypoint running under unshare.
type container struct {
	t      *testing.T
	rootfs string
	user   []string // unshare's --setuid/--setgid
	env    []string
	cmd    *exec.Cmd
	out    *testenv.SafeBuffer
	done   chan struct{}
}

// startContainer starts cfg's entrypoint in rootfs as a runtime would: a new PID namespace
// (the agent is PID 1) and mount namespace with its own /proc, /dev/null, the image's user
// and working directory, and env (only).
func startContainer(t *testing.T, rootfs string, cfg imageConfig, env []string) *container {
	t.Helper()
	for _, d := range []string{"proc", "dev"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("mknod", "-m", "666", filepath.Join(rootfs, "dev", "null"), "c", "1", "3").CombinedOutput(); err != nil {
		t.Fatalf("mknod /dev/null: %v\n%s", err, out)
	}
	uid, gid, ok := strings.Cut(cfg.User, ":")
	if !ok {
		gid = uid
	}
	c := &container{t: t, rootfs: rootfs, user: []string{"--setuid=" + uid, "--setgid=" + gid}, env: env,
		out: &testenv.SafeBuffer{}, done: make(chan struct{})}
	args := append([]string{"--fork", "--kill-child", "--pid", "--mount", "--mount-proc", "--root=" + rootfs,
		"--wd=" + cmp.Or(cfg.WorkingDir, "/")}, c.user...)
	args = append(append(append(args, "--"), cfg.Entrypoint...), cfg.Cmd...)
	c.cmd = exec.Command("unshare", args...)
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		// The namespace's PID 1 first: its death ends every process in it. unshare's --kill-child
		// alone does not reach it once it has switched to the image's user (a change of
		// credentials clears the parent-death signal), and what survives keeps the output pipe open.
		if kids := descendants(c.cmd.Process.Pid); len(kids) > 0 {
			_ = syscall.Kill(kids[0], syscall.SIGKILL)
		}
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// exec runs argv in the container as a runtime runs a health check: in its mount and PID
// namespaces (its /proc), root and working directory, as its user and with its environment. It
// returns the exit code and the output.
func (c *container) exec(argv ...string) (int, string) {
	args := append(append([]string{"--target", strconv.Itoa(c.agentPid()), "--mount", "--pid", "--root", "--wd"},
		c.user...), "--")
	cmd := exec.Command("nsenter", append(args, argv...)...)
	cmd.Env = c.env
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// agentPid is the host pid of the container's PID 1 (the agent), the child of unshare.
func (c *container) agentPid() int {
	c.t.Helper()
	var pid int
	if !testenv.Poll(10*time.Second, func() bool {
		kids := descendants(c.cmd.Process.Pid)
		if len(kids) > 0 {
			pid = kids[0]
		}
		return pid > 0
	}) {
		c.fatalf("unshare started no process")
	}
	return pid
}

// checkProcesses checks that the agent is PID 1 of its namespace and that it and Envoy run
// as the image's user.
func (c *container) checkProcesses() {
	c.t.Helper()
	pid := c.agentPid()
	status := readFile(c.t, fmt.Sprintf("/proc/%d/status", pid))
	if !strings.Contains(status, fmt.Sprintf("\nNSpid:\t%d\t1\n", pid)) {
		c.fatalf("the agent is not PID 1 of its PID namespace:\n%s", status)
	}
	uid := strings.TrimPrefix(c.user[0], "--setuid=")
	for _, p := range append([]int{pid}, descendants(pid)...) {
		st := readFile(c.t, fmt.Sprintf("/proc/%d/status", p))
		if !strings.Contains(st, fmt.Sprintf("\nUid:\t%s\t%s\t%s\t%s\n", uid, uid, uid, uid)) {
			c.fatalf("process %d does not run as uid %s:\n%s", p, uid, st)
		}
	}
}

// signal sends sig to the agent, as a runtime stopping the container does.
func (c *container) signal(sig syscall.Signal) {
	c.t.Helper()
	if err := syscall.Kill(c.agentPid(), sig); err != nil {
		c.fatalf("signalling the agent: %v", err)
	}
}

// wait returns the container's exit code (unshare passes on its child's).
func (c *container) wait(timeout time.Duration) int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.fatalf("the container still runs after %v", timeout)
	}
	return c.cmd.ProcessState.ExitCode()
}

func (c *container) fatalf(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("%s\n--- container output:\n%s", fmt.Sprintf(format, args...), tail(c.out.String(), 6000))
}
