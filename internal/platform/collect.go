package platform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Collect gathers all facts concurrently within in.Timeout (a deadline on ctx
// is honoured too). When the budget runs out it returns what it has; the
// remaining work is cancelled through the context and stops shortly after, and
// anything it finds later is discarded.
func Collect(ctx context.Context, in Inputs) Facts {
	start := time.Now()
	r := gather(ctx, in, requestFor(in), liveSource{})
	return r.facts(in, time.Since(start))
}

// Capture asks every source this host has (given in's endpoints and Envoy
// path, whatever in says is needed) and returns the raw answers, for
// `appnet-agent facts`, plus the soft failures as warnings.
func Capture(ctx context.Context, in Inputs) (HostFacts, []string) {
	start := time.Now()
	req := request{envoy: in.EnvoyPath != "", region: true, zone: true, ecsTask: in.TMDSURI != "", ecsContainer: in.TMDSURI != "", memory: true, cpu: true, node: true}
	r := gather(ctx, in, req, liveSource{})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timeoutWarnings(time.Since(start))
	if r.regionErr != nil && !in.IMDSDisabled { // disabled: already said for the zone
		r.warnf("%v", r.regionErr)
	}
	h := r.host
	h.Schema = HostFactsSchema
	warnings := slices.Clone(r.warnings)
	sort.Strings(warnings)
	return h, warnings
}

// Replay returns a Collector that answers from h instead of asking the host:
// no network call, no probe, no system call. It combines h with the Inputs
// exactly as Collect combines live answers, and a source h lacks behaves like
// one that failed, with the same warnings and errors.
func Replay(h HostFacts) Collector {
	return CollectorFunc(func(ctx context.Context, in Inputs) Facts {
		return gather(ctx, in, requestFor(in), replaySource{h}).facts(in, 0)
	})
}

// request says which sources to ask.
type request struct {
	envoy        bool // probe in.EnvoyPath
	region       bool // the region from instance metadata
	zone         bool // the availability zone (name and ID) from instance metadata
	ecsTask      bool // ECS task metadata at in.TMDSURI/task (platform info, the task's limits)
	ecsContainer bool // ECS container metadata at in.TMDSURI (platform info)
	memory       bool // the cgroup memory limit under in.CgroupRoot
	cpu          bool // the cgroup CPU quota under in.CgroupRoot
	node         bool // uname and the network interfaces (node metadata)
}

// requestFor asks what rendering with in needs.
func requestFor(in Inputs) request {
	return request{
		envoy:  in.ProbeEnvoy && in.EnvoyPath != "",
		region: in.NeedRegion && in.Region == "",
		zone:   isK8s(in),
		// The task for the platform info, and for its limits when Envoy is sized.
		ecsTask:      in.TMDSURI != "" && (in.ExecutionEnv != "" || in.NeedCPUQuota || in.NeedMemoryLimit),
		ecsContainer: in.ExecutionEnv != "" && in.TMDSURI != "",
		memory:       in.NeedMemoryLimit,
		cpu:          in.NeedCPUQuota,
		node:         !in.SkipNodeInfo,
	}
}

// gather asks src what req says, concurrently, within the budget, and returns
// the results; once it returns, late answers are dropped.
func gather(ctx context.Context, in Inputs, req request, src source) *results {
	budget := in.Timeout
	if budget <= 0 {
		budget = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	r := &results{pending: map[string]bool{}}
	var wg sync.WaitGroup
	run := func(name string, work func(context.Context)) {
		r.mu.Lock()
		r.pending[name] = true
		r.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(ctx)
			r.mu.Lock()
			delete(r.pending, name)
			r.mu.Unlock()
		}()
	}

	if req.envoy {
		run("envoy --version", func(ctx context.Context) {
			v, err := src.envoyVersion(ctx, in.EnvoyPath)
			r.record(func() {
				if err != nil {
					r.warnf("envoy version probe failed, assuming version %q (not FIPS): %v", UnknownVersion, err)
					return
				}
				r.host.Envoy = &EnvoyFacts{Version: v, FIPS: isFIPS(v)}
			})
		})
	}

	switch {
	case !req.region && !req.zone:
	case in.IMDSDisabled:
		// The SDK semantics of AWS_EC2_METADATA_DISABLED: not a single call.
		r.record(func() {
			if req.region {
				r.regionErr = fmt.Errorf("%s: instance metadata is disabled (AWS_EC2_METADATA_DISABLED=true); set AWS_REGION", RegionErrPrefix)
			}
			if req.zone {
				r.warnf("instance metadata is disabled (AWS_EC2_METADATA_DISABLED=true): availability zone not collected")
			}
		})
	default:
		run("instance metadata", func(ctx context.Context) { collectIMDS(ctx, src.imds(ctx, in.IMDSEndpoint), r, req) })
	}

	if req.ecsTask {
		run("ECS task metadata", func(ctx context.Context) {
			t, err := src.ecsTask(ctx, in.TMDSURI)
			r.record(func() {
				if err != nil {
					r.warnf("ECS task metadata: %v", err)
					return
				}
				r.host.ECSTask = &t
			})
		})
	}
	if req.ecsContainer {
		run("ECS container metadata", func(ctx context.Context) {
			l, err := src.ecsContainer(ctx, in.TMDSURI)
			r.record(func() {
				if err != nil {
					r.warnf("ECS container metadata: %v", err)
					return
				}
				r.host.ECSContainer = &l
			})
		})
	}

	cgroupRoot := cmp.Or(in.CgroupRoot, DefaultCgroupRoot)
	if req.memory {
		run("cgroup memory limit", func(context.Context) {
			m, err := src.memoryLimit(cgroupRoot)
			r.record(func() {
				switch {
				case err == nil:
					r.host.Memory = &m
				case errors.Is(err, errNoMemoryCgroup) && !in.NeedMemoryLimit:
					// Capture on a host without a container limit: nothing to report.
				default:
					r.warnf("container memory limit: %v", err)
				}
			})
		})
	}
	if req.cpu {
		run("cgroup CPU quota", func(context.Context) {
			q, err := src.cpuQuota(cgroupRoot)
			r.record(func() {
				switch {
				case err != nil:
					r.warnf("cannot read the container CPU quota, so Envoy picks its own concurrency: %v", err)
				case q.Source != "": // no cgroup CPU file at all: nothing to report
					r.host.CPU = &q
				}
			})
		})
	}
	if req.node {
		run("uname", func(context.Context) {
			u, err := src.uname()
			r.record(func() {
				if err != nil {
					r.warnf("system info: %v", err)
					return
				}
				r.host.Uname = &u
			})
		})
		run("network interfaces", func(context.Context) {
			ifs, warns, err := src.interfaces()
			r.record(func() {
				r.warnings = append(r.warnings, warns...)
				if err != nil {
					r.warnf("%v", err)
					return
				}
				r.host.Interfaces = &ifs
			})
		})
	}

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	r.mu.Lock()
	r.closed = true // the snapshot: answers after this are dropped
	for name := range r.pending {
		r.timedOut = append(r.timedOut, name)
	}
	sort.Strings(r.timedOut)
	r.mu.Unlock()
	return r
}

// collectIMDS obtains one IMDS session and runs the lookups it serves in
// parallel: the availability zone name and ID (K8s branch) and the region.
func collectIMDS(ctx context.Context, c imdsSource, r *results, req request) {
	var wg sync.WaitGroup
	lookup := func(key string, store func(string)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.metadata(ctx, key)
			r.record(func() {
				if err != nil {
					r.warnf("instance metadata %s: %v", key, err)
					return
				}
				store(v)
			})
		}()
	}
	if req.zone {
		lookup(imdsAZ, func(v string) { r.imds().AvailabilityZone = v })
		lookup(imdsAZID, func(v string) { r.imds().AvailabilityZoneID = v })
	}
	if req.region {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.region(ctx)
			r.record(func() {
				if err != nil {
					r.regionErr = fmt.Errorf("%s: %w", RegionErrPrefix, err)
					return
				}
				r.imds().Region = v
			})
		}()
	}
	wg.Wait()
}

