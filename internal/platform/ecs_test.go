package platform

import (
	"encoding/json"
	"testing"
)

// container builds one task-metadata container with a single network.
func container(typ, mode string, v4, v6 []string) map[string]any {
	n := map[string]any{"NetworkMode": mode}
	if v4 != nil {
		n["IPv4Addresses"] = toAny(v4)
	}
	if v6 != nil {
		n["IPv6Addresses"] = toAny(v6)
	}
	return map[string]any{"Type": typ, "Networks": []any{n}}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func TestSupportedIPFamilies(t *testing.T) {
	v4 := []string{"10.0.0.5"}
	v6 := []string{"2001:db8::5"}
	dual := container("CNI_PAUSE", "bridge", v4, v6)
	tests := []struct {
		name       string
		containers any
		mapping    map[string]any
		want       string
	}{
		{"awsvpc dual", []any{container("NORMAL", "awsvpc", v4, v6)}, nil, FamiliesAll},
		{"awsvpc v4", []any{container("NORMAL", "awsvpc", v4, nil)}, nil, FamiliesIPv4Only},
		{"awsvpc v6", []any{container("NORMAL", "awsvpc", []string{}, v6)}, nil, FamiliesIPv6Only},
		{"awsvpc no addresses", []any{container("NORMAL", "awsvpc", []string{""}, nil)}, nil, ""},
		{"awsvpc mode from a later container", []any{
			map[string]any{"Name": "starting"},
			container("NORMAL", "awsvpc", v4, nil),
		}, nil, FamiliesIPv4Only},
		{"host", []any{container("NORMAL", "host", v4, v6)}, nil, ""},
		{"unknown mode skipped", []any{container("NORMAL", "weird", v4, v6), container("NORMAL", "awsvpc", nil, v6)}, nil, FamiliesIPv6Only},
		{"bridge without pause container", []any{container("NORMAL", "bridge", v4, v6)}, nil, ""},
		{"bridge pause v4", []any{container("NORMAL", "bridge", nil, nil), container("CNI_PAUSE", "bridge", v4, nil)}, nil, FamiliesIPv4Only},
		{"bridge pause v6", []any{container("CNI_PAUSE", "bridge", nil, v6)}, map[string]any{"a": "10.0.0.1"}, FamiliesIPv6Only},
		{"bridge dual, no mapping", []any{dual}, nil, FamiliesAll},
		{"bridge dual, empty mapping", []any{dual}, map[string]any{}, FamiliesAll},
		{"bridge dual, all IPv6", []any{dual}, map[string]any{"a": "fd00::1", "b": "2001:db8::2"}, FamiliesIPv6Only},
		{"bridge dual, all IPv4", []any{dual}, map[string]any{"a": "172.17.0.2"}, FamiliesAll},
		{"bridge dual, mixed (deterministic)", []any{dual}, map[string]any{"a": "fd00::1", "b": "172.17.0.2", "c": "fd00::3"}, FamiliesAll},
		{"bridge dual, IPv4-mapped IPv6 is IPv4", []any{dual}, map[string]any{"a": "::ffff:10.0.0.1"}, FamiliesAll},
		{"bridge dual, non-string value", []any{dual}, map[string]any{"a": "fd00::1", "b": 3.0}, FamiliesAll},
		{"bridge dual, hostname", []any{dual}, map[string]any{"a": "app.local"}, FamiliesAll},
		{"not a list", "containers", nil, ""},
		{"odd elements", []any{nil, 3.0, "x", map[string]any{"Networks": "n"}, map[string]any{"Networks": []any{nil, 1.0}}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Round-trip through JSON so the input has the decoder's types.
			b, err := json.Marshal(tt.containers)
			if err != nil {
				t.Fatal(err)
			}
			var decoded any
			if err := json.Unmarshal(b, &decoded); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ { // map order must not matter
				mode, families := taskNetwork(decoded)
				if got := ipFamilies(mode, families, tt.mapping); got != tt.want {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		body    string
		want    ECSContainer
		wantErr bool
	}{
		{`{"Limits":{"CPU":256,"Memory":512}}`, ECSContainer{"256", "512"}, false},
		{`{"Limits":{"CPU":0.25,"Memory":1000000}}`, ECSContainer{"0.25", "1e+06"}, false},
		{`{"Limits":{"CPU":2}}`, ECSContainer{CPU: "2"}, false},
		{`{"Limits":{"CPU":"1024","Memory":null}}`, ECSContainer{CPU: "1024"}, false},
		{`{"Limits":{}}`, ECSContainer{}, false},
		{`{"Name":"x"}`, ECSContainer{}, false},
		{`{"Limits":null}`, ECSContainer{}, false},
		{`{"Limits":[1]}`, ECSContainer{}, true},
		{`[]`, ECSContainer{}, true},
		{`null`, ECSContainer{}, true},
		{``, ECSContainer{}, true},
	}
	for _, tt := range tests {
		got, err := parseLimits([]byte(tt.body))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseLimits(%s) = %+v, %v; want %+v, err=%v", tt.body, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseTaskFixture(t *testing.T) {
	got, err := parseTask([]byte(fixture(t, "tmds/task.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := ECSTask{
		Cluster:          "arn:aws:ecs:us-west-2:123456789012:cluster/c1",
		TaskARN:          "arn:aws:ecs:us-west-2:123456789012:task/c1/abc",
		AvailabilityZone: "us-west-2d", AvailabilityZoneID: "usw2-az4", NetworkMode: "awsvpc", IPFamilies: FamiliesAll,
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// FuzzParse makes sure no metadata body can panic the parsers.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"Containers":[{"Type":"CNI_PAUSE","Networks":[{"NetworkMode":"bridge","IPv4Addresses":["a"],"IPv6Addresses":["b"]}]}]}`,
		`{"Limits":{"CPU":1e308,"Memory":-0}}`, `{"Containers":[null,{"Networks":[{}]}]}`, `[]`, `"x"`, `{`,
	} {
		f.Add([]byte(s))
	}
	mapping := map[string]any{"a": "fd00::1"}
	f.Fuzz(func(t *testing.T, b []byte) {
		if task, err := parseTask(b); err == nil {
			_ = ipFamilies(task.NetworkMode, task.IPFamilies, mapping)
		}
		_, _ = parseLimits(b)
	})
}
