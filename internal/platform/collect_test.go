package platform

import (
	"context"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
)

// noIMDS returns an endpoint that fails the test if any request reaches it.
func noIMDS(t *testing.T) string {
	t.Helper()
	m := newIMDSMock(t, nil)
	t.Cleanup(func() {
		if r := m.requests(); len(r) > 0 {
			t.Errorf("unexpected instance metadata requests: %q", r)
		}
	})
	return m.URL()
}

func hasWarning(ws []string, sub string) bool {
	return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, sub) })
}

// TestCollectPlatformInfo checks the platformInfo of the conformance cases
// (systemInfo masked as the corpus does).
func TestCollectPlatformInfo(t *testing.T) {
	tests := []struct {
		name     string
		inputs   func(t *testing.T) Inputs
		want     map[string]any
		warnings []string // substrings, each must appear; nil → no warnings at all
	}{
		{
			name: "m52 ECS Fargate",
			inputs: func(t *testing.T) Inputs {
				return Inputs{
					Region: "us-west-2", NeedRegion: true, IMDSEndpoint: noIMDS(t),
					ExecutionEnv: "AWS_ECS_FARGATE", ContainerInstanceARN: "arn:ci",
					TMDSURI: newTMDSMock(t, nil),
				}
			},
			want: map[string]any{
				"AvailabilityZone":   "us-west-2d",
				"AvailabilityZoneID": "usw2-az4",
				"ecsPlatformInfo": map[string]any{
					"CPU":                     "256",
					"Memory":                  "512",
					"ecsClusterArn":           "arn:aws:ecs:us-west-2:123456789012:cluster/c1",
					"ecsContainerInstanceArn": "arn:ci",
					"ecsLaunchType":           "AWS_ECS_FARGATE",
					"ecsTaskArn":              "arn:aws:ecs:us-west-2:123456789012:task/c1/abc",
				},
				"supportedIPFamilies": "ALL",
			},
		},
		{
			name: "m53 K8s with instance metadata AZ",
			inputs: func(t *testing.T) Inputs {
				return Inputs{
					Region: "us-west-2", NeedRegion: true,
					IMDSEndpoint: newIMDSMock(t, func(m *imdsMock) { m.requireToken = true }).URL(),
					K8sVersion:   "v1.21.2", K8sPodUID: "uid-1", K8sControllerVersion: "v1.4.1",
				}
			},
			want: map[string]any{
				"AvailabilityZone":   "us-west-2a",
				"AvailabilityZoneID": "usw2-az1",
				"k8sPlatformInfo": map[string]any{
					"appMeshControllerVersion": "v1.4.1",
					"k8sVersion":               "v1.21.2",
					"podUid":                   "uid-1",
				},
			},
		},
		{
			name: "d05 no Limits and task 404",
			inputs: func(t *testing.T) Inputs {
				m := newIMDSMock(t, nil)
				return Inputs{
					Region: "us-west-2", NeedRegion: true, ExecutionEnv: "AWS_ECS_EC2",
					TMDSURI: m.URL() + "/latest/meta-data/ecs-container-nolimits",
				}
			},
			want:     map[string]any{"ecsPlatformInfo": map[string]any{"ecsLaunchType": "AWS_ECS_EC2"}},
			warnings: []string{"ECS task metadata: GET", "404"},
		},
		{
			name: "K8s branch needs all three variables",
			inputs: func(t *testing.T) Inputs {
				return Inputs{IMDSEndpoint: noIMDS(t), K8sVersion: "v1", K8sPodUID: "u"}
			},
			want: nil,
		},
		{
			name: "AZ-ID 404 is absent, not the 404 body",
			inputs: func(t *testing.T) Inputs {
				m := newIMDSMock(t, func(m *imdsMock) { delete(m.files, "/latest/meta-data/placement/availability-zone-id") })
				return Inputs{IMDSEndpoint: m.URL(), K8sVersion: "v", K8sPodUID: "u", K8sControllerVersion: "c"}
			},
			want: map[string]any{
				"AvailabilityZone": "us-west-2a",
				"k8sPlatformInfo":  map[string]any{"appMeshControllerVersion": "c", "k8sVersion": "v", "podUid": "u"},
			},
			warnings: []string{"placement/availability-zone-id", "404"},
		},
		{
			name: "ECS AZ overrides K8s AZ",
			inputs: func(t *testing.T) Inputs {
				return Inputs{
					IMDSEndpoint: newIMDSMock(t, nil).URL(),
					K8sVersion:   "v", K8sPodUID: "u", K8sControllerVersion: "c",
					ExecutionEnv: "AWS_ECS_EC2", TMDSURI: newTMDSMock(t, nil),
				}
			},
			want: map[string]any{
				"AvailabilityZone":   "us-west-2d",
				"AvailabilityZoneID": "usw2-az4",
				"k8sPlatformInfo":    map[string]any{"appMeshControllerVersion": "c", "k8sVersion": "v", "podUid": "u"},
				"ecsPlatformInfo": map[string]any{
					"CPU": "256", "Memory": "512", "ecsLaunchType": "AWS_ECS_EC2",
					"ecsClusterArn": "arn:aws:ecs:us-west-2:123456789012:cluster/c1",
					"ecsTaskArn":    "arn:aws:ecs:us-west-2:123456789012:task/c1/abc",
				},
				"supportedIPFamilies": "ALL",
			},
		},
		{
			name: "ECS without metadata URI keeps launch type only",
			inputs: func(t *testing.T) Inputs {
				return Inputs{ExecutionEnv: "AWS_ECS_EC2", ContainerInstanceARN: "arn:ci"}
			},
			want: map[string]any{"ecsPlatformInfo": map[string]any{"ecsLaunchType": "AWS_ECS_EC2", "ecsContainerInstanceArn": "arn:ci"}},
		},
		{
			name: "TMDS without ECS branch is not called",
			inputs: func(t *testing.T) Inputs {
				return Inputs{TMDSURI: "http://127.0.0.1:1"}
			},
			want: nil,
		},
		{
			name: "fractional and large limits, odd task fields",
			inputs: func(t *testing.T) Inputs {
				return Inputs{ExecutionEnv: "AWS_ECS_EC2", TMDSURI: newTMDSMock(t, map[string]string{
					"":      `{"Limits":{"CPU":0.25,"Memory":1000000}}`,
					"/task": `{"Cluster":42,"TaskARN":"arn:t","AvailabilityZone":null,"Containers":"nope"}`,
				})}
			},
			want: map[string]any{"ecsPlatformInfo": map[string]any{
				"ecsLaunchType": "AWS_ECS_EC2", "CPU": "0.25", "Memory": "1e+06", "ecsTaskArn": "arn:t",
			}},
		},
		{
			name: "unreachable task metadata",
			inputs: func(t *testing.T) Inputs {
				return Inputs{ExecutionEnv: "AWS_ECS_EC2", TMDSURI: "http://127.0.0.1:1/v4"}
			},
			want:     map[string]any{"ecsPlatformInfo": map[string]any{"ecsLaunchType": "AWS_ECS_EC2"}},
			warnings: []string{"ECS task metadata", "ECS container metadata"},
		},
		{
			name: "bad JSON from task metadata",
			inputs: func(t *testing.T) Inputs {
				return Inputs{ExecutionEnv: "AWS_ECS_EC2", TMDSURI: newTMDSMock(t, map[string]string{"": "[1,2]", "/task": "<html>"})}
			},
			want:     map[string]any{"ecsPlatformInfo": map[string]any{"ecsLaunchType": "AWS_ECS_EC2"}},
			warnings: []string{"ECS task metadata: task metadata: invalid character", "not a JSON object"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Collect(context.Background(), tt.inputs(t))
			if got := withoutSystemInfo(f.PlatformInfo); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("platformInfo:\n got %#v\nwant %#v", got, tt.want)
			}
			if tt.warnings == nil && len(f.Warnings) > 0 {
				t.Errorf("unexpected warnings: %q", f.Warnings)
			}
			for _, w := range tt.warnings {
				if !hasWarning(f.Warnings, w) {
					t.Errorf("no warning containing %q in %q", w, f.Warnings)
				}
			}
			if !sort.StringsAreSorted(f.Warnings) {
				t.Errorf("warnings not sorted: %q", f.Warnings)
			}
		})
	}
}

