// Package examples tests the deployment examples in this directory as a user would paste them:
// the ECS task definitions (ecs/) against the task-definition fields they use, the Kubernetes
// manifests (kubernetes/) by strict decoding into the Kubernetes API types, and the agent's
// environment of each through `appnet-agent render --env-file`.
package examples

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/cli"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// The agent as the examples run it: the image's entrypoint, user and health check
// (Dockerfile; e2e/image_test.go keeps the image and the Dockerfile in step).
const (
	agentPath = "/usr/bin/appnet-agent"
	agentUID  = 1337
)

var probeCommand = []string{agentPath, "-envoyReadiness"}

// probeTimeout is how long one -envoyReadiness check may take: its request to /status times
// out after 3 s (docs/API.md, the readiness probe). An orchestrator's timeout must be longer.
const probeTimeout = 3

// Envoy versions to render with: the Dockerfile's default Envoy, and the last release that
// still has the aws_iam gRPC credentials of the App Mesh bootstrap.
const (
	envoyDefault = "0000000000000000000000000000000000000000/1.40.0/Clean/RELEASE/BoringSSL"
	envoyAppMesh = "0000000000000000000000000000000000000000/1.34.10/Clean/RELEASE/BoringSSL"
)

// deprecatedTracing is the warning every tracer of the reference bootstrap gets: it is the
// bootstrap's tracing field, which the Envoy API deprecates (Envoy still accepts it).
const deprecatedTracing = "tracing: deprecated field envoy.config.bootstrap.v3.Bootstrap.tracing"

// awsIamWarning is a fragment of the warning for a bootstrap with the aws_iam credentials
// that the Envoy in use no longer has.
const awsIamWarning = "removed the envoy.grpc_credentials.aws_iam extension"

// renderEnv runs `appnet-agent render --env-file FILE --facts FACTS` on lines (KEY=VALUE) with
// an Envoy of the given version, as `render` would in the container, and returns its stderr
// (the warnings). It fails t when the render fails.
func renderEnv(t *testing.T, lines []string, envoyVersion string) string {
	t.Helper()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "agent.env")
	factsFile := filepath.Join(dir, "facts.json")
	// Facts of a host where only the Envoy probe answers; the examples set AWS_REGION.
	facts := fmt.Sprintf(`{"envoy": {"version": %q}}`, envoyVersion)
	if err := os.WriteFile(envFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(factsFile, []byte(facts), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := cli.Main([]string{"render", "--env-file", envFile, "--facts", factsFile}, nil, &stdout, &stderr)
	if code != 0 || stdout.Len() == 0 {
		t.Fatalf("render --env-file of the agent's environment: exit %d\n%s\nenvironment:\n%s", code, stderr.String(),
			strings.Join(lines, "\n"))
	}
	return stderr.String()
}

// checkNoUnexpectedWarnings fails on a render warning other than those a host without
// metadata gives (interfaces, uname: the facts lack them) and those allowed.
func checkNoUnexpectedWarnings(t *testing.T, stderr string, allowed ...string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line == "" || !strings.Contains(line, "[warning]") || strings.Contains(line, "not in the platform facts") {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || strings.Contains(line, a)
		}
		if !ok {
			t.Errorf("unexpected render warning: %s", line)
		}
	}
}

// socketUnderMount checks that the xDS endpoint, when it is a Unix socket, lies in one of the
// container's mounts, so that the socket on the host is reachable.
func socketUnderMount(t *testing.T, xdsEndpoint string, mounts []string) {
	t.Helper()
	path, ok := strings.CutPrefix(xdsEndpoint, "unix://")
	if !ok {
		return
	}
	for _, m := range mounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m, "/")+"/") {
			return
		}
	}
	t.Errorf("the xDS socket %s is in none of the container's mounts %q", path, mounts)
}

func repoPath(elem ...string) string {
	return filepath.Join(append([]string{testenv.RepoRoot()}, elem...)...)
}
