package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
)

// HostFactsSchema is the schema version of the JSON form of HostFacts.
const HostFactsSchema = 1

// HostFacts is what this host's sources answered, before any of it is combined
// with the environment: the raw material of Facts. Its JSON form is what
// `appnet-agent facts` prints and `appnet-agent render --facts FILE` replays
// (see docs/PLATFORM-TEAMS.md, "Platform facts"). A nil section is a source that did not answer
// (or was not asked); replaying it behaves like that source failing.
type HostFacts struct {
	// Schema is HostFactsSchema; 0 (absent) is read as HostFactsSchema.
	Schema int `json:"schema,omitempty"`
	// Envoy is the `envoy --version` probe of APPNET_ENVOY_PATH.
	Envoy *EnvoyFacts `json:"envoy,omitempty"`
	// InstanceMetadata holds the EC2 instance metadata answers.
	InstanceMetadata *InstanceMetadata `json:"instanceMetadata,omitempty"`
	// ECSTask is what the ECS task metadata (<TMDS>/task) contributes.
	ECSTask *ECSTask `json:"ecsTask,omitempty"`
	// ECSContainer is what the ECS container metadata (<TMDS>) contributes.
	ECSContainer *ECSContainer `json:"ecsContainer,omitempty"`
	// Uname is the uname(2) answer.
	Uname *Uname `json:"uname,omitempty"`
	// Interfaces are the host's network interface addresses.
	Interfaces *Interfaces `json:"interfaces,omitempty"`
	// Memory is the container's cgroup memory limit.
	Memory *MemoryLimit `json:"memory,omitempty"`
	// CPU is the container's cgroup CPU quota. Files written before the agent
	// recorded it lack it; they replay as a host without a CPU quota (Envoy
	// picks its own concurrency), which is also what a host without any cgroup
	// CPU file gives.
	CPU *CPUQuota `json:"cpu,omitempty"`
}

// EnvoyFacts is the Envoy version probe.
type EnvoyFacts struct {
	// Version is the trimmed stdout of `envoy --version`.
	Version string `json:"version"`
	// FIPS is derived: Version contains "fips" (any case). A file may omit it;
	// if it gives it, it must agree with Version.
	FIPS bool `json:"fips"`
}

// InstanceMetadata are the EC2 instance metadata values; "" is unanswered.
type InstanceMetadata struct {
	// Region is placement/region (or the identity document's region).
	Region string `json:"region,omitempty"`
	// AvailabilityZone is placement/availability-zone.
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	// AvailabilityZoneID is placement/availability-zone-id.
	AvailabilityZoneID string `json:"availabilityZoneId,omitempty"`
}

// ECSTask holds the task metadata fields the bootstrap uses; "" is absent.
type ECSTask struct {
	Cluster            string `json:"cluster,omitempty"`
	TaskARN            string `json:"taskArn,omitempty"`
	AvailabilityZone   string `json:"availabilityZone,omitempty"`
	AvailabilityZoneID string `json:"availabilityZoneId,omitempty"`
	// NetworkMode is the first recognised Networks[].NetworkMode.
	NetworkMode string `json:"networkMode,omitempty"`
	// IPFamilies are the address families of the task's network (awsvpc: the
	// container that gave the mode; bridge: the CNI_PAUSE container) before a
	// dual-stack bridge task is narrowed by APPNET_CONTAINER_IP_MAPPING:
	// ALL, IPv4_ONLY, IPv6_ONLY or "" (unknown).
	IPFamilies string `json:"ipFamilies,omitempty"`
	// CPU is the task's Limits.CPU in vCPUs and MemoryMiB its Limits.Memory in MiB: the
	// limits of the whole task, which size Envoy when its own container's cgroup sets
	// none. 0 is absent (no task-level limit, or a file written before they were
	// recorded).
	CPU       float64 `json:"cpu,omitempty"`
	MemoryMiB int64   `json:"memoryMiB,omitempty"`
}