func TestIMDSProtocol(t *testing.T) {
	k8s := func(endpoint string) Inputs {
		return Inputs{IMDSEndpoint: endpoint, K8sVersion: "v", K8sPodUID: "u", K8sControllerVersion: "c"}
	}
	t.Run("IMDSv2 token on every GET", func(t *testing.T) {
		m := newIMDSMock(t, func(m *imdsMock) { m.requireToken = true })
		f := Collect(context.Background(), k8s(m.URL()+"/")) // trailing slash tolerated
		if f.AvailabilityZoneID != "usw2-az1" {
			t.Fatalf("AZ ID = %q, warnings %q", f.AvailabilityZoneID, f.Warnings)
		}
		reqs := m.requests()
		if want := "PUT /latest/api/token ttl=" + imdsTokenTTL; !slices.Contains(reqs, want) {
			t.Errorf("no %q in %q", want, reqs)
		}
		puts := 0
		for _, r := range reqs {
			if strings.HasPrefix(r, "PUT") {
				puts++
			} else if !strings.HasSuffix(r, "token="+mockToken) {
				t.Errorf("GET without token: %q", r)
			}
		}
		if puts != 1 {
			t.Errorf("%d token requests, want one shared session: %q", puts, reqs)
		}
	})
	for _, status := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed} {
		t.Run("IMDSv1 fallback after token status "+http.StatusText(status), func(t *testing.T) {
			m := newIMDSMock(t, func(m *imdsMock) { m.tokenStatus = status })
			f := Collect(context.Background(), k8s(m.URL()))
			if f.PlatformInfo[KeyAvailabilityZone] != "us-west-2a" || f.AvailabilityZoneID != "usw2-az1" {
				t.Fatalf("platformInfo %v, warnings %q", f.PlatformInfo, f.Warnings)
			}
			for _, r := range m.requests() {
				if strings.HasPrefix(r, "GET") && !strings.HasSuffix(r, "token=") {
					t.Errorf("IMDSv1 GET carries a token: %q", r)
				}
			}
		})
	}
	t.Run("token PUT times out, IMDSv1 still answers", func(t *testing.T) {
		// The hop-limit case: the PUT answer never arrives, GETs work.
		m := newIMDSMock(t, func(m *imdsMock) { m.tokenDelay = time.Minute })
		in := k8s(m.URL())
		in.Timeout = CallTimeout + 700*time.Millisecond
		f := Collect(context.Background(), in)
		if f.AvailabilityZoneID != "usw2-az1" {
			t.Fatalf("AZ ID = %q, warnings %q", f.AvailabilityZoneID, f.Warnings)
		}
	})
	t.Run("non-printable value is rejected", func(t *testing.T) {
		m := newIMDSMock(t, func(m *imdsMock) {
			m.files["/latest/meta-data/placement/availability-zone"] = "<html>\n<body>captive portal</body>"
		})
		f := Collect(context.Background(), k8s(m.URL()))
		if _, ok := f.PlatformInfo[KeyAvailabilityZone]; ok {
			t.Errorf("AvailabilityZone = %v, want absent", f.PlatformInfo[KeyAvailabilityZone])
		}
		if !hasWarning(f.Warnings, "unexpected value") {
			t.Errorf("warnings %q", f.Warnings)
		}
	})
}

