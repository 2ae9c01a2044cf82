package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// Issue 20, the task's lifecycle, end to end: a mock ECS task metadata endpoint whose
// containers stop when the test says, and envoy-standin serving the bootstrap's listeners.

// taskMock is ECS task metadata v4 for one task: the agent's container "envoy", an AWS
// pause container (never a NORMAL one), and the application containers the test names,
// RUNNING until stop. Its URL is the envoy container's ECS_CONTAINER_METADATA_URI_V4.
type taskMock struct {
	url    string
	limits map[string]any // the task's Limits; nil: none

	mu         sync.Mutex
	containers []mockContainer
}

type mockContainer struct {
	Name        string `json:"Name"`
	DockerID    string `json:"DockerId"`
	Type        string `json:"Type"`
	KnownStatus string `json:"KnownStatus"`
	ExitCode    *int   `json:"ExitCode,omitempty"`
}

func newTaskMock(t *testing.T, limits map[string]any, apps ...string) *taskMock {
	t.Helper()
	m := &taskMock{limits: limits, containers: []mockContainer{
		{Name: "envoy", DockerID: "d-envoy", Type: "NORMAL", KnownStatus: "RUNNING"},
		{Name: "~internal~ecs~pause", DockerID: "d-pause", Type: "CNI_PAUSE", KnownStatus: "RESOURCES_PROVISIONED"},
	}}
	for _, a := range apps {
		m.containers = append(m.containers, mockContainer{Name: a, DockerID: "d-" + a, Type: "NORMAL", KnownStatus: "RUNNING"})
	}
	ts := httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(ts.Close)
	m.url = ts.URL + "/v4/d-envoy"
	return m
}

func (m *taskMock) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v4/d-envoy":
		_ = json.NewEncoder(w).Encode(m.containers[0])
	case "/v4/d-envoy/task":
		task := map[string]any{"Cluster": "arn:aws:ecs:us-west-2:1:cluster/c", "TaskARN": "arn:aws:ecs:us-west-2:1:task/c/t1",
			"KnownStatus": "RUNNING", "Containers": m.containers}
		if m.limits != nil {
			task["Limits"] = m.limits
		}
		_ = json.NewEncoder(w).Encode(task)
	default:
		http.NotFound(w, r)
	}
}

// stop marks the container stopped with code, as ECS reports it once it has exited.
func (m *taskMock) stop(name string, code int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.containers {
		if m.containers[i].Name == name {
			m.containers[i].KnownStatus, m.containers[i].ExitCode = "STOPPED", &code
		}
	}
}

// lifecycleAgent is an agent in the task of m, with the management API on and a given
// bootstrap whose two listeners envoy-standin serves: "ingress" (INBOUND) and "egress"
// (OUTBOUND, the application's calls out). It returns the listeners' URLs.
func lifecycleAgent(t *testing.T, m *taskMock, env ...string) (a *agent, ingress, egress string) {
	t.Helper()
	a = newAgent(t)
	in, out := testenv.FreePort(t), testenv.FreePort(t)
	listener := func(name, dir string, port int) string {
		return fmt.Sprintf("  - name: %s\n    traffic_direction: %s\n    address: {socket_address: {address: 127.0.0.1, port_value: %d}}\n"+
			"    filter_chains: [{filters: [{name: envoy.filters.network.direct_response, typed_config: "+
			"{\"@type\": type.googleapis.com/envoy.extensions.filters.network.direct_response.v3.Config}}]}]\n", name, dir, port)
	}
	boot := fmt.Sprintf("node: {id: e2e, cluster: e2e}\nadmin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: %d}\n", a.port) +
		"static_resources:\n  listeners:\n" + listener("ingress", "INBOUND", in) + listener("egress", "OUTBOUND", out)
	if err := os.WriteFile(a.boot, []byte(boot), 0o600); err != nil {
		t.Fatal(err)
	}
	a.setenv("AWS_REGION", "APPMESH_RESOURCE_ARN", "ENVOY_ADMIN_ACCESS_PORT", "ENVOY_ADMIN_ACCESS_LOG_FILE",
		"LISTENER_DRAIN_WAIT_TIME_S=5", "ECS_CONTAINER_METADATA_URI_V4="+m.url)
	a.withAPI()
	a.setenv(env...)
	a.start()
	a.waitUp()
	a.waitStatus("HEALTHY", 20*time.Second, func(s api.Status) bool { return s.HealthStatus == api.Healthy })
	return a, fmt.Sprintf("http://127.0.0.1:%d/", in), fmt.Sprintf("http://127.0.0.1:%d/", out)
}

// answers reports whether the listener at url answers with its name.
func answers(client *http.Client, url, name string) bool {
	res, err := client.Get(url)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	return res.StatusCode == 200 && res.Header.Get("X-Standin-Listener") == name
}

