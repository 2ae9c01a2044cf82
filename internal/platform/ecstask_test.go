package platform

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// The task's own limits (task metadata Limits, vCPUs and MiB) size Envoy where its
// container's cgroup sets none; the platform reads them when sizing asks, also outside the
// ECS branch, and a facts file replays them.
func TestTaskLimits(t *testing.T) {
	tests := []struct {
		body      string
		cpu       float64
		memoryMiB int64
	}{
		{`{"Limits":{"CPU":0.25,"Memory":512}}`, 0.25, 512},
		{`{"Limits":{"CPU":4}}`, 4, 0},
		{`{"Limits":{"Memory":3072}}`, 0, 3072},
		{`{"Limits":{"CPU":"2","Memory":"512"}}`, 0, 0}, // strings: not what ECS sends
		{`{"Limits":{"CPU":-1,"Memory":0.5}}`, 0, 0},    // nonsense
		{`{"Limits":{"CPU":1e9,"Memory":1e300}}`, 0, 0}, // beyond any machine
		{`{"Limits":[1]}`, 0, 0},
		{`{}`, 0, 0},
	}
	for _, tt := range tests {
		got, err := parseTask([]byte(tt.body))
		if err != nil || got.CPU != tt.cpu || got.MemoryMiB != tt.memoryMiB {
			t.Errorf("parseTask(%s) = cpu %v, memory %v, %v; want %v, %v", tt.body, got.CPU, got.MemoryMiB, err, tt.cpu, tt.memoryMiB)
		}
	}

	ctx := context.Background()
	tmds := newTMDSMock(t, map[string]string{"/task": `{"Limits":{"CPU":1.5,"Memory":2048}}`, "": ""})
	f := Collect(ctx, Inputs{NeedCPUQuota: true, NeedMemoryLimit: true, SkipNodeInfo: true, TMDSURI: tmds, CgroupRoot: t.TempDir()})
	want := &TaskLimits{CPUs: 1.5, MemoryBytes: 2048 << 20, Source: "ECS task metadata " + tmds + "/task"}
	if !reflect.DeepEqual(f.Task, want) {
		t.Errorf("collected task limits %+v, want %+v", f.Task, want)
	}
	if hasWarning(f.Warnings, "ECS container metadata") {
		t.Errorf("the container metadata (platform info only) was read outside the ECS branch: %q", f.Warnings)
	}
	f = Collect(ctx, Inputs{NeedCPUQuota: true, SkipNodeInfo: true, TMDSURI: tmds})
	if f.Task == nil || f.Task.CPUs != 1.5 || f.Task.MemoryBytes != 0 {
		t.Errorf("CPU only: %+v", f.Task)
	}
	if f := Collect(ctx, Inputs{SkipNodeInfo: true, TMDSURI: tmds, IMDSDisabled: true}); f.Task != nil {
		t.Errorf("task limits read unasked: %+v", f.Task)
	}
	noLimits := newTMDSMock(t, map[string]string{"/task": `{"Cluster":"c"}`})
	if f := Collect(ctx, Inputs{NeedCPUQuota: true, SkipNodeInfo: true, TMDSURI: noLimits}); f.Task != nil || len(f.Warnings) > 0 {
		t.Errorf("a task without limits: %+v, %q", f.Task, f.Warnings)
	}

	h, _ := Capture(ctx, Inputs{TMDSURI: tmds, IMDSDisabled: true, CgroupRoot: t.TempDir()})
	if h.ECSTask == nil || h.ECSTask.CPU != 1.5 || h.ECSTask.MemoryMiB != 2048 {
		t.Errorf("captured task %+v", h.ECSTask)
	}
	// An old facts file (no limits) replays as a task without limits; a new one replays them.
	old, err := DecodeHostFacts("old.json", []byte(`{"schema": 1, "ecsTask": {"cluster": "c"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f := Replay(old).Collect(ctx, Inputs{NeedCPUQuota: true, SkipNodeInfo: true, TMDSURI: "http://x/v4/y"}); f.Task != nil || len(f.Warnings) > 0 {
		t.Errorf("old facts: %+v, %q", f.Task, f.Warnings)
	}
	f = Replay(h).Collect(ctx, Inputs{NeedCPUQuota: true, NeedMemoryLimit: true, SkipNodeInfo: true, TMDSURI: "http://x/v4/y"})
	if f.Task == nil || f.Task.CPUs != 1.5 || f.Task.MemoryBytes != 2048<<20 || f.Task.Source != "ECS task metadata http://x/v4/y/task" {
		t.Errorf("replayed %+v", f.Task)
	}
	for _, bad := range []string{`{"ecsTask": {"cpu": -1}}`, `{"ecsTask": {"memoryMiB": -5}}`, `{"ecsTask": {"cpu": 100000}}`} {
		if _, err := DecodeHostFacts("bad.json", []byte(bad)); err == nil || !strings.Contains(err.Error(), "ecsTask.") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestReadTaskContainers(t *testing.T) {
	task := `{"Containers":[
	  {"Name":"envoy","DockerId":"d1","Type":"NORMAL","KnownStatus":"RUNNING","DesiredStatus":"RUNNING"},
	  {"Name":"app","DockerId":"d2","Type":"NORMAL","KnownStatus":"STOPPED","ExitCode":137},
	  {"Name":"~internal~ecs~pause","Type":"CNI_PAUSE","KnownStatus":"RESOURCES_PROVISIONED"},
	  {"DockerId":"nameless"}, 7, null,
	  {"Name":"odd","Type":3,"KnownStatus":["x"],"ExitCode":"0"}]}`
	base := newTMDSMock(t, map[string]string{"/task": task, "": `{"Name":"envoy","DockerId":"d1","Limits":{"CPU":0}}`})
	got, err := ReadTaskContainers(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	code := 137
	want := []TaskContainer{
		{Name: "envoy", DockerID: "d1", Type: "NORMAL", KnownStatus: "RUNNING"},
		{Name: "app", DockerID: "d2", Type: "NORMAL", KnownStatus: "STOPPED", ExitCode: &code},
		{Name: "~internal~ecs~pause", Type: "CNI_PAUSE", KnownStatus: "RESOURCES_PROVISIONED"},
		{Name: "odd"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("containers %+v\nwant %+v", got, want)
	}
	if !got[1].Stopped() || got[0].Stopped() {
		t.Error("Stopped() wrong")
	}
	self, err := ReadContainer(context.Background(), base)
	if err != nil || self.Name != "envoy" || self.DockerID != "d1" {
		t.Errorf("self %+v, %v", self, err)
	}
	for name, body := range map[string]string{"no list": `{"Containers":{}}`, "not JSON": `<html>`} {
		b := newTMDSMock(t, map[string]string{"/task": body, "": `{}`})
		if _, err := ReadTaskContainers(context.Background(), b); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := ReadContainer(context.Background(), b); err == nil {
			t.Errorf("%s: a container without name or id is no error", name)
		}
	}
	if _, err := ReadTaskContainers(context.Background(), "http://127.0.0.1:1/v4"); err == nil {
		t.Error("unreachable: no error")
	}
}

func TestReadOOMKills(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  uint64
		err   string
	}{
		{"v2", map[string]string{"memory.events": "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"}, 2, ""},
		{"v1", map[string]string{"memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n"}, 5, ""},
		{"v1 before Linux 4.13", map[string]string{"memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n"}, 0, "has no oom_kill count"},
		{"garbage", map[string]string{"memory.events": "oom_kill many\n"}, 0, `oom_kill "many" is not a count`},
		{"none", nil, 0, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := testenv.WriteTree(t, tt.files)
			got, err := ReadOOMKills(root)
			if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("ReadOOMKills = %d, %v; want %d, %q", got, err, tt.want, tt.err)
			}
		})
	}
	root := testenv.WriteTree(t, map[string]string{"memory.max": "268435456\n"})
	if m, err := ReadMemoryLimit(root); err != nil || m.LimitBytes != 268435456 || m.Source != filepath.Join(root, "memory.max") {
		t.Errorf("ReadMemoryLimit = %+v, %v", m, err)
	}
}
