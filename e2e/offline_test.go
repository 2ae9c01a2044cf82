package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// Tests of the platform teams' offline tools through the real binary: render --env-file,
// --env, --inherit-env and --facts, the facts command (golden_test.go has golden).

// silentListener accepts TCP connections and never answers: a metadata endpoint that would
// hang. It counts the connections it accepted.
func silentListener(t *testing.T) (url string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int32{}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c) // held open, never read or written
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String(), accepted
}

const offlineEnvFile = `# an App Mesh sidecar, as a platform team's case
AWS_REGION=us-west-2
APPMESH_RESOURCE_ARN=mesh/offline/virtualNode/web
AWS_EC2_METADATA_DISABLED=true
`

// TestRenderEnvFileIsHermetic: with --env-file/--env only those variables count; the
// process environment comes in only with --inherit-env, underneath them.
func TestRenderEnvFileIsHermetic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeFile(t, dir, "a.env", offlineEnvFile, 0o644)
	b := writeFile(t, dir, "b.env", "# later files win\nAPPMESH_RESOURCE_ARN=mesh/offline/virtualNode/api\n", 0o644)
	facts := writeFile(t, dir, "facts.json", `{"uname": {"machine": "x86_64", "release": "6.1.0"}, "interfaces": {}}`, 0o644)
	// What a CI machine might have set: none of it may reach the bootstrap.
	processEnv := []string{
		"PATH=/usr/bin:/bin", "AWS_REGION=eu-west-1", "APPMESH_RESOURCE_ARN=mesh/ci/virtualNode/leak",
		"ENABLE_ENVOY_XRAY_TRACING=true", "ENVOY_ADMIN_ACCESS_PORT=1234", "APPNET_ENVOY_PATH=" + standinBin,
	}
	hermetic := runCommand(t, dir, processEnv, "render", "--facts", facts, "--env-file", a).mustSucceed(t, "render --env-file")
	for _, leak := range []string{"eu-west-1", "mesh/ci", "xray", "1234"} {
		if strings.Contains(hermetic.stdout, leak) {
			t.Errorf("the process environment leaked into the bootstrap (%q):\n%s", leak, hermetic.stdout)
		}
	}
	if !strings.Contains(hermetic.stdout, "id: mesh/offline/virtualNode/web") || !strings.Contains(hermetic.stdout, "port_value: 9901") {
		t.Errorf("bootstrap not from the env file:\n%s", hermetic.stdout)
	}
	// The same variables as the whole process environment give the same bytes.
	plain := runCommand(t, dir, []string{"AWS_REGION=us-west-2", "APPMESH_RESOURCE_ARN=mesh/offline/virtualNode/web", "AWS_EC2_METADATA_DISABLED=true"},
		"render", "--facts", facts).mustSucceed(t, "plain render")
	if plain.stdout != hermetic.stdout {
		t.Errorf("render --env-file differs from render with the same environment:\n%s\n---\n%s", hermetic.stdout, plain.stdout)
	}

	layered := runCommand(t, dir, processEnv, "render", "--facts", facts, "--env-file", a, "--env-file", b,
		"--env", "ENVOY_ADMIN_ACCESS_PORT=9911", "--inherit-env").mustSucceed(t, "render --inherit-env")
	for _, want := range []string{
		"id: mesh/offline/virtualNode/api",                 // b.env over a.env over the process
		"appmesh-envoy-management.us-west-2.amazonaws.com", // a.env over the process
		"port_value: 9911",                                 // --env over everything
		"envoy.tracers.xray",                               // only the process has it
	} {
		if !strings.Contains(layered.stdout, want) {
			t.Errorf("--inherit-env: %q missing:\n%s", want, layered.stdout)
		}
	}
	onlyFlags := runCommand(t, dir, processEnv, "render", "--facts", facts, "--env", "AWS_REGION=us-west-2",
		"--env", "APPMESH_RESOURCE_ARN=mesh/offline/virtualNode/web", "--env", "AWS_EC2_METADATA_DISABLED=true").mustSucceed(t, "render --env")
	if onlyFlags.stdout != hermetic.stdout {
		t.Errorf("--env alone is not hermetic:\n%s", onlyFlags.stdout)
	}
}