// ECSContainer holds the container's Limits, formatted as the reference does
// ("256", "0.25", "1e+06"); "" is absent (D5).
type ECSContainer struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Uname is the machine and release of uname(2) (systemPlatform and
// systemKernelVersion in the node metadata); "" is unknown.
type Uname struct {
	Machine string `json:"machine,omitempty"`
	Release string `json:"release,omitempty"`
}

// Interfaces maps interface names to their "ip/prefixlen" addresses, per
// family, in the order the system listed them.
type Interfaces struct {
	IPv4 map[string][]string `json:"ipv4,omitempty"`
	IPv6 map[string][]string `json:"ipv6,omitempty"`
}

// EncodeHostFacts returns the JSON form of h: indented, keys in a fixed order,
// a trailing newline, Schema filled in.
func EncodeHostFacts(h HostFacts) ([]byte, error) {
	h.Schema = HostFactsSchema
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeHostFacts reads the JSON form of HostFacts strictly: unknown keys,
// wrong types, duplicate keys and values that cannot be what a source
// answered are errors naming name (the file), the key and its line.
func DecodeHostFacts(name string, data []byte) (HostFacts, error) {
	h, _, err := decodeHostFacts(name, data)
	return h, err
}

// ReadHostFacts reads and decodes a facts file.
func ReadHostFacts(path string) (HostFacts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return HostFacts{}, fmt.Errorf("facts file: %w", err)
	}
	return DecodeHostFacts(path, data)
}

// OverrideHostFacts applies data, a (partial) facts document, on top of base:
// each top-level section data has replaces base's whole section, and a null
// section removes it. It is how a case's own facts override shared ones.
func OverrideHostFacts(base HostFacts, name string, data []byte) (HostFacts, error) {
	over, present, err := decodeHostFacts(name, data)
	if err != nil {
		return HostFacts{}, err
	}
	out := base
	dst, src := reflectFields(&out), reflectFields(&over)
	for key := range present {
		dst[key].Set(src[key])
	}
	return out, nil
}

func decodeHostFacts(name string, data []byte) (HostFacts, map[string]bool, error) {
	var h HostFacts
	d := &strictDecoder{dec: json.NewDecoder(bytes.NewReader(data)), data: data, name: name}
	d.dec.UseNumber()
	present, err := d.decodeTop(&h)
	if err != nil {
		return HostFacts{}, nil, err
	}
	if err := h.check(); err != nil {
		return HostFacts{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	return h, present, nil
}

// Allowed values of ECSTask.IPFamilies.
var knownFamilies = map[string]bool{"": true, FamiliesAll: true, FamiliesIPv4Only: true, FamiliesIPv6Only: true}

// check rejects values that no source could have produced, so that a
// hand-edited file fails here rather than in a bootstrap.
func (h HostFacts) check() error {
	if h.Schema != 0 && h.Schema != HostFactsSchema {
		return fmt.Errorf("schema: %d is not supported (want %d)", h.Schema, HostFactsSchema)
	}
	if e := h.Envoy; e != nil {
		if e.Version == "" {
			return fmt.Errorf("envoy.version: must not be empty (omit the envoy section when the probe failed)")
		}
		if e.FIPS && !isFIPS(e.Version) {
			return fmt.Errorf("envoy.fips: true, but envoy.version %q does not contain \"fips\"", e.Version)
		}
		// A false fips with a FIPS version is the zero value of an omitted key:
		// FIPS is derived from the version, which wins.
	}
	if t := h.ECSTask; t != nil {
		switch {
		case !knownFamilies[t.IPFamilies]:
			return fmt.Errorf("ecsTask.ipFamilies: %q is not one of %s, %s, %s", t.IPFamilies, FamiliesAll, FamiliesIPv4Only, FamiliesIPv6Only)
		case t.CPU < 0 || t.CPU > maxTaskCPU:
			return fmt.Errorf("ecsTask.cpu: %v is not a number of vCPUs between 0 and %d (0: no task CPU limit)", t.CPU, maxTaskCPU)
		case t.MemoryMiB < 0 || t.MemoryMiB > maxTaskMemoryMiB:
			return fmt.Errorf("ecsTask.memoryMiB: %d is not a number of MiB between 0 and %d (0: no task memory limit)", t.MemoryMiB, maxTaskMemoryMiB)
		}
	}
	if m := h.Memory; m != nil {
		if m.LimitBytes < 0 {
			return fmt.Errorf("memory.limitBytes: %d is negative (0 means no limit)", m.LimitBytes)
		}
		if m.Source == "" {
			return fmt.Errorf("memory.source: must name the cgroup file the limit was read from")
		}
	}
	if c := h.CPU; c != nil {
		if c.CPUs < 0 {
			return fmt.Errorf("cpu.cpus: %v is negative (0 means no limit)", c.CPUs)
		}
		if c.Source == "" {
			return fmt.Errorf("cpu.source: must name the cgroup file the quota was read from")
		}
	}
	if ifs := h.Interfaces; ifs != nil {
		for _, fam := range []struct {
			key  string
			m    map[string][]string
			want func(netip.Addr) bool
		}{{"ipv4", ifs.IPv4, netip.Addr.Is4}, {"ipv6", ifs.IPv6, netip.Addr.Is6}} {
			for _, name := range slices.Sorted(maps.Keys(fam.m)) {
				for i, a := range fam.m[name] {
					p, err := netip.ParsePrefix(a)
					if err != nil || !fam.want(p.Addr()) {
						return fmt.Errorf("interfaces.%s.%s[%d]: %q is not an %s address with a prefix length (ip/len)", fam.key, name, i, a, fam.key)
					}
				}
			}
		}
	}
	return nil
}
