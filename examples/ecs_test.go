package examples

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Allowed values of the ECS task-definition fields the examples use (ECS API reference,
// RegisterTaskDefinition).
var (
	ecsNetworkModes    = []string{"bridge", "host", "awsvpc", "none"}
	ecsCompatibilities = []string{"EC2", "FARGATE", "EXTERNAL"}
	ecsConditions      = []string{"START", "COMPLETE", "SUCCESS", "HEALTHY"}
	ecsLogDrivers      = []string{"awslogs", "fluentd", "gelf", "json-file", "journald", "logentries", "splunk", "syslog", "awsfirelens"}
	ecsUlimits         = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}
	ecsProtocols       = []string{"tcp", "udp"}
	ecsAppProtocols    = []string{"http", "http2", "grpc"}
)

// ecsMetadataURI is the variable ECS sets in every container of a task (task metadata v4).
const ecsMetadataURI = "ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/0123456789abcdef-1234567890"

// TestECSTaskDefinitions checks each example task definition against the task-definition
// fields it uses (strictly decoded: names and JSON types), their allowed values and the rules
// between them, then renders the agent container's environment with `render --env-file`.
func TestECSTaskDefinitions(t *testing.T) {
	tests := []struct {
		file, agent string
		envoy       string // the Envoy the example needs
		appMesh     bool   // App Mesh: traffic redirection, and Envoy < 1.35
	}{
		{file: "service-connect.json", agent: "appnet-envoy", envoy: envoyDefault},
		{file: "appmesh.json", agent: "envoy", envoy: envoyAppMesh, appMesh: true},
		{file: "relay-daemon.json", agent: "appnet-relay", envoy: envoyDefault},
		{file: "batch-job.json", agent: "appnet-envoy", envoy: envoyDefault},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			td := testenv.ReadTaskDefinition(t, repoPath("examples", "ecs", tt.file))
			checkTaskDefinition(t, td)
			agent := td.Container(t, tt.agent)
			checkAgentContainer(t, td, agent)
			if tt.appMesh {
				checkProxyConfiguration(t, td, agent)
			}
			// ECS gives every container the task metadata endpoint.
			secrets := secretLines(t, td, agent, envValue(agent.EnvLines(), "AWS_REGION"))
			lines := append(append(agent.EnvLines(), ecsMetadataURI), secrets...)
			warnings := renderEnv(t, lines, tt.envoy)
			checkNoUnexpectedWarnings(t, warnings, deprecatedTracing)
			for _, s := range agent.Secrets {
				if !strings.Contains(warnings, "inline configuration variable="+s.Name+" ") {
					t.Errorf("render did not read the secret %s:\n%s", s.Name, warnings)
				}
			}
			if tt.appMesh {
				// The example says it needs an Envoy older than 1.35; with 1.40 the agent must warn.
				if newer := renderEnv(t, lines, envoyDefault); !strings.Contains(newer, awsIamWarning) {
					t.Errorf("no aws_iam warning rendering the App Mesh example for Envoy 1.40:\n%s", newer)
				}
			}
		})
	}
}

