// Package tasklife follows the ECS task the agent runs in through task metadata v4: which
// of its containers are the application, and whether they still run. The supervisor asks
// it on shutdown, so that Envoy keeps serving the application's outbound calls until the
// application has stopped (internal/supervise, PhaseWaitingForApp); and with
// APPNET_EXIT_WHEN_APP_EXITS its watcher shuts the agent down once the application has
// exited (jobs). Without ECS_CONTAINER_METADATA_URI_V4 there is nothing to follow, and
// the agent behaves as before.
package tasklife

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/appnet/appnet-agent/internal/platform"
)

// Apps are the task's application containers: every other container of type NORMAL (AWS's
// own containers excluded), or exactly those named by APPNET_APP_CONTAINERS. Safe for
// concurrent use.
type Apps struct {
	base  string   // ECS_CONTAINER_METADATA_URI_V4
	names []string // APPNET_APP_CONTAINERS; empty: every other NORMAL container

	// The reads of task metadata (platform's, replaced in tests).
	readTask func(ctx context.Context, base string) ([]platform.TaskContainer, error)
	readSelf func(ctx context.Context, base string) (platform.TaskContainer, error)

	mu   sync.Mutex
	self *platform.TaskContainer // the agent's own container, once known
}

// New returns the application containers of the task whose metadata is at base
// (ECS_CONTAINER_METADATA_URI_V4); names, when not empty, are APPNET_APP_CONTAINERS.
func New(base string, names []string) *Apps {
	return &Apps{base: base, names: slices.Clone(names), readTask: platform.ReadTaskContainers, readSelf: platform.ReadContainer}
}

// State is one look at the application containers.
type State struct {
	// Running are the application containers that have not stopped (any status but
	// STOPPED: starting, running, or stopping), by name, sorted.
	Running []string
	// Stopped are those that have, with their exit codes when known: "job (exit 0)".
	Stopped []string
	// Missing are containers named by APPNET_APP_CONTAINERS that the task metadata does not
	// list (yet: ECS lists a container once it has created it), sorted.
	Missing []string
}

// Exited reports whether the application has exited: at least one application container
// is known, every one has stopped, and none named is missing. A task whose application
// has not been created yet (it waits for the agent with dependsOn) has not exited.
func (s State) Exited() bool {
	return len(s.Stopped) > 0 && len(s.Running) == 0 && len(s.Missing) == 0
}

// String describes the state for logs.
func (s State) String() string {
	var parts []string
	if len(s.Running) > 0 {
		parts = append(parts, "running: "+strings.Join(s.Running, ", "))
	}
	if len(s.Stopped) > 0 {
		parts = append(parts, "stopped: "+strings.Join(s.Stopped, ", "))
	}
	if len(s.Missing) > 0 {
		parts = append(parts, "not in the task metadata: "+strings.Join(s.Missing, ", "))
	}
	if len(parts) == 0 {
		return "the task has no other container of type NORMAL"
	}
	return strings.Join(parts, "; ")
}

// Check reads the task metadata once and returns the application containers' state.
func (a *Apps) Check(ctx context.Context) (State, error) {
	var self *platform.TaskContainer
	if len(a.names) == 0 {
		var err error
		if self, err = a.whoAmI(ctx); err != nil {
			return State{}, err
		}
	}
	containers, err := a.readTask(ctx, a.base)
	if err != nil {
		return State{}, err
	}
	var st State
	seen := map[string]bool{}
	for _, c := range containers {
		if !a.isApp(c, self) {
			continue
		}
		seen[c.Name] = true
		if c.Stopped() {
			st.Stopped = append(st.Stopped, describeStopped(c))
		} else {
			st.Running = append(st.Running, c.Name)
		}
	}
	for _, n := range a.names {
		if !seen[n] {
			st.Missing = append(st.Missing, n)
		}
	}
	slices.Sort(st.Running)
	slices.Sort(st.Stopped)
	slices.Sort(st.Missing)
	return st, nil
}

// RunningApps names the application containers that have not stopped (supervise.AppWaiter).
// A named container the task metadata does not list has not started, so it is not waited for.
func (a *Apps) RunningApps(ctx context.Context) ([]string, error) {
	st, err := a.Check(ctx)
	return st.Running, err
}

// isApp: a container named in APPNET_APP_CONTAINERS; without names, any other container of
// type NORMAL.
func (a *Apps) isApp(c platform.TaskContainer, self *platform.TaskContainer) bool {
	if len(a.names) > 0 {
		return slices.Contains(a.names, c.Name)
	}
	if c.Type != platform.ContainerTypeNormal {
		return false
	}
	if self.DockerID != "" {
		return c.DockerID != self.DockerID
	}
	return c.Name != self.Name
}

// whoAmI is the agent's own container, read once from the container metadata.
func (a *Apps) whoAmI(ctx context.Context) (*platform.TaskContainer, error) {
	a.mu.Lock()
	self := a.self
	a.mu.Unlock()
	if self != nil {
		return self, nil
	}
	c, err := a.readSelf(ctx, a.base)
	if err != nil {
		return nil, fmt.Errorf("cannot tell the agent's own container from the others: %w", err)
	}
	a.mu.Lock()
	a.self = &c
	a.mu.Unlock()
	return &c, nil
}

func describeStopped(c platform.TaskContainer) string {
	if c.ExitCode == nil {
		return c.Name
	}
	return c.Name + " (exit " + strconv.Itoa(*c.ExitCode) + ")"
}

// errorOnce reports each different error once, so a poll every second does not repeat the
// same line; it returns whether err is new.
type errorOnce struct{ last string }

func (e *errorOnce) isNew(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || err.Error() == e.last {
		return false
	}
	e.last = err.Error()
	return true
}
