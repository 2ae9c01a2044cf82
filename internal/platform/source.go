package platform

import (
	"context"
	"errors"
	"fmt"
)

// source answers the collectors' questions. liveSource asks the host;
// replaySource reads recorded HostFacts, so that replaying goes through the
// very code that combines live answers with the environment.
type source interface {
	envoyVersion(ctx context.Context, path string) (string, error)
	imds(ctx context.Context, endpoint string) imdsSource
	ecsTask(ctx context.Context, uri string) (ECSTask, error)
	ecsContainer(ctx context.Context, uri string) (ECSContainer, error)
	uname() (Uname, error)
	interfaces() (Interfaces, []string, error)
	memoryLimit(cgroupRoot string) (MemoryLimit, error)
	cpuQuota(cgroupRoot string) (CPUQuota, error)
}

// imdsSource reads instance metadata: a session of imdsClient, or recorded
// answers.
type imdsSource interface {
	metadata(ctx context.Context, key string) (string, error)
	region(ctx context.Context) (string, error)
}

// liveSource is the network, the Envoy binary and the operating system.
type liveSource struct{}

func (liveSource) envoyVersion(ctx context.Context, path string) (string, error) {
	return probeEnvoy(ctx, path)
}

func (liveSource) imds(ctx context.Context, endpoint string) imdsSource {
	return newIMDSClient(ctx, endpoint)
}

func (liveSource) ecsTask(ctx context.Context, uri string) (ECSTask, error) {
	return fetchTask(ctx, uri)
}

func (liveSource) ecsContainer(ctx context.Context, uri string) (ECSContainer, error) {
	return fetchLimits(ctx, uri)
}

func (liveSource) uname() (Uname, error) { return systemInfo() }

func (liveSource) interfaces() (Interfaces, []string, error) { return interfaceAddrs() }

func (liveSource) memoryLimit(root string) (MemoryLimit, error) { return readMemoryLimit(root) }

func (liveSource) cpuQuota(root string) (CPUQuota, error) { return readCPUQuota(root) }

// errNotRecorded is what a replayed source answers for a fact the facts file
// lacks.
var errNotRecorded = errors.New("not in the platform facts")

func notRecorded(key string) error { return fmt.Errorf("%w (%s)", errNotRecorded, key) }

// replaySource answers from recorded facts and never touches the host.
type replaySource struct{ h HostFacts }

func (s replaySource) envoyVersion(context.Context, string) (string, error) {
	if s.h.Envoy == nil {
		return "", notRecorded("envoy.version")
	}
	return s.h.Envoy.Version, nil
}

func (s replaySource) imds(context.Context, string) imdsSource {
	if s.h.InstanceMetadata == nil {
		return replayIMDS{}
	}
	return replayIMDS(*s.h.InstanceMetadata)
}

func (s replaySource) ecsTask(context.Context, string) (ECSTask, error) {
	if s.h.ECSTask == nil {
		return ECSTask{}, notRecorded("ecsTask")
	}
	return *s.h.ECSTask, nil
}

func (s replaySource) ecsContainer(context.Context, string) (ECSContainer, error) {
	if s.h.ECSContainer == nil {
		return ECSContainer{}, notRecorded("ecsContainer")
	}
	return *s.h.ECSContainer, nil
}

func (s replaySource) uname() (Uname, error) {
	if s.h.Uname == nil {
		return Uname{}, notRecorded("uname")
	}
	return *s.h.Uname, nil
}

func (s replaySource) interfaces() (Interfaces, []string, error) {
	if s.h.Interfaces == nil {
		return Interfaces{}, nil, fmt.Errorf("network interfaces: %w", notRecorded("interfaces"))
	}
	return *s.h.Interfaces, nil, nil
}

func (s replaySource) memoryLimit(string) (MemoryLimit, error) {
	if s.h.Memory == nil {
		return MemoryLimit{}, notRecorded("memory")
	}
	return *s.h.Memory, nil
}

// cpuQuota answers a file without a cpu section (one written before the agent
// recorded it) as a host without a cgroup CPU file: no quota, no error.
func (s replaySource) cpuQuota(string) (CPUQuota, error) {
	if s.h.CPU == nil {
		return CPUQuota{}, nil
	}
	return *s.h.CPU, nil
}

// replayIMDS answers instance metadata lookups from recorded values.
type replayIMDS InstanceMetadata

func (m replayIMDS) metadata(_ context.Context, key string) (string, error) {
	var v, name string
	switch key {
	case imdsAZ:
		v, name = m.AvailabilityZone, "instanceMetadata.availabilityZone"
	case imdsAZID:
		v, name = m.AvailabilityZoneID, "instanceMetadata.availabilityZoneId"
	default:
		return "", fmt.Errorf("instance metadata %s: %w", key, errNotRecorded)
	}
	if v == "" {
		return "", notRecorded(name)
	}
	return v, nil
}

func (m replayIMDS) region(context.Context) (string, error) {
	if m.Region == "" {
		return "", notRecorded("instanceMetadata.region")
	}
	return m.Region, nil
}
