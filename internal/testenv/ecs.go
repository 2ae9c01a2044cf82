package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// TaskDefinition is the part of an Amazon ECS task definition (the JSON input of
// RegisterTaskDefinition) that the examples under examples/ecs/ use, with the API's field
// names and JSON types. ReadTaskDefinition decodes strictly, so a misspelt or unmodelled
// field, or a value of the wrong type, is an error: add a field here only after checking its
// name and type in the ECS API reference.
type TaskDefinition struct {
	Family                  string                `json:"family"`
	NetworkMode             string                `json:"networkMode"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities"`
	CPU                     string                `json:"cpu"`
	Memory                  string                `json:"memory"`
	TaskRoleArn             string                `json:"taskRoleArn"`
	ExecutionRoleArn        string                `json:"executionRoleArn"`
	Volumes                 []ECSVolume           `json:"volumes"`
	ProxyConfiguration      *ECSProxyConfig       `json:"proxyConfiguration"`
	ContainerDefinitions    []ContainerDefinition `json:"containerDefinitions"`
}

// ECSVolume is a task volume; only host bind mounts are modelled.
type ECSVolume struct {
	Name string `json:"name"`
	Host *struct {
		SourcePath string `json:"sourcePath"`
	} `json:"host"`
}

// ECSProxyConfig is App Mesh's traffic redirection (type APPMESH).
type ECSProxyConfig struct {
	Type          string        `json:"type"`
	ContainerName string        `json:"containerName"`
	Properties    []ECSKeyValue `json:"properties"`
}

// ECSKeyValue is a name/value pair (environment variables, proxy properties).
type ECSKeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ECSSecret is a variable whose value ECS fetches, with the task execution role, from SSM
// Parameter Store or Secrets Manager (valueFrom: the parameter's or secret's ARN).
type ECSSecret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// ContainerDefinition is one container of a task definition.
type ContainerDefinition struct {
	Name              string            `json:"name"`
	Image             string            `json:"image"`
	Essential         *bool             `json:"essential"`
	User              string            `json:"user"`
	CPU               int               `json:"cpu"`
	Memory            int               `json:"memory"`
	MemoryReservation int               `json:"memoryReservation"`
	Command           []string          `json:"command"`
	Environment       []ECSKeyValue     `json:"environment"`
	Secrets           []ECSSecret       `json:"secrets"`
	PortMappings      []ECSPortMapping  `json:"portMappings"`
	MountPoints       []ECSMountPoint   `json:"mountPoints"`
	DependsOn         []ECSDependency   `json:"dependsOn"`
	HealthCheck       *ECSHealthCheck   `json:"healthCheck"`
	StopTimeout       *int              `json:"stopTimeout"`
	Ulimits           []ECSUlimit       `json:"ulimits"`
	LogConfiguration  *ECSLogConfig     `json:"logConfiguration"`
	DockerLabels      map[string]string `json:"dockerLabels"`
}

// ECSPortMapping is a container port.
type ECSPortMapping struct {
	Name          string `json:"name"`
	ContainerPort int    `json:"containerPort"`
	HostPort      int    `json:"hostPort"`
	Protocol      string `json:"protocol"`
	AppProtocol   string `json:"appProtocol"`
}

// ECSMountPoint mounts a task volume into a container.
type ECSMountPoint struct {
	SourceVolume  string `json:"sourceVolume"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      bool   `json:"readOnly"`
}

// ECSDependency orders a container after another.
type ECSDependency struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

// ECSHealthCheck is a container health check (seconds; the command's first element is CMD
// or CMD-SHELL).
type ECSHealthCheck struct {
	Command     []string `json:"command"`
	Interval    int      `json:"interval"`
	Timeout     int      `json:"timeout"`
	Retries     int      `json:"retries"`
	StartPeriod int      `json:"startPeriod"`
}

// ECSUlimit is a resource limit of a container.
type ECSUlimit struct {
	Name      string `json:"name"`
	SoftLimit int    `json:"softLimit"`
	HardLimit int    `json:"hardLimit"`
}

// ECSLogConfig is a container's log driver.
type ECSLogConfig struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options"`
}

// ReadTaskDefinition decodes the task definition at path strictly (unknown fields, wrong
// types and trailing data are errors).
func ReadTaskDefinition(tb testing.TB, path string) *TaskDefinition {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var td TaskDefinition
	if err := dec.Decode(&td); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if dec.More() {
		tb.Fatalf("%s: data after the task definition", path)
	}
	return &td
}

// Container is the container named name; it fails tb when there is none.
func (td *TaskDefinition) Container(tb testing.TB, name string) *ContainerDefinition {
	tb.Helper()
	for i := range td.ContainerDefinitions {
		if td.ContainerDefinitions[i].Name == name {
			return &td.ContainerDefinitions[i]
		}
	}
	tb.Fatalf("task definition %s has no container %q", td.Family, name)
	return nil
}

// EnvLines is the container's environment as KEY=VALUE lines, in order (the format of
// `render --env-file`; a value holds no newline in these examples).
func (c *ContainerDefinition) EnvLines() []string {
	lines := make([]string, 0, len(c.Environment))
	for _, kv := range c.Environment {
		lines = append(lines, fmt.Sprintf("%s=%s", kv.Name, kv.Value))
	}
	return lines
}
