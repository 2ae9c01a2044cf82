package tasklife

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"

	"github.com/appnet/appnet-agent/internal/lifecycle"
	"github.com/appnet/appnet-agent/internal/platform"
	"github.com/appnet/appnet-agent/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func exit(code int) *int { return &code }

// task is a scripted task metadata: the containers each read returns, and the agent's own.
type task struct {
	mu         sync.Mutex
	containers []platform.TaskContainer
	err        error
	self       platform.TaskContainer
	selfErr    error
	selfReads  int
}

func (k *task) apps(names ...string) *Apps {
	a := New("http://169.254.170.2/v4/abc", names)
	a.readTask = func(context.Context, string) ([]platform.TaskContainer, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		return slices.Clone(k.containers), k.err
	}
	a.readSelf = func(context.Context, string) (platform.TaskContainer, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.selfReads++
		return k.self, k.selfErr
	}
	return a
}

func (k *task) set(containers []platform.TaskContainer, err error) {
	k.mu.Lock()
	k.containers, k.err = containers, err
	k.mu.Unlock()
}

var (
	envoyC   = platform.TaskContainer{Name: "envoy", DockerID: "d-envoy", Type: "NORMAL", KnownStatus: "RUNNING"}
	appC     = platform.TaskContainer{Name: "app", DockerID: "d-app", Type: "NORMAL", KnownStatus: "RUNNING"}
	workerC  = platform.TaskContainer{Name: "worker", DockerID: "d-worker", Type: "NORMAL", KnownStatus: "RUNNING"}
	pauseC   = platform.TaskContainer{Name: "~internal~ecs~pause", DockerID: "d-pause", Type: "CNI_PAUSE", KnownStatus: "RESOURCES_PROVISIONED"}
	appDone  = platform.TaskContainer{Name: "app", DockerID: "d-app", Type: "NORMAL", KnownStatus: "STOPPED", ExitCode: exit(0)}
	workDone = platform.TaskContainer{Name: "worker", DockerID: "d-worker", Type: "NORMAL", KnownStatus: "STOPPED", ExitCode: exit(3)}
	initDone = platform.TaskContainer{Name: "init", DockerID: "d-init", Type: "NORMAL", KnownStatus: "STOPPED"}
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		names      []string
		self       platform.TaskContainer
		containers []platform.TaskContainer
		want       State
		exited     bool
	}{
		{"others of type NORMAL, not the agent, not AWS's", nil, envoyC, []platform.TaskContainer{envoyC, appC, pauseC, workerC},
			State{Running: []string{"app", "worker"}}, false},
		{"one stopped, one running", nil, envoyC, []platform.TaskContainer{envoyC, appDone, workerC},
			State{Running: []string{"worker"}, Stopped: []string{"app (exit 0)"}}, false},
		{"all stopped", nil, envoyC, []platform.TaskContainer{workDone, envoyC, appDone, initDone},
			State{Stopped: []string{"app (exit 0)", "init", "worker (exit 3)"}}, true},
		{"the application not created yet", nil, envoyC, []platform.TaskContainer{envoyC, pauseC}, State{}, false},
		{"the agent known by name when ECS gives no Docker ID", nil, platform.TaskContainer{Name: "envoy"},
			[]platform.TaskContainer{{Name: "envoy", Type: "NORMAL", KnownStatus: "RUNNING"}, {Name: "app", Type: "NORMAL", KnownStatus: "STOPPED"}},
			State{Stopped: []string{"app"}}, true},
		{"named: only those, whatever their type", []string{"worker", "~internal~ecs~pause"}, envoyC, []platform.TaskContainer{envoyC, appC, pauseC, workDone},
			State{Running: []string{"~internal~ecs~pause"}, Stopped: []string{"worker (exit 3)"}}, false},
		{"named: one not listed yet", []string{"app", "job"}, envoyC, []platform.TaskContainer{envoyC, appDone},
			State{Stopped: []string{"app (exit 0)"}, Missing: []string{"job"}}, false},
		{"named: all stopped", []string{"app"}, envoyC, []platform.TaskContainer{envoyC, appDone, workerC},
			State{Stopped: []string{"app (exit 0)"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := &task{containers: tc.containers, self: tc.self}
			a := k.apps(tc.names...)
			got, err := a.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Running, tc.want.Running) || !slices.Equal(got.Stopped, tc.want.Stopped) || !slices.Equal(got.Missing, tc.want.Missing) {
				t.Errorf("state %+v, want %+v", got, tc.want)
			}
			if got.Exited() != tc.exited {
				t.Errorf("Exited() = %v, want %v (%s)", got.Exited(), tc.exited, got)
			}
			running, err := a.RunningApps(context.Background())
			if err != nil || !slices.Equal(running, tc.want.Running) {
				t.Errorf("RunningApps = %v, %v", running, err)
			}
			if tc.names != nil && k.selfReads != 0 {
				t.Errorf("with APPNET_APP_CONTAINERS the agent's own container was read %d times", k.selfReads)
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	k := &task{containers: []platform.TaskContainer{envoyC, appC}, selfErr: errors.New("connection refused")}
	a := k.apps()
	if _, err := a.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot tell the agent's own container from the others: connection refused") {
		t.Errorf("self unreadable: %v", err)
	}
	k.mu.Lock()
	k.self, k.selfErr = envoyC, nil
	k.mu.Unlock()
	for range 3 {
		if _, err := a.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if k.selfReads != 2 {
		t.Errorf("the agent's own container read %d times, want once after the failure", k.selfReads)
	}
	k.set(nil, errors.New("task metadata: 500"))
	if _, err := a.RunningApps(context.Background()); err == nil {
		t.Error("a failed task read is no error")
	}
}

// TestExitWatcher: the watcher asks for the shutdown once the application has exited, not
// before it exists, logs a failing read once, and keeps quiet afterwards until stopped.
func TestExitWatcher(t *testing.T) {
	k := &task{self: envoyC, containers: []platform.TaskContainer{envoyC}}
	var logs testenv.SafeBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})
	asked := make(chan string, 4)
	part := k.apps().ExitWatcher(10*time.Millisecond, func(cause string) { asked <- cause }, log)
	g := lifecycle.Start(log, part)
	defer g.Stop()

	time.Sleep(100 * time.Millisecond) // the application is not created yet
	k.set(nil, errors.New("task metadata: connection refused"))
	time.Sleep(100 * time.Millisecond)
	k.set([]platform.TaskContainer{envoyC, appC}, nil)
	time.Sleep(100 * time.Millisecond)
	select {
	case c := <-asked:
		t.Fatalf("shutdown asked while the application runs: %s", c)
	default:
	}
	k.set([]platform.TaskContainer{envoyC, appDone}, nil)
	select {
	case c := <-asked:
		if c != "the application has exited: stopped: app (exit 0)" {
			t.Errorf("cause %q", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no shutdown asked after the application exited; log:\n%s", logs.String())
	}
	time.Sleep(100 * time.Millisecond)
	if len(asked) != 0 {
		t.Errorf("shutdown asked again")
	}
	out := logs.String()
	if n := strings.Count(out, "Cannot read the task metadata"); n != 1 {
		t.Errorf("the failing read logged %d times:\n%s", n, out)
	}
	for _, want := range []string{"containers=\"the task has no other container of type NORMAL\"", "containers=\"running: app\"",
		"The application has exited; shutting down (APPNET_EXIT_WHEN_APP_EXITS): containers=\"stopped: app (exit 0)\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