// TestRenderFactsMakesNoNetworkCall: with --facts nothing is collected, even when every
// metadata endpoint would hang and the Envoy probe would leave a trace, and the output is
// the same bytes each time. The same run without --facts does call the endpoints, which
// shows the setup would catch a call.
func TestRenderFactsMakesNoNetworkCall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hang, accepted := silentListener(t)
	marker := filepath.Join(dir, "probed")
	envoy := writeFile(t, dir, "envoy", "#!/bin/sh\ntouch '"+marker+"'\necho 'envoy  version: x/1.29.0/Clean/RELEASE/BoringSSL'\n", 0o755)
	caseFile := writeFile(t, dir, "case.env", strings.Join([]string{
		"# no AWS_REGION: the region comes from instance metadata, ECS and K8s platform info from metadata too",
		"APPMESH_RESOURCE_ARN=mesh/offline/virtualNode/web",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + hang,
		"AWS_EXECUTION_ENV=AWS_ECS_FARGATE",
		"ECS_CONTAINER_METADATA_URI_V4=" + hang + "/v4/task",
		"APPMESH_PLATFORM_K8S_VERSION=v1.30", "APPMESH_PLATFORM_K8S_POD_UID=uid", "APPMESH_PLATFORM_APP_MESH_CONTROLLER_VERSION=v1.13",
		"APPNET_ENVOY_PATH=" + envoy,
	}, "\n")+"\n", 0o644)
	factsFile := filepath.Join(testenv.RepoRoot(), "examples", "platform-team", "facts.json")

	var outputs []string
	for i := range 2 {
		r := runCommand(t, dir, nil, "render", "--facts", factsFile, "--env-file", caseFile).mustSucceed(t, "render --facts")
		if r.elapsed >= platform.CallTimeout {
			t.Errorf("run %d took %v: as long as a metadata call's timeout", i, r.elapsed)
		}
		outputs = append(outputs, r.stdout)
		t.Logf("render --facts took %v", r.elapsed)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("render --facts opened %d connection(s) to the metadata endpoints", n)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("render --facts ran the Envoy probe")
	}
	if outputs[0] != outputs[1] {
		t.Errorf("two runs differ:\n%s\n---\n%s", outputs[0], outputs[1])
	}
	for _, want := range []string{"appmesh-envoy-management.us-west-2.amazonaws.com", "ecsTaskArn: arn:aws:ecs:us-west-2:111122223333:task/storefront/", "eth1:"} {
		if !strings.Contains(outputs[0], want) {
			t.Errorf("the facts file's %q is missing:\n%s", want, outputs[0])
		}
	}

	// Control: collecting for real calls the endpoints (and fails on them, within the budget).
	r := runCommand(t, dir, nil, "render", "--env-file", caseFile)
	if accepted.Load() == 0 {
		t.Errorf("without --facts no connection was made (exit %d): the test would not see one\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("without --facts the Envoy probe did not run: %v", err)
	}
}