// TestOutboundServesUntilTheAppStops is issue 20 part 1: every container of an ECS task gets
// SIGTERM at once; the application keeps running 3 s to finish its work, and its outbound
// calls through Envoy must keep working until it has stopped. With APPNET_WAIT_FOR_APP_EXIT
// (the default) the agent drains only the inbound listeners and stops Envoy once the task
// metadata says the application has stopped; turned off, Envoy stops after the drain, while
// the application still runs (the old behaviour, the control). All times are this
// process's clock.
func TestOutboundServesUntilTheAppStops(t *testing.T) {
	t.Parallel()
	const appLife = 3 * time.Second // the application's work after SIGTERM
	for _, waitForApp := range []bool{true, false} {
		t.Run(fmt.Sprintf("APPNET_WAIT_FOR_APP_EXIT=%t", waitForApp), func(t *testing.T) {
			t.Parallel()
			m := newTaskMock(t, nil, "app")
			a, _, egress := lifecycleAgent(t, m, fmt.Sprintf("APPNET_WAIT_FOR_APP_EXIT=%t", waitForApp))
			client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
			if !answers(client, egress, "egress") {
				a.fatalf("the egress listener does not answer before the shutdown")
			}
			watch := a.watchStatus()
			sent := time.Now()
			a.signal(syscall.SIGTERM)
			// The application's last calls go out through Envoy; then it exits.
			var lastOK, firstFail time.Time
			for time.Since(sent) < appLife {
				if answers(client, egress, "egress") {
					lastOK = time.Now()
				} else if firstFail.IsZero() {
					firstFail = time.Now()
				}
				time.Sleep(50 * time.Millisecond)
			}
			stopped := time.Now()
			m.stop("app", 0)
			code := a.wait(30 * time.Second)
			seen := watch()
			if code != 0 {
				a.fatalf("agent exit code %d, want 0", code)
			}
			drains := filter(a.events(), isDrain)
			if len(drains) != 1 {
				a.fatalf("%d drain requests, want 1", len(drains))
			}
			phases := map[string]bool{}
			for _, s := range seen {
				phases[s.DrainPhase] = true
			}
			if !waitForApp {
				if drains[0].Query != "graceful" {
					a.fatalf("drain query %q, want graceful (every listener)", drains[0].Query)
				}
				if firstFail.IsZero() || a.exitAt.After(stopped) {
					a.fatalf("control: Envoy kept serving the application until it stopped without APPNET_WAIT_FOR_APP_EXIT (the test cannot fail)")
				}
				return
			}
			switch {
			case drains[0].Query != "graceful&inboundonly" && drains[0].Query != "inboundonly&graceful":
				a.fatalf("drain query %q, want the inbound listeners only, gracefully", drains[0].Query)
			case !firstFail.IsZero():
				a.fatalf("the egress listener failed %v after SIGTERM, while the application still ran", firstFail.Sub(sent).Round(time.Millisecond))
			case lastOK.Sub(sent) < appLife-500*time.Millisecond:
				a.fatalf("the egress listener last answered %v after SIGTERM, want until the application stopped (%v)", lastOK.Sub(sent), appLife)
			case !phases[api.DrainPhaseAppWait]:
				a.fatalf("/status never reported drainPhase %s; saw %v", api.DrainPhaseAppWait, phases)
			}
			// Envoy was stopped only after the application had: its SIGTERM is the last thing,
			// so the agent exits after the stop, within a few polls and Envoy's exit.
			if d := a.exitAt.Sub(stopped); d < 0 || d > 10*time.Second {
				a.fatalf("agent exited %v after the application stopped, want within (0, 10s]", d)
			}
			if answers(client, egress, "egress") {
				a.fatalf("the egress listener still answers after the agent exited")
			}
			log := a.stderr()
			for _, want := range []string{"Waiting for the application to stop; Envoy's outbound listeners keep serving it", "running=app",
				"The application containers have stopped; stopping Envoy"} {
				if !strings.Contains(log, want) {
					a.fatalf("log lacks %q", want)
				}
			}
			if strings.Count(log, "Waiting for the application to stop") != 1 || strings.Contains(log, "running=~internal") {
				a.fatalf("the wait is logged more than once, or names the pause container")
			}
		})
	}
}

// TestJobExitEndsTheAgent is issue 20 part 2: with APPNET_EXIT_WHEN_APP_EXITS the agent shuts
// down gracefully and exits 0 once the job's container has stopped, so the task can finish;
// while the job runs it does not. APPNET_APP_CONTAINERS narrows the application to the
// containers named (here a log router runs on).
func TestJobExitEndsTheAgent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		apps []string // the task's other NORMAL containers
		env  []string
	}{
		{name: "every other NORMAL container", apps: []string{"job"}},
		{name: "APPNET_APP_CONTAINERS=job", apps: []string{"job", "logrouter"}, env: []string{"APPNET_APP_CONTAINERS=job"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newTaskMock(t, nil, tc.apps...)
			a, _, _ := lifecycleAgent(t, m, append([]string{"APPNET_EXIT_WHEN_APP_EXITS=true"}, tc.env...)...)
			time.Sleep(2 * time.Second) // two polls of the task metadata while the job runs
			if a.exited() {
				a.fatalf("the agent exited while the job still ran")
			}
			stopped := time.Now()
			m.stop("job", 0)
			// Bounds: a poll (1 s), the drain (LISTENER_DRAIN_WAIT_TIME_S 5 s at most), Envoy's
			// stop (5 s grace at most), with room for a loaded machine.
			if code := a.wait(30 * time.Second); code != 0 {
				a.fatalf("agent exit code %d, want 0", code)
			}
			if d := a.exitAt.Sub(stopped); d > 15*time.Second {
				a.fatalf("agent exited %v after the job stopped, want within 15 s", d)
			}
			evs := a.events()
			if len(filter(evs, isDrain)) != 1 || len(filter(evs, isEvent("signal"))) == 0 {
				a.fatalf("the agent did not drain and stop Envoy")
			}
			log := a.stderr()
			for _, want := range []string{"The application has exited; shutting down (APPNET_EXIT_WHEN_APP_EXITS)", "job (exit 0)"} {
				if !strings.Contains(log, want) {
					a.fatalf("log lacks %q", want)
				}
			}
			if slices.Contains(tc.apps, "logrouter") && strings.Contains(log, "running: logrouter") {
				a.fatalf("the log router, not named in APPNET_APP_CONTAINERS, was followed")
			}
		})
	}
}
