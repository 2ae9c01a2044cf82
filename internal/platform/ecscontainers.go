package platform

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
)

// The task's containers as ECS task metadata v4 reports them while the task runs: what the
// agent's shutdown order and APPNET_EXIT_WHEN_APP_EXITS follow (internal/tasklife).

// TaskContainer is one container of the task.
type TaskContainer struct {
	Name     string // as in the task definition
	DockerID string
	// Type is NORMAL for the task definition's containers; AWS adds others (CNI_PAUSE,
	// NAMESPACE_PAUSE, ...).
	Type string
	// KnownStatus is what ECS last saw: PULLED, CREATED, RUNNING, STOPPED, ...
	KnownStatus string
	// ExitCode is set once the container has exited; nil before (or when ECS does not know).
	ExitCode *int
}

// Container types and statuses of task metadata.
const (
	ContainerTypeNormal = "NORMAL"
	StatusStopped       = "STOPPED"
)

// Stopped reports whether ECS knows the container has stopped.
func (c TaskContainer) Stopped() bool { return c.KnownStatus == StatusStopped }

// ReadTaskContainers reads the task's containers from <base>/task, one request bounded by
// CallTimeout (and ctx).
func ReadTaskContainers(ctx context.Context, base string) ([]TaskContainer, error) {
	body, err := fetch(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/task", nil)
	if err != nil {
		return nil, err
	}
	m, err := decodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	raw, ok := m["Containers"].([]any)
	if !ok {
		return nil, fmt.Errorf("task metadata: Containers is missing or not a list")
	}
	out := make([]TaskContainer, 0, len(raw))
	for _, rc := range raw {
		c, ok := rc.(map[string]any)
		if !ok {
			continue
		}
		if tc := taskContainer(c); tc.Name != "" {
			out = append(out, tc)
		}
	}
	return out, nil
}

// ReadContainer reads the calling container's own metadata (<base>): its name and Docker
// ID, by which the agent knows itself among the task's containers.
func ReadContainer(ctx context.Context, base string) (TaskContainer, error) {
	body, err := fetch(ctx, http.MethodGet, strings.TrimRight(base, "/"), nil)
	if err != nil {
		return TaskContainer{}, err
	}
	m, err := decodeObject(body)
	if err != nil {
		return TaskContainer{}, fmt.Errorf("container metadata: %w", err)
	}
	c := taskContainer(m)
	if c.Name == "" && c.DockerID == "" {
		return TaskContainer{}, fmt.Errorf("container metadata: neither Name nor DockerId is set")
	}
	return c, nil
}

// taskContainer reads one container object leniently: a field of the wrong type is absent.
func taskContainer(c map[string]any) TaskContainer {
	tc := TaskContainer{Name: str(c["Name"]), DockerID: str(c["DockerId"]), Type: str(c["Type"]), KnownStatus: str(c["KnownStatus"])}
	if f, ok := c["ExitCode"].(float64); ok && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		code := int(f)
		tc.ExitCode = &code
	}
	return tc
}
