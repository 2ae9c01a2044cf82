package platform

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// fullFacts is a facts document with every section.
const fullFacts = `{
  "schema": 1,
  "envoy": {"version": "envoy  version: abc/1.29.12/Clean/RELEASE/BoringSSL-FIPS", "fips": true},
  "instanceMetadata": {"region": "us-west-2", "availabilityZone": "us-west-2b", "availabilityZoneId": "usw2-az2"},
  "ecsTask": {"cluster": "arn:c", "taskArn": "arn:t", "availabilityZone": "us-west-2b", "availabilityZoneId": "usw2-az2",
              "networkMode": "bridge", "ipFamilies": "ALL", "cpu": 0.5, "memoryMiB": 1024},
  "ecsContainer": {"cpu": "256", "memory": "512"},
  "uname": {"machine": "x86_64", "release": "6.1.0"},
  "interfaces": {"ipv4": {"eth0": ["10.0.0.2/24"], "lo": ["127.0.0.1/8"]}, "ipv6": {"lo": ["::1/128"]}},
  "memory": {"limitBytes": 536870912, "source": "/sys/fs/cgroup/memory.max"},
  "cpu": {"cpus": 1.5, "source": "/sys/fs/cgroup/cpu.max"}
}`

func TestHostFactsRoundTrip(t *testing.T) {
	h, err := DecodeHostFacts("f.json", []byte(fullFacts))
	if err != nil {
		t.Fatal(err)
	}
	want := HostFacts{
		Schema:           1,
		Envoy:            &EnvoyFacts{Version: "envoy  version: abc/1.29.12/Clean/RELEASE/BoringSSL-FIPS", FIPS: true},
		InstanceMetadata: &InstanceMetadata{Region: "us-west-2", AvailabilityZone: "us-west-2b", AvailabilityZoneID: "usw2-az2"},
		ECSTask: &ECSTask{Cluster: "arn:c", TaskARN: "arn:t", AvailabilityZone: "us-west-2b", AvailabilityZoneID: "usw2-az2",
			NetworkMode: "bridge", IPFamilies: FamiliesAll, CPU: 0.5, MemoryMiB: 1024},
		ECSContainer: &ECSContainer{CPU: "256", Memory: "512"},
		Uname:        &Uname{Machine: "x86_64", Release: "6.1.0"},
		Interfaces: &Interfaces{
			IPv4: map[string][]string{"eth0": {"10.0.0.2/24"}, "lo": {"127.0.0.1/8"}},
			IPv6: map[string][]string{"lo": {"::1/128"}},
		},
		Memory: &MemoryLimit{LimitBytes: 536870912, Source: "/sys/fs/cgroup/memory.max"},
		CPU:    &CPUQuota{CPUs: 1.5, Source: "/sys/fs/cgroup/cpu.max"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("decoded %+v\nwant    %+v", h, want)
	}
	enc, err := EncodeHostFacts(h)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeHostFacts("enc.json", enc)
	if err != nil || !reflect.DeepEqual(back, h) {
		t.Errorf("encode → decode = %+v, %v; want %+v\n%s", back, err, h, enc)
	}
	if empty, err := EncodeHostFacts(HostFacts{}); err != nil || string(empty) != "{\n  \"schema\": 1\n}\n" {
		t.Errorf("empty facts encode as %q, %v", empty, err)
	}
}

func TestDecodeHostFactsErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown top-level key", `{"schema": 1, "regoin": "x"}`, `f.json:1: regoin: unknown key (allowed: schema, envoy,`},
		{"unknown nested key, its line", "{\n \"ecsTask\": {\n  \"cluster\": \"c\",\n  \"clusterArn\": \"c\"}}", `f.json:4: ecsTask.clusterArn: unknown key (allowed: cluster, taskArn,`},
		{"wrong type: number for string", `{"ecsContainer": {"cpu": 256}}`, `ecsContainer.cpu: want a string, got the number 256`},
		{"wrong type: string for bool", `{"envoy": {"version": "v", "fips": "no"}}`, `envoy.fips: want true or false, got the string "no"`},
		{"wrong type: object for list", `{"interfaces": {"ipv4": {"eth0": {"a": 1}}}}`, `interfaces.ipv4.eth0: want a list, got an object`},
		{"wrong type: list for section", `{"uname": ["x"]}`, `uname: want an object, got a list`},
		{"null string", `{"uname": {"machine": null}}`, `uname.machine: want a string, got null`},
		{"wrong type: schema", `{"schema": "1"}`, `schema: want an integer`},
		{"duplicate key", `{"uname": {"machine": "a", "machine": "b"}}`, `uname.machine: duplicate key`},
		{"duplicate interface", `{"interfaces": {"ipv4": {"lo": [], "lo": []}}}`, `interfaces.ipv4.lo: duplicate key`},
		{"not an object", `[1]`, `f.json:1: want a JSON object, got a list`},
		{"invalid JSON", `{"uname": {"machine": "a",}}`, `f.json:1: uname: not valid JSON`},
		{"truncated", `{"uname": {`, `unexpected end of the document`},
		{"trailing data", `{} {}`, `unexpected data after the JSON object`},
		{"empty", ``, `f.json:1: unexpected end of the document`},
		{"future schema", `{"schema": 2}`, `f.json: schema: 2 is not supported (want 1)`},
		{"fips without fips build", `{"envoy": {"version": "envoy 1.29", "fips": true}}`, `envoy.fips: true, but envoy.version "envoy 1.29" does not contain "fips"`},
		{"empty envoy version", `{"envoy": {"version": ""}}`, `envoy.version: must not be empty`},
		{"unknown IP family", `{"ecsTask": {"ipFamilies": "IPv4"}}`, `ecsTask.ipFamilies: "IPv4" is not one of ALL, IPv4_ONLY, IPv6_ONLY`},
		{"address without prefix", `{"interfaces": {"ipv4": {"eth0": ["10.0.0.2"]}}}`, `interfaces.ipv4.eth0[0]: "10.0.0.2" is not an ipv4 address`},
		{"negative memory limit", `{"memory": {"limitBytes": -1, "source": "/m"}}`, `memory.limitBytes: -1 is negative (0 means no limit)`},
		{"memory without source", `{"memory": {"limitBytes": 1}}`, `memory.source: must name the cgroup file`},
		{"negative CPU quota", `{"cpu": {"cpus": -1, "source": "/c"}}`, `cpu.cpus: -1 is negative (0 means no limit)`},
		{"CPU quota without source", `{"cpu": {"cpus": 2}}`, `cpu.source: must name the cgroup file`},
		{"CPU quota as a string", `{"cpu": {"cpus": "2", "source": "/c"}}`, `cpu.cpus: want a number, got the string "2"`},
		{"memory limit as a string", `{"memory": {"limitBytes": "1G", "source": "/m"}}`, `memory.limitBytes: want an integer, got the string "1G"`},
		{"IPv6 among IPv4", `{"interfaces": {"ipv4": {"eth0": ["::1/128"]}}}`, `interfaces.ipv4.eth0[0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeHostFacts("f.json", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadHostFacts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "facts.json")
	if _, err := ReadHostFacts(p); err == nil || !strings.Contains(err.Error(), p+": no such file") {
		t.Errorf("missing file: err = %v", err)
	}
	if err := os.WriteFile(p, []byte(`{"envoy": {"version": "v"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, err := ReadHostFacts(p); err != nil || h.Envoy == nil || h.Envoy.Version != "v" || h.Envoy.FIPS {
		t.Errorf("ReadHostFacts = %+v, %v", h, err)
	}
}

func TestOverrideHostFacts(t *testing.T) {
	base, err := DecodeHostFacts("shared.json", []byte(fullFacts))
	if err != nil {
		t.Fatal(err)
	}
	got, err := OverrideHostFacts(base, "case.facts.json", []byte(`{"envoy": {"version": "envoy 1.29"}, "ecsTask": null}`))
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Envoy = &EnvoyFacts{Version: "envoy 1.29"}
	want.ECSTask = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("override = %+v\nwant       %+v", got, want)
	}
	if base.ECSTask == nil || !base.Envoy.FIPS {
		t.Error("the shared facts were modified")
	}
	if _, err := OverrideHostFacts(base, "case.facts.json", []byte(`{"ecsTask": {"Cluster": "x"}}`)); err == nil ||
		!strings.Contains(err.Error(), "case.facts.json:1: ecsTask.Cluster: unknown key") {
		t.Errorf("bad override: err = %v", err)
	}
}

// TestReplayReproducesCollect: facts captured from a host and replayed give
// the Facts that collecting on that host gives, for every branch (ECS, K8s,
// region lookup, FIPS, bridge narrowing by the IP mapping), also through the
// JSON form.
func TestReplayReproducesCollect(t *testing.T) {
	bridgeTask := `{"Cluster":"arn:c","TaskARN":"arn:t","AvailabilityZone":"us-west-2c","Containers":[` +
		`{"Type":"NORMAL","Networks":[{"NetworkMode":"bridge"}]},` +
		`{"Type":"CNI_PAUSE","Networks":[{"NetworkMode":"bridge","IPv4Addresses":["10.0.0.5"],"IPv6Addresses":["fd00::5"]}]}]}`
	tests := []struct {
		name   string
		inputs func(t *testing.T) Inputs
	}{
		{"ECS, region and zone from metadata, FIPS envoy", func(t *testing.T) Inputs {
			return Inputs{
				EnvoyPath: versionStub(t, "envoy-version-fips.txt"), ProbeEnvoy: true, NeedRegion: true,
				IMDSEndpoint: newIMDSMock(t, nil).URL(), ExecutionEnv: "AWS_ECS_EC2", ContainerInstanceARN: "arn:ci",
				TMDSURI: newTMDSMock(t, nil), K8sVersion: "v", K8sPodUID: "u", K8sControllerVersion: "c",
			}
		}},
		{"bridge task narrowed by an IPv6 mapping", func(t *testing.T) Inputs {
			return Inputs{
				Region: "us-west-2", NeedRegion: true, ExecutionEnv: "AWS_ECS_EC2",
				TMDSURI:            newTMDSMock(t, map[string]string{"/task": bridgeTask}),
				ContainerIPMapping: map[string]any{"app": "fd00::10"},
			}
		}},
		{"task limits sizing Envoy, outside the ECS branch", func(t *testing.T) Inputs {
			return Inputs{NeedCPUQuota: true, NeedMemoryLimit: true, SkipNodeInfo: true, TMDSURI: newTMDSMock(t, map[string]string{"/task": `{"Limits":{"CPU":1.5,"Memory":2048}}`}),
				CgroupRoot: testenv.WriteTree(t, map[string]string{"cpu.max": "max 100000\n", "memory.max": "max\n"})}
		}},
		{"CPU quota, existing bootstrap (no node info)", func(t *testing.T) Inputs {
			return Inputs{NeedCPUQuota: true, SkipNodeInfo: true, CgroupRoot: testenv.WriteTree(t, map[string]string{"cpu.max": "150000 100000\n"})}
		}},
		{"plain envoy, region given", func(t *testing.T) Inputs {
			return Inputs{EnvoyPath: versionStub(t, "envoy-version-plain.txt"), ProbeEnvoy: true, Region: "eu-west-1", NeedRegion: true}
		}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.inputs(t)
			live := Collect(ctx, in)
			captured, warnings := Capture(ctx, in)
			if len(live.Warnings) > 0 {
				t.Fatalf("live collection warned (the scenario should be clean): %q", live.Warnings)
			}
			data, err := EncodeHostFacts(captured)
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := DecodeHostFacts("captured.json", data)
			if err != nil {
				t.Fatalf("captured facts do not decode: %v\n%s", err, data)
			}
			replayed := Replay(decoded).Collect(ctx, in)
			if !reflect.DeepEqual(replayed, live) {
				t.Errorf("replayed facts differ\nlive:     %+v\nreplayed: %+v\ncaptured (warnings %q):\n%s", live, replayed, warnings, data)
			}
		})
	}
}

// TestReplayTouchesNothing: replaying makes no metadata call and runs no
// probe, whatever the inputs point at; missing facts behave like failed
// sources.
func TestReplayTouchesNothing(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "probed")
	tmds := newIMDSMock(t, nil) // any request to it is recorded, none may come
	in := Inputs{
		EnvoyPath: stubEnvoy(t, "touch '"+marker+"'; echo envoy"), ProbeEnvoy: true, NeedRegion: true,
		IMDSEndpoint: noIMDS(t), ExecutionEnv: "AWS_ECS_FARGATE", TMDSURI: tmds.URL() + "/v4/x",
		K8sVersion: "v", K8sPodUID: "u", K8sControllerVersion: "c",
	}
	f := Replay(HostFacts{}).Collect(context.Background(), in)
	if _, err := os.Stat(marker); err == nil {
		t.Error("replay ran the envoy probe")
	}
	if r := tmds.requests(); len(r) > 0 {
		t.Errorf("replay called task metadata: %q", r)
	}
	if f.EnvoyVersion != UnknownVersion || f.FIPS || f.Region != "" || f.Interfaces != nil {
		t.Errorf("facts from nothing = %+v", f)
	}
	if f.RegionErr == nil || !strings.Contains(f.RegionErr.Error(), RegionErrPrefix+": not in the platform facts (instanceMetadata.region)") {
		t.Errorf("RegionErr = %v", f.RegionErr)
	}
	for _, w := range []string{
		`envoy version probe failed, assuming version "unknown" (not FIPS): not in the platform facts (envoy.version)`,
		"ECS task metadata: not in the platform facts (ecsTask)",
		"ECS container metadata: not in the platform facts (ecsContainer)",
		"instance metadata placement/availability-zone: not in the platform facts (instanceMetadata.availabilityZone)",
		"system info: not in the platform facts (uname)",
		"network interfaces: not in the platform facts (interfaces)",
	} {
		if !hasWarning(f.Warnings, w) {
			t.Errorf("no warning %q in %q", w, f.Warnings)
		}
	}
	want := map[string]any{
		"k8sPlatformInfo": map[string]any{"appMeshControllerVersion": "c", "k8sVersion": "v", "podUid": "u"},
		"ecsPlatformInfo": map[string]any{"ecsLaunchType": "AWS_ECS_FARGATE"},
	}
	if !reflect.DeepEqual(f.PlatformInfo, want) {
		t.Errorf("platformInfo = %v, want %v", f.PlatformInfo, want)
	}
}