// isK8s reports whether the Kubernetes branch applies (all three set).
func isK8s(in Inputs) bool {
	return in.K8sVersion != "" && in.K8sPodUID != "" && in.K8sControllerVersion != ""
}

// results accumulates what the workers found. Workers write through record;
// once gather has taken its snapshot (closed), late writes are dropped, so
// work that outlives the budget can neither race with nor alter the Facts
// already returned.
type results struct {
	mu      sync.Mutex
	closed  bool
	pending map[string]bool // work still running, for the timeout warning

	host      HostFacts // the sources' answers
	regionErr error
	warnings  []string
	timedOut  []string // what was pending when the snapshot was taken, sorted
}

// imds returns the instance metadata section, creating it; call it only
// inside record.
func (r *results) imds() *InstanceMetadata {
	if r.host.InstanceMetadata == nil {
		r.host.InstanceMetadata = &InstanceMetadata{}
	}
	return r.host.InstanceMetadata
}

// record applies fn under the lock unless the snapshot was already taken.
func (r *results) record(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		fn()
	}
}

// warnf adds a warning; call it only inside record.
func (r *results) warnf(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// facts assembles the Facts from the snapshot gather took.
func (r *results) facts(in Inputs, elapsed time.Duration) Facts {
	r.mu.Lock()
	defer r.mu.Unlock()

	f := Facts{
		EnvoyVersion: UnknownVersion,
		Region:       in.Region,
		Interfaces:   interfacesMap(r.host.Interfaces),
	}
	if e := r.host.Envoy; e != nil {
		f.EnvoyVersion = e.Version
		f.FIPS = isFIPS(e.Version)
	}
	r.timeoutWarnings(elapsed)
	if in.NeedRegion && f.Region == "" {
		if im := r.host.InstanceMetadata; im != nil {
			f.Region = im.Region
		}
		f.RegionErr = r.regionErr
		if f.Region == "" && f.RegionErr == nil {
			f.RegionErr = fmt.Errorf("%s: no answer within %s", RegionErrPrefix, since(elapsed))
		}
	}
	f.PlatformInfo = r.platformInfo(in)
	f.AvailabilityZoneID = r.availabilityZoneID(in)
	if in.NeedMemoryLimit {
		f.Memory = r.host.Memory
	}
	if in.NeedCPUQuota {
		f.CPU = r.host.CPU
	}
	f.Task = r.taskLimits(in)
	f.Warnings = slices.Clone(r.warnings)
	sort.Strings(f.Warnings)
	return f
}

// timeoutWarnings reports the work that did not finish within the budget;
// call it with the lock held.
func (r *results) timeoutWarnings(elapsed time.Duration) {
	if len(r.timedOut) == 0 {
		return
	}
	r.warnf("platform facts: gave up after %s waiting for %s", since(elapsed), strings.Join(r.timedOut, ", "))
	if slices.Contains(r.timedOut, "envoy --version") {
		r.warnf("envoy version probe did not finish, assuming version %q (not FIPS)", UnknownVersion)
	}
}

// availabilityZoneID is the zone ID platformInfo reports: ECS task metadata's
// (authoritative for the task), else instance metadata's in the K8s branch.
func (r *results) availabilityZoneID(in Inputs) string {
	var id string
	if im := r.host.InstanceMetadata; im != nil && isK8s(in) {
		id = im.AvailabilityZoneID
	}
	if t := r.host.ECSTask; t != nil && in.ExecutionEnv != "" && t.AvailabilityZoneID != "" {
		id = t.AvailabilityZoneID
	}
	return id
}

// platformInfo builds aws.appmesh.platformInfo (without fipsModeEnabled), or
// nil when nothing is known.
func (r *results) platformInfo(in Inputs) map[string]any {
	pi := map[string]any{}
	if isK8s(in) {
		pi[KeyK8sPlatformInfo] = map[string]any{
			"k8sVersion":               in.K8sVersion,
			"podUid":                   in.K8sPodUID,
			"appMeshControllerVersion": in.K8sControllerVersion,
		}
		if im := r.host.InstanceMetadata; im != nil {
			setIf(pi, KeyAvailabilityZone, im.AvailabilityZone)
		}
	}
	if in.ExecutionEnv != "" {
		var task ECSTask
		var limits ECSContainer
		if r.host.ECSTask != nil {
			task = *r.host.ECSTask
		}
		if r.host.ECSContainer != nil {
			limits = *r.host.ECSContainer
		}
		ecs := map[string]any{"ecsLaunchType": in.ExecutionEnv}
		setIf(ecs, "ecsContainerInstanceArn", in.ContainerInstanceARN)
		setIf(ecs, "ecsClusterArn", task.Cluster)
		setIf(ecs, "ecsTaskArn", task.TaskARN)
		setIf(ecs, "CPU", limits.CPU)
		setIf(ecs, "Memory", limits.Memory)
		pi[KeyECSPlatformInfo] = ecs
		// Task metadata is authoritative for the task's own zone, so it
		// overrides what instance metadata said in the K8s branch.
		setIf(pi, KeyAvailabilityZone, task.AvailabilityZone)
		setIf(pi, KeySupportedIPFamilies, ipFamilies(task.NetworkMode, task.IPFamilies, in.ContainerIPMapping))
	}
	setIf(pi, KeyAvailabilityZoneID, r.availabilityZoneID(in))
	if si := systemInfoMap(r.host.Uname); si != nil {
		pi[KeySystemInfo] = si
	}
	if len(pi) == 0 {
		return nil
	}
	return pi
}

// setIf sets m[k] = v when v is non-empty.
func setIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// since formats an elapsed time for messages.
func since(d time.Duration) string { return d.Round(time.Millisecond).String() }

// taskLimits are the task's limits when sizing asks for them and the task metadata gave
// any; nil otherwise.
func (r *results) taskLimits(in Inputs) *TaskLimits {
	t := r.host.ECSTask
	if t == nil || in.TMDSURI == "" || !(in.NeedCPUQuota || in.NeedMemoryLimit) || (t.CPU == 0 && t.MemoryMiB == 0) {
		return nil
	}
	l := &TaskLimits{Source: "ECS task metadata " + strings.TrimRight(in.TMDSURI, "/") + "/task"}
	if in.NeedCPUQuota {
		l.CPUs = t.CPU
	}
	if in.NeedMemoryLimit {
		l.MemoryBytes = t.MemoryMiB << 20
	}
	if l.CPUs == 0 && l.MemoryBytes == 0 {
		return nil
	}
	return l
}