func TestRegion(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*imdsMock)
		endpoint  string // overrides the mock
		in        Inputs
		want      string
		wantErr   []string // substrings of RegionErr, after RegionErrPrefix
		wantCalls bool
	}{
		{name: "AWS_REGION wins, no lookup", in: Inputs{Region: "us-east-1", NeedRegion: true}, want: "us-east-1"},
		{name: "not needed, no lookup", in: Inputs{}, want: ""},
		{name: "not needed but given", in: Inputs{Region: "eu-west-1"}, want: "eu-west-1"},
		{name: "placement/region", in: Inputs{NeedRegion: true}, want: "eu-north-1", wantCalls: true},
		{
			name:      "identity document fallback",
			configure: func(m *imdsMock) { delete(m.files, "/latest/meta-data/placement/region") },
			in:        Inputs{NeedRegion: true}, want: "eu-north-1", wantCalls: true,
		},
		{
			name: "identity document fallback after garbage",
			configure: func(m *imdsMock) {
				m.files["/latest/meta-data/placement/region"] = "Region_Name"
				m.files["/latest/dynamic/instance-identity/document"] = `{"region":"ap-south-2"}`
			},
			in: Inputs{NeedRegion: true}, want: "ap-south-2", wantCalls: true,
		},
		{
			name: "both sources fail",
			configure: func(m *imdsMock) {
				delete(m.files, "/latest/meta-data/placement/region")
				m.files["/latest/dynamic/instance-identity/document"] = `{"region":7}`
			},
			in:        Inputs{NeedRegion: true},
			wantErr:   []string{"placement/region: unexpected status 404", "no valid \"region\" field"},
			wantCalls: true,
		},
		{
			name:     "m10 unreachable endpoint",
			endpoint: "http://127.0.0.1:1",
			in:       Inputs{NeedRegion: true},
			wantErr:  []string{"instance-identity/document", "connection refused"},
		},
		{
			name:    "IMDS disabled",
			in:      Inputs{NeedRegion: true, IMDSDisabled: true, K8sVersion: "v", K8sPodUID: "u", K8sControllerVersion: "c"},
			wantErr: []string{"AWS_EC2_METADATA_DISABLED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newIMDSMock(t, tt.configure)
			in := tt.in
			in.IMDSEndpoint = m.URL()
			if tt.endpoint != "" {
				in.IMDSEndpoint = tt.endpoint
			}
			f := Collect(context.Background(), in)
			if f.Region != tt.want {
				t.Errorf("Region = %q, want %q", f.Region, tt.want)
			}
			if tt.wantErr == nil && f.RegionErr != nil {
				t.Errorf("RegionErr = %v", f.RegionErr)
			}
			if tt.wantErr != nil {
				if f.RegionErr == nil {
					t.Fatal("RegionErr = nil")
				}
				msg := f.RegionErr.Error()
				if !strings.HasPrefix(msg, RegionErrPrefix+": ") {
					t.Errorf("RegionErr %q lacks prefix", msg)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(msg, s) {
						t.Errorf("RegionErr %q does not contain %q", msg, s)
					}
				}
			}
			if calls := m.requests(); (len(calls) > 0) != tt.wantCalls {
				t.Errorf("IMDS requests %q, want calls=%v", calls, tt.wantCalls)
			}
		})
	}
}