// metadataMocks serves ECS task/container metadata and EC2 instance metadata (IMDSv2).
func metadataMocks(t *testing.T) (tmds, imds string) {
	t.Helper()
	task := `{"Cluster":"arn:aws:ecs:eu-west-1:1:cluster/c","TaskARN":"arn:aws:ecs:eu-west-1:1:task/c/t1","AvailabilityZone":"eu-west-1c",` +
		`"AvailabilityZoneID":"euw1-az3","Containers":[{"Type":"NORMAL","Networks":[{"NetworkMode":"awsvpc","IPv4Addresses":["10.1.2.3"],"IPv6Addresses":["2001:db8::3"]}]}]}`
	container := `{"Name":"envoy","Limits":{"CPU":0.25,"Memory":1024}}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v4/envoy/task":
			io.WriteString(w, task)
		case "/v4/envoy":
			io.WriteString(w, container)
		default:
			http.NotFound(w, r)
		}
	}))
	is := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := map[string]string{
			"/latest/meta-data/placement/region":               "eu-west-1",
			"/latest/meta-data/placement/availability-zone":    "eu-west-1a",
			"/latest/meta-data/placement/availability-zone-id": "euw1-az1",
		}
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			io.WriteString(w, "token")
		case r.Header.Get("X-aws-ec2-metadata-token") != "token":
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		case values[r.URL.Path] != "":
			io.WriteString(w, values[r.URL.Path])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(is.Close)
	return ts.URL + "/v4/envoy", is.URL
}

// TestFactsReplayReproducesRender: `facts` on a host, then `render --facts` with that file,
// gives exactly what `render` gives on that host (metadata mocks, a FIPS stand-in Envoy,
// the real interfaces and uname).
func TestFactsReplayReproducesRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tmds, imds := metadataMocks(t)
	host := []string{
		"PATH=/usr/bin:/bin",
		"APPMESH_RESOURCE_ARN=mesh/facts/virtualNode/web",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds,
		"AWS_EXECUTION_ENV=AWS_ECS_EC2",
		"ECS_CONTAINER_METADATA_URI_V4=" + tmds,
		"APPMESH_PLATFORM_K8S_VERSION=v1.30", "APPMESH_PLATFORM_K8S_POD_UID=uid", "APPMESH_PLATFORM_APP_MESH_CONTROLLER_VERSION=v1.13",
		"APPNET_ENVOY_PATH=" + standinBin,
		"STANDIN_VERSION=abc/1.29.4/Clean/RELEASE/BoringSSL-FIPS",
		"ENABLE_ENVOY_XRAY_TRACING=true",
	}
	facts := runCommand(t, dir, host, "facts").mustSucceed(t, "facts")
	if facts.stderr != "" {
		t.Errorf("facts warned on a host where every source answers:\n%s", facts.stderr)
	}
	factsFile := writeFile(t, dir, "facts.json", facts.stdout, 0o644)
	h, err := platform.DecodeHostFacts("facts.json", []byte(facts.stdout))
	if err != nil {
		t.Fatalf("facts output does not decode: %v\n%s", err, facts.stdout)
	}
	if h.Envoy == nil || !h.Envoy.FIPS || h.ECSContainer == nil || h.ECSContainer.CPU != "0.25" || h.InstanceMetadata == nil || h.InstanceMetadata.Region != "eu-west-1" {
		t.Errorf("facts = %s", facts.stdout)
	}

	live := runCommand(t, dir, host, "render").mustSucceed(t, "render")
	replayed := runCommand(t, dir, host, "render", "--facts", factsFile).mustSucceed(t, "render --facts")
	if live.stdout != replayed.stdout {
		t.Errorf("render --facts differs from render on the same host:\n--- render\n%s\n--- render --facts\n%s", live.stdout, replayed.stdout)
	}
	for _, want := range []string{"appmesh-envoy-management-fips.eu-west-1.amazonaws.com", "CPU: \"0.25\"", "AvailabilityZone: eu-west-1c", "systemKernelVersion:"} {
		if !strings.Contains(live.stdout, want) {
			t.Errorf("%q missing from the bootstrap (the mocks were not used?):\n%s", want, live.stdout)
		}
	}
	// A hermetic replay elsewhere (no metadata variables pointing anywhere real) gives it too.
	caseFile := writeFile(t, dir, "case.env", strings.Join(host[1:], "\n")+"\n", 0o644)
	offline := runCommand(t, dir, nil, "render", "--facts", factsFile, "--env-file", caseFile).mustSucceed(t, "render --facts --env-file")
	if offline.stdout != live.stdout {
		t.Errorf("render --facts --env-file differs from render:\n%s", offline.stdout)
	}
	// The CPU quota is a fact too: replayed, it decides Envoy's --concurrency as on its host.
	h.CPU = &platform.CPUQuota{CPUs: 1.5, Source: "/sys/fs/cgroup/cpu.max"}
	quota, err := platform.EncodeHostFacts(h)
	if err != nil {
		t.Fatal(err)
	}
	quotaFile := writeFile(t, dir, "quota.json", string(quota), 0o644)
	r := runCommand(t, dir, nil, "render", "--facts", quotaFile, "--env-file", caseFile).mustSucceed(t, "render --facts with a CPU quota")
	if r.stdout != live.stdout || !strings.Contains(r.stderr, "Envoy runs with --concurrency") || !strings.Contains(r.stderr, "concurrency=2") {
		t.Errorf("render --facts with a 1.5-CPU quota: stderr\n%s", r.stderr)
	}
}

// TestOfflineBadInput: every bad input names the file (and line or key) and stops with exit
// 1 (2 for flags) before anything is rendered.
func TestOfflineBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeFile(t, dir, "good.env", offlineEnvFile, 0o644)
	noEquals := writeFile(t, dir, "noequals.env", "# a case\nAWS_REGION=us-west-2\nAPPMESH_RESOURCE_ARN\n", 0o644)
	badKey := writeFile(t, dir, "badkey.env", "export AWS_REGION=us-west-2\n", 0o644)
	unknownFact := writeFile(t, dir, "unknown.json", "{\n  \"schema\": 1,\n  \"envoyVersion\": \"1.29\"\n}\n", 0o644)
	wrongType := writeFile(t, dir, "wrongtype.json", `{"ecsContainer": {"cpu": 256}}`, 0o644)
	notJSON := writeFile(t, dir, "notjson.json", "schema: 1\n", 0o644)
	missing := filepath.Join(dir, "missing.env")
	tests := []struct {
		name string
		args []string
		code int
		want []string // substrings of stderr
	}{
		{"missing env file", []string{"render", "--env-file", missing}, 1, []string{"error: env file: open " + missing + ": no such file or directory"}},
		{"unreadable env file (a directory)", []string{"render", "--env-file", dir}, 1, []string{"error: env file: read " + dir + ": is a directory"}},
		{"line without =", []string{"render", "--env-file", good, "--env-file", noEquals}, 1, []string{noEquals + `:3: want KEY=VALUE`, `"APPMESH_RESOURCE_ARN"`}},
		{"not a variable name", []string{"render", "--env-file", badKey}, 1, []string{badKey + ":1: want KEY=VALUE"}},
		{"bad --env", []string{"render", "--env", "NOEQUALS"}, 2, []string{`invalid value "NOEQUALS" for flag -env`}},
		{"missing facts file", []string{"render", "--env-file", good, "--facts", filepath.Join(dir, "none.json")}, 1, []string{"error: facts file: open " + filepath.Join(dir, "none.json")}},
		{"unknown fact", []string{"render", "--env-file", good, "--facts", unknownFact}, 1, []string{unknownFact + ":3: envoyVersion: unknown key (allowed: schema, envoy, instanceMetadata, ecsTask, ecsContainer, uname, interfaces, memory, cpu)"}},
		{"wrong fact type", []string{"render", "--env-file", good, "--facts", wrongType}, 1, []string{wrongType + ":1: ecsContainer.cpu: want a string, got the number 256"}},
		{"facts not JSON", []string{"render", "--env-file", good, "--facts", notJSON}, 1, []string{notJSON + ":1: not valid JSON"}},
		{"facts with a bad env file", []string{"facts", "--env-file", noEquals}, 1, []string{noEquals + ":3:"}},
		{"facts takes no arguments", []string{"facts", "x"}, 2, []string{"usage: appnet-agent facts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCommand(t, dir, []string{"PATH=/usr/bin:/bin"}, tt.args...)
			if r.code != tt.code || r.stdout != "" {
				t.Errorf("exit %d, want %d; stdout %q", r.code, tt.code, r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.stderr)
				}
			}
		})
	}

	// A duplicate key is a warning naming file and both lines; the later value wins.
	dup := writeFile(t, dir, "dup.env", offlineEnvFile+"APPMESH_RESOURCE_ARN=mesh/offline/virtualNode/second\n", 0o644)
	r := runCommand(t, dir, nil, "render", "--env-file", dup).mustSucceed(t, "render with a duplicate key")
	if !strings.Contains(r.stderr, "[warning]") || !strings.Contains(r.stderr, dup+":5: APPMESH_RESOURCE_ARN is also set on line 3; the later value wins") {
		t.Errorf("no duplicate-key warning:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "id: mesh/offline/virtualNode/second") {
		t.Errorf("the later value did not win:\n%s", r.stdout)
	}
}
