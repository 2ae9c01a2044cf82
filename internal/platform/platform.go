// Package platform collects the facts about the host, the task and the Envoy
// binary that the bootstrap needs: the Envoy version (FIPS detection), the AWS
// region, ECS task metadata, EC2 instance metadata (availability zone), the
// system's architecture and kernel, the host's network interfaces, and the
// container's cgroup limits (memory, CPU quota).
//
// Every source is optional and soft-failing: collection runs concurrently,
// each network call and the Envoy probe is bounded by a short timeout, the
// whole collection by Inputs.Timeout, and odd responses are reported as
// warnings, never as panics. The only hard failure is a region that is needed
// but cannot be found, and even that is returned (Facts.RegionErr) rather than
// acted upon, so the caller decides.
//
// Maps in Facts hold only string, bool, map[string]any and []any values, so
// they convert directly with structpb.NewStruct.
package platform

import (
	"context"
	"time"
)

// Inputs are the already-parsed environment values the collectors need. The
// env package parses and trims them; this package never reads the environment.
type Inputs struct {
	// EnvoyPath is the binary probed with `--version`; empty skips the probe.
	EnvoyPath string
	// ProbeEnvoy enables the Envoy version (FIPS) probe.
	ProbeEnvoy bool
	// Region is AWS_REGION (trimmed). When it is empty and NeedRegion is set,
	// the region is looked up in instance metadata.
	Region string
	// NeedRegion asks for the region to be resolved (from Region or IMDS).
	NeedRegion bool
	// IMDSEndpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT; empty means
	// DefaultIMDSEndpoint.
	IMDSEndpoint string
	// IMDSDisabled is AWS_EC2_METADATA_DISABLED=true: no instance metadata
	// call is made at all.
	IMDSDisabled bool
	// ExecutionEnv is AWS_EXECUTION_ENV; non-empty selects the ECS branch.
	ExecutionEnv string
	// ContainerInstanceARN is ECS_CONTAINER_INSTANCE_ARN.
	ContainerInstanceARN string
	// TMDSURI is ECS_CONTAINER_METADATA_URI_V4, else ECS_CONTAINER_METADATA_URI. With
	// ExecutionEnv it gives the ECS platform info; with NeedCPUQuota or NeedMemoryLimit,
	// the task's limits.
	TMDSURI string
	// K8sVersion, K8sPodUID and K8sControllerVersion are the
	// APPMESH_PLATFORM_* values; all three non-empty select the K8s branch.
	K8sVersion, K8sPodUID, K8sControllerVersion string
	// ContainerIPMapping is the parsed APPNET_CONTAINER_IP_MAPPING object (nil
	// when unset); it decides the IP family in ECS bridge mode.
	ContainerIPMapping map[string]any
	// NeedMemoryLimit asks for the container's memory limit (APPNET_ENVOY_HEAP_FROM_CGROUP),
	// and for the task's when TMDSURI is set.
	NeedMemoryLimit bool
	// NeedCPUQuota asks for the container's CPU quota (Envoy's --concurrency when
	// ENVOY_CONCURRENCY is unset), and for the task's CPU limit when TMDSURI is set.
	NeedCPUQuota bool
	// SkipNodeInfo leaves out what only the node metadata uses (uname and the
	// network interfaces): an existing bootstrap is used as is.
	SkipNodeInfo bool
	// CgroupRoot is where the cgroup file systems are mounted; empty means
	// DefaultCgroupRoot (tests point it at fake cgroup files).
	CgroupRoot string
	// Timeout is the whole collection budget; 0 means DefaultTimeout. Each
	// single HTTP call or probe is further limited to CallTimeout.
	Timeout time.Duration
}