// checkTaskDefinition checks the structure: required keys, allowed values, and references
// between containers and volumes.
func checkTaskDefinition(t *testing.T, td *testenv.TaskDefinition) {
	t.Helper()
	if td.Family == "" || len(td.ContainerDefinitions) == 0 {
		t.Fatalf("family and containerDefinitions are required")
	}
	oneOf(t, "networkMode", td.NetworkMode, ecsNetworkModes)
	for _, c := range td.RequiresCompatibilities {
		oneOf(t, "requiresCompatibilities", c, ecsCompatibilities)
	}
	fargate := slices.Contains(td.RequiresCompatibilities, "FARGATE")
	if fargate && (td.NetworkMode != "awsvpc" || td.CPU == "" || td.Memory == "") {
		t.Errorf("FARGATE needs networkMode awsvpc and task-level cpu and memory")
	}
	volumes := map[string]bool{}
	for _, v := range td.Volumes {
		if v.Name == "" || volumes[v.Name] {
			t.Errorf("volume name %q empty or repeated", v.Name)
		}
		if fargate && v.Host != nil && v.Host.SourcePath != "" {
			t.Errorf("volume %s: FARGATE has no host paths", v.Name)
		}
		volumes[v.Name] = true
	}
	names := map[string]*testenv.ContainerDefinition{}
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.Name == "" || c.Image == "" || names[c.Name] != nil {
			t.Errorf("container %q: name (unique) and image are required", c.Name)
		}
		names[c.Name] = c
		if td.Memory == "" && c.Memory == 0 && c.MemoryReservation == 0 {
			t.Errorf("container %s: memory or memoryReservation is required without a task-level memory", c.Name)
		}
		checkContainer(t, c, volumes, fargate)
	}
	for _, c := range td.ContainerDefinitions {
		for _, d := range c.DependsOn {
			oneOf(t, c.Name+": dependsOn condition", d.Condition, ecsConditions)
			target := names[d.ContainerName]
			switch {
			case target == nil:
				t.Errorf("container %s depends on %q, which is not in the task", c.Name, d.ContainerName)
			case d.Condition == "HEALTHY" && target.HealthCheck == nil:
				t.Errorf("container %s waits for %s to be HEALTHY, which has no healthCheck", c.Name, d.ContainerName)
			case (d.Condition == "SUCCESS" || d.Condition == "COMPLETE") && target.Essential != nil && *target.Essential:
				t.Errorf("container %s waits for %s to exit, which is essential (its exit stops the task)", c.Name, d.ContainerName)
			}
		}
	}
}

// checkContainer checks one container's fields against their allowed values.
func checkContainer(t *testing.T, c *testenv.ContainerDefinition, volumes map[string]bool, fargate bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range c.Environment {
		if e.Name == "" || seen[e.Name] {
			t.Errorf("container %s: environment name %q empty or repeated", c.Name, e.Name)
		}
		seen[e.Name] = true
	}
	for _, p := range c.PortMappings {
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			t.Errorf("container %s: containerPort %d", c.Name, p.ContainerPort)
		}
		oneOf(t, c.Name+": protocol", cmp.Or(p.Protocol, "tcp"), ecsProtocols)
		if p.AppProtocol != "" {
			oneOf(t, c.Name+": appProtocol", p.AppProtocol, ecsAppProtocols)
		}
	}
	for _, m := range c.MountPoints {
		if !volumes[m.SourceVolume] || !strings.HasPrefix(m.ContainerPath, "/") {
			t.Errorf("container %s: mount of %q at %q: no such volume, or a relative path", c.Name, m.SourceVolume, m.ContainerPath)
		}
	}
	if hc := c.HealthCheck; hc != nil {
		checkHealthCheck(t, c.Name, hc)
	}
	if c.StopTimeout != nil && (*c.StopTimeout < 2 || *c.StopTimeout > 120) {
		t.Errorf("container %s: stopTimeout %d outside 2..120", c.Name, *c.StopTimeout)
	}
	for _, u := range c.Ulimits {
		oneOf(t, c.Name+": ulimit", u.Name, ecsUlimits)
		if u.SoftLimit > u.HardLimit || u.SoftLimit < 0 {
			t.Errorf("container %s: ulimit %s soft %d above hard %d", c.Name, u.Name, u.SoftLimit, u.HardLimit)
		}
	}
	if lc := c.LogConfiguration; lc != nil {
		oneOf(t, c.Name+": logDriver", lc.LogDriver, ecsLogDrivers)
		if lc.LogDriver == "awslogs" {
			required := []string{"awslogs-group", "awslogs-region"}
			if fargate {
				required = append(required, "awslogs-stream-prefix")
			}
			for _, k := range required {
				if lc.Options[k] == "" {
					t.Errorf("container %s: awslogs needs the option %s", c.Name, k)
				}
			}
		}
	}
}

