package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strings"
)

// fetchTask reads <base>/task once (the reference read it twice).
func fetchTask(ctx context.Context, base string) (ECSTask, error) {
	body, err := fetch(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/task", nil)
	if err != nil {
		return ECSTask{}, err
	}
	return parseTask(body)
}

// fetchLimits reads the container metadata <base> for its Limits.
func fetchLimits(ctx context.Context, base string) (ECSContainer, error) {
	body, err := fetch(ctx, http.MethodGet, strings.TrimRight(base, "/"), nil)
	if err != nil {
		return ECSContainer{}, err
	}
	return parseLimits(body)
}

// decodeObject parses body as a JSON object. Numbers become float64 on
// purpose: the CPU/Memory strings must match Go's %v of a float64.
func decodeObject(body []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("response is not a JSON object")
	}
	return m, nil
}

// parseTask extracts the task facts leniently: a field of the wrong type is
// simply absent, so one odd field does not lose the others.
func parseTask(body []byte) (ECSTask, error) {
	m, err := decodeObject(body)
	if err != nil {
		return ECSTask{}, fmt.Errorf("task metadata: %w", err)
	}
	mode, families := taskNetwork(m["Containers"])
	limits, _ := m["Limits"].(map[string]any)
	return ECSTask{
		Cluster:            str(m["Cluster"]),
		TaskARN:            str(m["TaskARN"]),
		AvailabilityZone:   str(m["AvailabilityZone"]),
		AvailabilityZoneID: str(m["AvailabilityZoneID"]),
		NetworkMode:        mode,
		IPFamilies:         families,
		CPU:                taskCPU(limits["CPU"]),
		MemoryMiB:          taskMemoryMiB(limits["Memory"]),
	}, nil
}

// maxTaskCPU and maxTaskMemoryMiB bound what a task limit can be: far above any instance
// ECS runs on (the largest have a few hundred vCPUs and tens of TiB), so a larger value is
// garbage rather than a limit, and is left out.
const (
	maxTaskCPU       = 4096
	maxTaskMemoryMiB = 1 << 30 // 1 PiB
)

// taskCPU is the task's Limits.CPU, in vCPUs (task metadata reports the task level in vCPUs,
// e.g. 0.25, unlike a container's CPU units); 0 when absent or not a usable number.
func taskCPU(v any) float64 {
	f, ok := v.(float64)
	if !ok || !(f > 0 && f <= maxTaskCPU) {
		return 0
	}
	return f
}

// taskMemoryMiB is the task's Limits.Memory in MiB; 0 when absent or not a whole positive
// number.
func taskMemoryMiB(v any) int64 {
	f, ok := v.(float64)
	if !ok || !(f >= 1 && f <= maxTaskMemoryMiB) || f != math.Trunc(f) {
		return 0
	}
	return int64(f)
}

// parseLimits extracts Limits.CPU and Limits.Memory. A response without Limits
// is valid and yields no values (D5: the reference panics).
func parseLimits(body []byte) (ECSContainer, error) {
	m, err := decodeObject(body)
	if err != nil {
		return ECSContainer{}, fmt.Errorf("container metadata: %w", err)
	}
	raw, present := m["Limits"]
	if !present || raw == nil {
		return ECSContainer{}, nil
	}
	limits, ok := raw.(map[string]any)
	if !ok {
		return ECSContainer{}, errors.New("container metadata: Limits is not an object")
	}
	return ECSContainer{CPU: formatLimit(limits["CPU"]), Memory: formatLimit(limits["Memory"])}, nil
}

// formatLimit renders a limit as the reference does (fmt %v of the decoded
// JSON number: 256 → "256", 0.25 → "0.25", 1000000 → "1e+06"). A string is
// kept as is; anything else (missing, null, object) is absent rather than the
// reference's "<nil>".
func formatLimit(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%v", x)
	case string:
		return x
	}
	return ""
}

// Network modes recognised in task metadata (others are ignored).
var knownNetworkModes = map[string]bool{"awsvpc": true, "bridge": true, "host": true, "none": true, "default": true}

// taskNetwork finds the task's network mode and the address families of the
// container that decides them, from the Containers array of the task metadata.
//
// The network mode is the first recognised Networks[].NetworkMode across the
// containers.
//   - awsvpc: the families of the container that supplied the mode. (The
//     reference always uses Containers[0]; in awsvpc every container
//     shares the task ENI, so this only differs when Containers[0] reports no
//     network, where the reference finds nothing.)
//   - bridge: the families of the CNI_PAUSE container (see ipFamilies for the
//     narrowing of ALL).
//   - other modes: the mode, with unknown families.
func taskNetwork(rawContainers any) (mode, families string) {
	containers, _ := rawContainers.([]any)
	var source map[string]any
	for _, rc := range containers {
		c, _ := rc.(map[string]any)
		for _, rn := range list(c["Networks"]) {
			n, _ := rn.(map[string]any)
			if nm := str(n["NetworkMode"]); knownNetworkModes[nm] {
				mode, source = nm, c
				break
			}
		}
		if mode != "" {
			break
		}
	}
	switch mode {
	case "awsvpc":
		return mode, containerFamilies(source)
	case "bridge":
		for _, rc := range containers {
			c, _ := rc.(map[string]any)
			if str(c["Type"]) == "CNI_PAUSE" {
				return mode, containerFamilies(c)
			}
		}
	}
	return mode, ""
}

// ipFamilies returns the supportedIPFamilies of a task with the given network
// mode and families, given the container IP mapping: a dual-stack bridge task
// is narrowed by bridgeFamilies; other modes than awsvpc and bridge are unknown.
func ipFamilies(mode, families string, mapping map[string]any) string {
	switch {
	case mode == "bridge" && families == FamiliesAll:
		return bridgeFamilies(mapping)
	case mode == "awsvpc" || mode == "bridge":
		return families
	}
	return ""
}

// containerFamilies reports which address families the container's networks
// carry.
func containerFamilies(c map[string]any) string {
	var v4, v6 bool
	for _, rn := range list(c["Networks"]) {
		n, _ := rn.(map[string]any)
		v4 = v4 || hasAddress(n["IPv4Addresses"])
		v6 = v6 || hasAddress(n["IPv6Addresses"])
	}
	switch {
	case v4 && v6:
		return FamiliesAll
	case v4:
		return FamiliesIPv4Only
	case v6:
		return FamiliesIPv6Only
	}
	return ""
}

// bridgeFamilies narrows a dual-stack bridge task using the container IP
// mapping (container name → IP the application is reached on). The reference
// looks at one arbitrary (map-order) entry; we decide deterministically:
// IPv6_ONLY when the mapping is non-empty and every value is an IPv6 literal,
// otherwise ALL. This agrees with the reference whenever its answer does not
// depend on map order (mappings are homogeneous in practice) and, for a mixed
// mapping, keeps ALL so that no IPv4-addressed container is cut off.
func bridgeFamilies(mapping map[string]any) string {
	if len(mapping) == 0 {
		return FamiliesAll
	}
	for _, v := range mapping {
		s, ok := v.(string)
		if !ok {
			return FamiliesAll
		}
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || !a.Is6() || a.Is4In6() {
			return FamiliesAll
		}
	}
	return FamiliesIPv6Only
}

// hasAddress reports whether v is a list holding at least one non-empty string.
func hasAddress(v any) bool {
	for _, e := range list(v) {
		if s, _ := e.(string); s != "" {
			return true
		}
	}
	return false
}

// str returns v if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// list returns v if it is a JSON array, else nil.
func list(v any) []any {
	l, _ := v.([]any)
	return l
}