// TestCaptureAsksEverything: facts captures every source the endpoints allow,
// even those the current variables would not need.
func TestCaptureAsksEverything(t *testing.T) {
	in := Inputs{
		EnvoyPath: versionStub(t, "envoy-version-plain.txt"), Region: "eu-west-1",
		IMDSEndpoint: newIMDSMock(t, nil).URL(), TMDSURI: newTMDSMock(t, nil),
	}
	h, warnings := Capture(context.Background(), in)
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if h.Envoy == nil || h.InstanceMetadata == nil || h.InstanceMetadata.Region != strings.TrimSpace(fixture(t, "imds/placement/region")) ||
		h.InstanceMetadata.AvailabilityZoneID == "" || h.ECSTask == nil || h.ECSContainer == nil || h.Uname == nil || h.Interfaces == nil {
		t.Errorf("captured %+v", h)
	}
	h, warnings = Capture(context.Background(), Inputs{IMDSDisabled: true})
	if h.InstanceMetadata != nil || h.Envoy != nil || h.ECSTask != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "AWS_EC2_METADATA_DISABLED") {
		t.Errorf("IMDS disabled, no envoy, no TMDS: %+v, warnings %q", h, warnings)
	}
}

// TestCPUQuotaFact: the CPU quota is collected when asked (and only the quota for an
// existing bootstrap), recorded by Capture, and replayed; a facts file from before it was
// recorded replays as a host without a quota, without a warning.
func TestCPUQuotaFact(t *testing.T) {
	ctx := context.Background()
	quota := testenv.WriteTree(t, map[string]string{"cpu.max": "150000 100000\n"})
	f := Collect(ctx, Inputs{NeedCPUQuota: true, SkipNodeInfo: true, CgroupRoot: quota})
	if f.CPU == nil || f.CPU.CPUs != 1.5 || f.CPU.Source != filepath.Join(quota, "cpu.max") || len(f.Warnings) > 0 {
		t.Errorf("collected CPU %+v, warnings %q", f.CPU, f.Warnings)
	}
	if f.Interfaces != nil {
		t.Errorf("SkipNodeInfo: interfaces were listed: %v", f.Interfaces)
	}
	if f := Collect(ctx, Inputs{CgroupRoot: quota, IMDSDisabled: true}); f.CPU != nil {
		t.Errorf("CPU quota collected unasked: %+v", f.CPU)
	}
	h, _ := Capture(ctx, Inputs{IMDSDisabled: true, CgroupRoot: quota})
	if h.CPU == nil || h.CPU.CPUs != 1.5 {
		t.Errorf("captured CPU %+v", h.CPU)
	}
	if h, _ := Capture(ctx, Inputs{IMDSDisabled: true, CgroupRoot: t.TempDir()}); h.CPU != nil {
		t.Errorf("no cgroup CPU file, yet captured %+v", h.CPU)
	}
	broken := testenv.WriteTree(t, map[string]string{"cpu.max": "?"})
	f = Collect(ctx, Inputs{NeedCPUQuota: true, SkipNodeInfo: true, CgroupRoot: broken})
	if f.CPU != nil || len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "cannot read the container CPU quota, so Envoy picks its own concurrency") {
		t.Errorf("unreadable quota: CPU %+v, warnings %q", f.CPU, f.Warnings)
	}
	old, err := DecodeHostFacts("old.json", []byte(`{"schema": 1, "uname": {"machine": "x86_64"}}`))
	if err != nil {
		t.Fatal(err)
	}
	f = Replay(old).Collect(ctx, Inputs{NeedCPUQuota: true, SkipNodeInfo: true})
	if f.CPU != nil || len(f.Warnings) > 0 {
		t.Errorf("an old facts file replays CPU %+v, warnings %q; want none", f.CPU, f.Warnings)
	}
}

// BenchmarkReplay is the cost of `render --facts`'s collector (no I/O at all).
func BenchmarkReplay(b *testing.B) {
	h, err := DecodeHostFacts("f.json", []byte(fullFacts))
	if err != nil {
		b.Fatal(err)
	}
	c := Replay(h)
	in := Inputs{EnvoyPath: "/usr/bin/envoy", ProbeEnvoy: true, NeedRegion: true, ExecutionEnv: "AWS_ECS_EC2", TMDSURI: "http://x",
		K8sVersion: "v", K8sPodUID: "u", K8sControllerVersion: "c", ContainerIPMapping: map[string]any{"a": "fd00::1"}}
	ctx := context.Background()
	for b.Loop() {
		c.Collect(ctx, in)
	}
}

// BenchmarkDecodeHostFacts is the cost of reading a facts file.
func BenchmarkDecodeHostFacts(b *testing.B) {
	for b.Loop() {
		if _, err := DecodeHostFacts("f.json", []byte(fullFacts)); err != nil {
			b.Fatal(err)
		}
	}
}