func TestCollectRespectsBudget(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*imdsMock)
	}{
		{"token PUT hangs", func(m *imdsMock) { m.tokenDelay = time.Minute }},
		{"GETs hang", func(m *imdsMock) { m.getDelay = time.Minute }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newIMDSMock(t, tt.configure)
			tmds := newTMDSMock(t, nil)
			envoy := stubEnvoy(t, "sleep 30")
			const budget = 300 * time.Millisecond
			baseline := runtime.NumGoroutine()
			start := time.Now()
			f := Collect(context.Background(), Inputs{
				NeedRegion: true, IMDSEndpoint: m.URL(), Timeout: budget,
				K8sVersion: "v", K8sPodUID: "u", K8sControllerVersion: "c",
				ExecutionEnv: "AWS_ECS_EC2", TMDSURI: tmds,
				ProbeEnvoy: true, EnvoyPath: envoy,
			})
			if d := time.Since(start); d > budget+200*time.Millisecond {
				t.Errorf("Collect took %v with a %v budget", d, budget)
			}
			// Abandoned work is cancelled and its goroutines (ours and the
			// mock's handlers) wind down promptly.
			waitGoroutines(t, baseline, time.Second)
			if f.EnvoyVersion != UnknownVersion || !hasWarning(f.Warnings, "envoy version probe did not finish") {
				t.Errorf("version %q, warnings %q", f.EnvoyVersion, f.Warnings)
			}
			if f.RegionErr == nil || !strings.HasPrefix(f.RegionErr.Error(), RegionErrPrefix) {
				t.Errorf("RegionErr = %v", f.RegionErr)
			}
			if !hasWarning(f.Warnings, "gave up after") || !hasWarning(f.Warnings, "instance metadata") {
				t.Errorf("warnings %q", f.Warnings)
			}
			// What did arrive in time is kept.
			if got := f.PlatformInfo[KeySupportedIPFamilies]; got != "ALL" {
				t.Errorf("supportedIPFamilies = %v (task metadata answered in time)", got)
			}
			if f.Interfaces == nil {
				t.Error("interfaces missing")
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		f := Collect(ctx, Inputs{NeedRegion: true, IMDSEndpoint: newIMDSMock(t, func(m *imdsMock) { m.getDelay = time.Minute }).URL()})
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("Collect took %v on a cancelled context", d)
		}
		if f.RegionErr == nil {
			t.Error("RegionErr = nil")
		}
	})
}

