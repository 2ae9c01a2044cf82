package examples

import (
	"os"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// TestKubernetesManifests decodes each manifest strictly into its Kubernetes API type (an
// unknown or misspelt field, a wrong type or a repeated key is an error, as kubectl's
// server-side field validation would say), then checks the agent as a native sidecar and
// renders its environment with `render --env-file`.
func TestKubernetesManifests(t *testing.T) {
	t.Run("deployment.yaml", func(t *testing.T) {
		var d appsv1.Deployment
		decodeManifest(t, "deployment.yaml", "apps/v1", "Deployment", &d)
		if d.Spec.Selector == nil || !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Error("the Deployment's selector does not select its pod template")
		}
		agent := checkPod(t, &d.Spec.Template.Spec)
		if agent.ReadinessProbe == nil {
			t.Error("the agent has no readinessProbe: an unhealthy Envoy would stay in the Services")
		}
	})
	t.Run("job.yaml", func(t *testing.T) {
		var j batchv1.Job
		decodeManifest(t, "job.yaml", "batch/v1", "Job", &j)
		if p := j.Spec.Template.Spec.RestartPolicy; p != corev1.RestartPolicyNever && p != corev1.RestartPolicyOnFailure {
			t.Errorf("a Job's pod restartPolicy must be Never or OnFailure, not %q", p)
		}
		checkPod(t, &j.Spec.Template.Spec)
	})
}

// decodeManifest reads kubernetes/file into obj strictly and checks its apiVersion and kind.
func decodeManifest(t *testing.T, file, apiVersion, kind string, obj runtime.Object) {
	t.Helper()
	data, err := os.ReadFile(repoPath("examples", "kubernetes", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.GroupVersion().String() != apiVersion || gvk.Kind != kind {
		t.Fatalf("%s: apiVersion %q kind %q, want %s %s", file, gvk.GroupVersion(), gvk.Kind, apiVersion, kind)
	}
}

// checkPod checks a pod template that runs the agent as a native sidecar and returns the
// agent's container: an init container with restartPolicy Always, running as the image's
// user, a startupProbe (so the app starts after Envoy is ready) with time for one check, no
// preStop (the native sidecar stops after the app), a grace period that covers the drain, the
// xDS socket mounted, and an environment that renders.
func checkPod(t *testing.T, pod *corev1.PodSpec) *corev1.Container {
	t.Helper()
	i := slices.IndexFunc(pod.InitContainers, func(c corev1.Container) bool {
		return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	})
	if i < 0 {
		t.Fatal("no native sidecar (an init container with restartPolicy: Always)")
	}
	agent := &pod.InitContainers[i]
	if len(pod.Containers) == 0 {
		t.Fatal("no app container")
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
	}{{"startupProbe", agent.StartupProbe}, {"readinessProbe", agent.ReadinessProbe}} {
		switch {
		case p.probe == nil:
			if p.name == "startupProbe" {
				t.Error("the agent has no startupProbe: the app would start before Envoy is ready")
			}
		case p.probe.Exec == nil || !slices.Equal(p.probe.Exec.Command, probeCommand):
			t.Errorf("%s %+v, want exec %q", p.name, p.probe.ProbeHandler, probeCommand)
		case p.probe.TimeoutSeconds <= probeTimeout:
			t.Errorf("%s timeoutSeconds %d: one -envoyReadiness check may take %d s", p.name, p.probe.TimeoutSeconds, probeTimeout)
		}
	}
	if agent.Lifecycle != nil && agent.Lifecycle.PreStop != nil {
		t.Error("the agent has a preStop hook; a native sidecar stops after the app and drains on SIGTERM")
	}
	sc := agent.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != agentUID || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("the agent's securityContext %+v, want runAsNonRoot with runAsUser %d (the image's user)", sc, agentUID)
	}
	env := envLines(t, agent.Env)
	drain := envInt(t, env, "LISTENER_DRAIN_WAIT_TIME_S", 20)
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g < int64(drain+10) {
		t.Errorf("terminationGracePeriodSeconds %v: the drain takes up to LISTENER_DRAIN_WAIT_TIME_S (%d s) and Envoy 5 s more", g, drain)
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
	}
	var mounts []string
	for _, m := range agent.VolumeMounts {
		if !volumes[m.Name] {
			t.Errorf("the agent mounts %q, which is not a volume of the pod", m.Name)
		}
		mounts = append(mounts, m.MountPath)
	}
	socketUnderMount(t, envValue(env, "APPMESH_XDS_ENDPOINT"), mounts)
	checkNoUnexpectedWarnings(t, renderEnv(t, env, envoyDefault))
	return agent
}

// envLines is a container's environment as KEY=VALUE lines; only literal values are
// supported (a valueFrom needs a sample value here before it can be rendered).
func envLines(t *testing.T, vars []corev1.EnvVar) []string {
	t.Helper()
	var lines []string
	for _, v := range vars {
		if v.ValueFrom != nil || strings.Contains(v.Value, "\n") {
			t.Fatalf("env %s: only single-line literal values can be rendered by this test", v.Name)
		}
		lines = append(lines, v.Name+"="+v.Value)
	}
	return lines
}

// selects reports whether every label of the selector is on the template.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}