// checkHealthCheck checks the command form (CMD with the executable and its arguments, or
// CMD-SHELL with one shell command) and the documented ranges.
func checkHealthCheck(t *testing.T, name string, hc *testenv.ECSHealthCheck) {
	t.Helper()
	switch {
	case len(hc.Command) == 0:
		t.Errorf("container %s: healthCheck without a command", name)
	case hc.Command[0] == "CMD" && len(hc.Command) < 2, hc.Command[0] == "CMD-SHELL" && len(hc.Command) != 2:
		t.Errorf("container %s: healthCheck command %q: CMD takes the executable and its arguments, CMD-SHELL one shell command", name, hc.Command)
	case hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL":
		t.Errorf("container %s: healthCheck command %q must start with CMD or CMD-SHELL", name, hc.Command)
	}
	for _, r := range []struct {
		field       string
		v, lo, hi   int
		zeroIsUnset bool
	}{
		{"interval", hc.Interval, 5, 300, true}, {"timeout", hc.Timeout, 2, 60, true},
		{"retries", hc.Retries, 1, 10, true}, {"startPeriod", hc.StartPeriod, 0, 300, false},
	} {
		if (r.v != 0 || !r.zeroIsUnset) && (r.v < r.lo || r.v > r.hi) {
			t.Errorf("container %s: healthCheck %s %d outside %d..%d", name, r.field, r.v, r.lo, r.hi)
		}
	}
}

// checkAgentContainer checks what the agent container needs: the agent's readiness probe as
// its health check, with time for one check; the image's user; room to drain before ECS kills
// it; enough file descriptors for Envoy; logs; the app containers waiting for it; and the xDS
// socket reachable.
func checkAgentContainer(t *testing.T, td *testenv.TaskDefinition, agent *testenv.ContainerDefinition) {
	t.Helper()
	hc := agent.HealthCheck
	if hc == nil || !slices.Equal(hc.Command, append([]string{"CMD"}, probeCommand...)) {
		t.Errorf("agent health check %+v, want CMD %q", hc, probeCommand)
	} else if hc.Timeout <= probeTimeout {
		t.Errorf("agent health check timeout %d s: one -envoyReadiness check may take %d s", hc.Timeout, probeTimeout)
	}
	if uid, _, _ := strings.Cut(agent.User, ":"); uid != strconv.Itoa(agentUID) {
		t.Errorf("agent user %q, want the image's uid %d", agent.User, agentUID)
	}
	if agent.Essential == nil || !*agent.Essential {
		t.Error("the agent container must be essential: without Envoy the task has no traffic")
	}
	env := agent.EnvLines()
	drain := envInt(t, env, "LISTENER_DRAIN_WAIT_TIME_S", 20)
	// In a task (not the relay) the agent also waits for the application to stop, up to
	// APPNET_APP_EXIT_WAIT_S past the drain (README "Task lifecycle").
	appWait := 0
	if envValue(env, "APPNET_ENABLE_RELAY_MODE_FOR_XDS") != "true" && envValue(env, "APPNET_WAIT_FOR_APP_EXIT") != "false" {
		appWait = envInt(t, env, "APPNET_APP_EXIT_WAIT_S", 5)
	}
	if agent.StopTimeout == nil || *agent.StopTimeout < drain+appWait+10 {
		t.Errorf("agent stopTimeout %v: the drain takes up to LISTENER_DRAIN_WAIT_TIME_S (%d s), the wait for the application %d s more, and Envoy 5 s more",
			agent.StopTimeout, drain, appWait)
	}
	checkJob(t, td, agent)
	if !slices.ContainsFunc(agent.Ulimits, func(u testenv.ECSUlimit) bool { return u.Name == "nofile" && u.SoftLimit >= 65535 }) {
		t.Error("the agent container needs a nofile ulimit of at least 65535 (Envoy holds a descriptor per connection)")
	}
	if agent.LogConfiguration == nil {
		t.Error("the agent container has no logConfiguration")
	}
	for _, c := range td.ContainerDefinitions {
		if c.Name == agent.Name || (c.Essential != nil && !*c.Essential) {
			continue
		}
		if !slices.Contains(c.DependsOn, testenv.ECSDependency{ContainerName: agent.Name, Condition: "HEALTHY"}) {
			t.Errorf("container %s does not wait for %s to be HEALTHY", c.Name, agent.Name)
		}
	}
	var mounts []string
	for _, m := range agent.MountPoints {
		mounts = append(mounts, m.ContainerPath)
	}
	if xds := envValue(agent.EnvLines(), "APPMESH_XDS_ENDPOINT"); xds != "" {
		socketUnderMount(t, xds, mounts)
	}
	if relay := envValue(agent.EnvLines(), "APPNET_RELAY_LISTENER_UDS_PATH"); relay != "" {
		socketUnderMount(t, "unix://"+relay, mounts)
	}
}