// Facts are what was found. Zero values mean "not found".
type Facts struct {
	// EnvoyVersion is the trimmed stdout of `envoy --version`, or
	// UnknownVersion when the probe failed or was skipped.
	EnvoyVersion string
	// FIPS reports whether lower(EnvoyVersion) contains "fips".
	FIPS bool
	// Region is Inputs.Region, or the region read from instance metadata.
	Region string
	// RegionErr is set when NeedRegion and no region could be found; its
	// message starts with RegionErrPrefix.
	RegionErr error
	// PlatformInfo is node metadata aws.appmesh.platformInfo without
	// fipsModeEnabled (the caller adds it): k8sPlatformInfo, ecsPlatformInfo,
	// AvailabilityZone, AvailabilityZoneID, supportedIPFamilies and
	// systemInfo{systemPlatform, systemKernelVersion}. Nil when empty.
	PlatformInfo map[string]any
	// AvailabilityZoneID is PlatformInfo's AvailabilityZoneID (the task's, else
	// instance metadata's in the K8s branch), typed: Envoy's locality zone is
	// built from it. "" when unknown.
	AvailabilityZoneID string
	// Interfaces is node metadata aws.appmesh.task.interfaces:
	// {ipv4: {ifname: ["ip/prefix", ...]}, ipv6: {...}}. Nil when the
	// interfaces could not be listed.
	Interfaces map[string]any
	// Memory is the container's memory limit, when Inputs.NeedMemoryLimit and
	// its cgroup said; nil when unknown (the reason is among Warnings).
	Memory *MemoryLimit
	// CPU is the container's CPU quota, when Inputs.NeedCPUQuota and its cgroup
	// said; nil when unknown (a failure to read it is among Warnings).
	CPU *CPUQuota
	// Task is the ECS task's own limits (task metadata Limits), when
	// Inputs.NeedCPUQuota or NeedMemoryLimit, Inputs.TMDSURI is set and the task
	// metadata gave one; nil otherwise. They size Envoy where its container's cgroup
	// sets no limit (ECS on EC2 with task-level limits only: the task's cgroup, a
	// parent, is invisible from inside the container).
	Task *TaskLimits
	// Warnings are soft failures, sorted, for logging.
	Warnings []string
}

// Collector gathers platform facts; render depends on it so that tests can
// substitute fixed facts.
type Collector interface {
	Collect(ctx context.Context, in Inputs) Facts
}

// CollectorFunc adapts a function to the Collector interface.
type CollectorFunc func(ctx context.Context, in Inputs) Facts

// Collect calls f.
func (f CollectorFunc) Collect(ctx context.Context, in Inputs) Facts { return f(ctx, in) }

// System is the real collector, backed by the network, the Envoy binary and
// the operating system.
var System Collector = CollectorFunc(Collect)

// Defaults and fixed values.
const (
	// DefaultTimeout is the collection budget when Inputs.Timeout is 0.
	DefaultTimeout = 2 * time.Second
	// CallTimeout bounds every single HTTP request and the Envoy probe.
	CallTimeout = time.Second
	// DefaultIMDSEndpoint is the EC2 instance metadata service address.
	DefaultIMDSEndpoint = "http://169.254.169.254"
	// UnknownVersion is EnvoyVersion when the probe failed or was skipped.
	UnknownVersion = "unknown"
	// RegionErrPrefix starts every RegionErr message.
	RegionErrPrefix = "unable to retrieve the region from the EC2 Metadata Service"
)

// Keys of the platformInfo map, as the control plane expects them.
const (
	KeyK8sPlatformInfo     = "k8sPlatformInfo"
	KeyECSPlatformInfo     = "ecsPlatformInfo"
	KeyAvailabilityZone    = "AvailabilityZone"
	KeyAvailabilityZoneID  = "AvailabilityZoneID"
	KeySupportedIPFamilies = "supportedIPFamilies"
	KeySystemInfo          = "systemInfo"
)

// Values of supportedIPFamilies.
const (
	FamiliesAll      = "ALL"
	FamiliesIPv4Only = "IPv4_ONLY"
	FamiliesIPv6Only = "IPv6_ONLY"
)

// TaskLimits are the ECS task's CPU and memory limits, from task metadata.
type TaskLimits struct {
	// CPUs is Limits.CPU in vCPUs (1.5 = one and a half); 0 when the task has none.
	CPUs float64
	// MemoryBytes is Limits.Memory (MiB) in bytes; 0 when the task has none.
	MemoryBytes int64
	// Source says where they came from, for logs: the task metadata URL.
	Source string
}