// waitGoroutines waits until at most baseline goroutines are running.
func waitGoroutines(t *testing.T, baseline int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines still running %v after Collect (baseline %d):\n%s",
				runtime.NumGoroutine(), limit, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEnvoyProbe(t *testing.T) {
	plainVersion := strings.TrimSpace(fixture(t, "envoy-version-plain.txt"))
	fipsVersion := strings.TrimSpace(fixture(t, "envoy-version-fips.txt"))
	tests := []struct {
		name        string
		path        func(t *testing.T) string
		skip        bool
		wantVersion string
		wantFIPS    bool
		warning     string
	}{
		{name: "plain", path: func(t *testing.T) string { return versionStub(t, "envoy-version-plain.txt") }, wantVersion: plainVersion},
		{name: "fips", path: func(t *testing.T) string { return versionStub(t, "envoy-version-fips.txt") }, wantVersion: fipsVersion, wantFIPS: true},
		{name: "absent", path: func(t *testing.T) string { return "/does/not/exist/envoy" }, wantVersion: UnknownVersion, warning: "no such file"},
		{name: "not executable", path: func(t *testing.T) string {
			p := stubEnvoy(t, "echo fips")
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, wantVersion: UnknownVersion, warning: "permission denied"},
		{name: "fails", path: func(t *testing.T) string { return stubEnvoy(t, "echo fips-ish; exit 3") }, wantVersion: UnknownVersion, warning: "exit status 3"},
		{name: "empty output", path: func(t *testing.T) string { return stubEnvoy(t, "exit 0") }, wantVersion: UnknownVersion, warning: "empty output"},
		{name: "hangs past CallTimeout", path: func(t *testing.T) string { return stubEnvoy(t, "echo FIPS; sleep 30") }, wantVersion: UnknownVersion, warning: "deadline exceeded"},
		{name: "probe disabled", path: func(t *testing.T) string { return versionStub(t, "envoy-version-fips.txt") }, skip: true, wantVersion: UnknownVersion},
		{name: "empty path", path: func(t *testing.T) string { return "" }, wantVersion: UnknownVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			f := Collect(context.Background(), Inputs{EnvoyPath: tt.path(t), ProbeEnvoy: !tt.skip, Timeout: 3 * time.Second})
			if d := time.Since(start); d > CallTimeout+5*time.Second { // far below the stub's 30 s: bounded, even on a loaded machine
				t.Errorf("Collect took %v", d)
			}
			if f.EnvoyVersion != tt.wantVersion || f.FIPS != tt.wantFIPS {
				t.Errorf("version %q fips %v, want %q %v", f.EnvoyVersion, f.FIPS, tt.wantVersion, tt.wantFIPS)
			}
			if tt.warning == "" && len(f.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", f.Warnings)
			}
			if tt.warning != "" && !hasWarning(f.Warnings, tt.warning) {
				t.Errorf("no warning containing %q in %q", tt.warning, f.Warnings)
			}
		})
	}
}

func TestSystemCollector(t *testing.T) {
	var _ Collector = System
	fixed := Facts{EnvoyVersion: "x"}
	var c Collector = CollectorFunc(func(context.Context, Inputs) Facts { return fixed })
	if got := c.Collect(context.Background(), Inputs{}); got.EnvoyVersion != "x" {
		t.Errorf("CollectorFunc returned %+v", got)
	}
}