// checkJob checks a task whose agent exits when the application does
// (APPNET_EXIT_WHEN_APP_EXITS): the containers it names exist and are not essential — an
// essential one's exit would stop the task without the agent — and wait for the agent.
func checkJob(t *testing.T, td *testenv.TaskDefinition, agent *testenv.ContainerDefinition) {
	t.Helper()
	env := agent.EnvLines()
	if envValue(env, "APPNET_EXIT_WHEN_APP_EXITS") != "true" {
		return
	}
	names := strings.Split(envValue(env, "APPNET_APP_CONTAINERS"), ",")
	if names[0] == "" {
		t.Fatal("APPNET_EXIT_WHEN_APP_EXITS without APPNET_APP_CONTAINERS: name the job's containers")
	}
	for _, n := range names {
		c := td.Container(t, n)
		if c.Essential == nil || *c.Essential {
			t.Errorf("job container %s is essential: its exit would stop the task before the agent drains", n)
		}
		if !slices.Contains(c.DependsOn, testenv.ECSDependency{ContainerName: agent.Name, Condition: "HEALTHY"}) {
			t.Errorf("job container %s does not wait for %s to be HEALTHY", n, agent.Name)
		}
	}
}

// checkProxyConfiguration checks App Mesh's traffic redirection: it names the agent container
// and leaves the agent's own traffic (its uid) alone.
func checkProxyConfiguration(t *testing.T, td *testenv.TaskDefinition, agent *testenv.ContainerDefinition) {
	t.Helper()
	pc := td.ProxyConfiguration
	if pc == nil || pc.Type != "APPMESH" || pc.ContainerName != agent.Name {
		t.Fatalf("proxyConfiguration %+v, want type APPMESH for container %s", pc, agent.Name)
	}
	props := map[string]string{}
	for _, p := range pc.Properties {
		props[p.Name] = p.Value
	}
	for _, k := range []string{"ProxyIngressPort", "ProxyEgressPort", "AppPorts"} {
		if props[k] == "" {
			t.Errorf("proxyConfiguration lacks %s", k)
		}
	}
	if props["IgnoredUID"] != strconv.Itoa(agentUID) {
		t.Errorf("proxyConfiguration IgnoredUID %q, want the agent's uid %d (else Envoy's own traffic loops)", props["IgnoredUID"], agentUID)
	}
}

func oneOf(t *testing.T, field, v string, allowed []string) {
	t.Helper()
	if !slices.Contains(allowed, v) {
		t.Errorf("%s %q: want one of %s", field, v, strings.Join(allowed, ", "))
	}
}

// envValue is key's value in KEY=VALUE lines ("" when unset).
func envValue(lines []string, key string) string {
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	return ""
}

// envInt is key's integer value in lines, or def when unset.
func envInt(t *testing.T, lines []string, key string, def int) int {
	t.Helper()
	v := envValue(lines, key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, v, err)
	}
	return n
}
