package platform

import (
	"context"
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

	if in.ProbeEnvoy && in.EnvoyPath != "" {
		run("envoy --version", func(ctx context.Context) {
			v, err := probeEnvoy(ctx, in.EnvoyPath)
			r.record(func() {
				if err != nil {
					r.warnf("envoy version probe failed, assuming version %q (not FIPS): %v", UnknownVersion, err)
					return
				}
				r.version = v
			})
		})
	}

	needRegion := in.NeedRegion && in.Region == ""
	k8s := isK8s(in)
	switch {
	case !needRegion && !k8s:
	case in.IMDSDisabled:
		// The SDK semantics of AWS_EC2_METADATA_DISABLED: not a single call.
		r.record(func() {
			if needRegion {
				r.regionErr = fmt.Errorf("%s: instance metadata is disabled (AWS_EC2_METADATA_DISABLED=true); set AWS_REGION", RegionErrPrefix)
			}
			if k8s {
				r.warnf("instance metadata is disabled (AWS_EC2_METADATA_DISABLED=true): availability zone not collected")
			}
		})
	default:
		run("instance metadata", func(ctx context.Context) { collectIMDS(ctx, in, r, needRegion, k8s) })
	}

	if in.ExecutionEnv != "" && in.TMDSURI != "" {
		run("ECS task metadata", func(ctx context.Context) {
			t, err := fetchTask(ctx, in.TMDSURI, in.ContainerIPMapping)
			r.record(func() {
				if err != nil {
					r.warnf("ECS task metadata: %v", err)
					return
				}
				r.task = t
			})
		})
		run("ECS container metadata", func(ctx context.Context) {
			l, err := fetchLimits(ctx, in.TMDSURI)
			r.record(func() {
				if err != nil {
					r.warnf("ECS container metadata: %v", err)
					return
				}
				r.limits = l
			})
		})
	}

	run("uname", func(context.Context) {
		s, err := systemInfo()
		r.record(func() {
			if err != nil {
				r.warnf("system info: %v", err)
			}
			r.system = s
		})
	})
	run("network interfaces", func(context.Context) {
		ifs, warns, err := interfaceAddrs()
		r.record(func() {
			if err != nil {
				r.warnf("%v", err)
			}
			r.warnings = append(r.warnings, warns...)
			r.interfaces = ifs
		})
	})

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return r.facts(in, time.Since(start))
}

// collectIMDS obtains one IMDS session and runs the lookups it serves in
// parallel: the availability zone name and ID (K8s branch) and the region.
func collectIMDS(ctx context.Context, in Inputs, r *results, needRegion, needAZ bool) {
	c := newIMDSClient(ctx, in.IMDSEndpoint)
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
	if needAZ {
		lookup(imdsAZ, func(v string) { r.imdsAZ = v })
		lookup(imdsAZID, func(v string) { r.imdsAZID = v })
	}
	if needRegion {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.region(ctx)
			r.record(func() {
				if err != nil {
					r.regionErr = fmt.Errorf("%s: %w", RegionErrPrefix, err)
					return
				}
				r.region = v
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
// once Collect has taken its snapshot (closed), late writes are dropped, so
// work that outlives the budget can neither race with nor alter the Facts
// already returned.
type results struct {
	mu      sync.Mutex
	closed  bool
	pending map[string]bool // work still running, for the timeout warning

	version          string
	region           string
	regionErr        error
	imdsAZ, imdsAZID string
	task             taskFacts
	limits           containerLimits
	system           map[string]any
	interfaces       map[string]any
	warnings         []string
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

// facts takes the snapshot and assembles the Facts.
func (r *results) facts(in Inputs, elapsed time.Duration) Facts {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true

	f := Facts{
		EnvoyVersion: UnknownVersion,
		Region:       in.Region,
		Interfaces:   r.interfaces,
	}
	if r.version != "" {
		f.EnvoyVersion = r.version
		f.FIPS = isFIPS(r.version)
	}
	if len(r.pending) > 0 {
		names := make([]string, 0, len(r.pending))
		for n := range r.pending {
			names = append(names, n)
		}
		sort.Strings(names)
		r.warnf("platform facts: gave up after %s waiting for %s", since(elapsed), strings.Join(names, ", "))
		if r.pending["envoy --version"] {
			r.warnf("envoy version probe did not finish, assuming version %q (not FIPS)", UnknownVersion)
		}
	}
	if in.NeedRegion && f.Region == "" {
		f.Region = r.region
		f.RegionErr = r.regionErr
		if f.Region == "" && f.RegionErr == nil {
			f.RegionErr = fmt.Errorf("%s: no answer within %s", RegionErrPrefix, since(elapsed))
		}
	}
	f.PlatformInfo = r.platformInfo(in)
	f.Warnings = slices.Clone(r.warnings)
	sort.Strings(f.Warnings)
	return f
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
		setIf(pi, KeyAvailabilityZone, r.imdsAZ)
		setIf(pi, KeyAvailabilityZoneID, r.imdsAZID)
	}
	if in.ExecutionEnv != "" {
		ecs := map[string]any{"ecsLaunchType": in.ExecutionEnv}
		setIf(ecs, "ecsContainerInstanceArn", in.ContainerInstanceARN)
		setIf(ecs, "ecsClusterArn", r.task.clusterARN)
		setIf(ecs, "ecsTaskArn", r.task.taskARN)
		setIf(ecs, "CPU", r.limits.cpu)
		setIf(ecs, "Memory", r.limits.memory)
		pi[KeyECSPlatformInfo] = ecs
		// Task metadata is authoritative for the task's own zone, so it
		// overrides what instance metadata said in the K8s branch.
		setIf(pi, KeyAvailabilityZone, r.task.az)
		setIf(pi, KeyAvailabilityZoneID, r.task.azID)
		setIf(pi, KeySupportedIPFamilies, r.task.ipFamilies)
	}
	if len(r.system) > 0 {
		pi[KeySystemInfo] = r.system
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
