package env

import "testing"

// BenchmarkLoad is the whole environment pass of a start: every variable looked up, parsed,
// checked, and the notices made, for a typical App Mesh sidecar environment.
func BenchmarkLoad(b *testing.B) {
	vars := map[string]string{
		"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n", "AWS_REGION": "us-west-2", "ENABLE_ENVOY_XRAY_TRACING": "1",
		"ENABLE_ENVOY_STATS_TAGS": "1", "APPNET_AGENT_ADMIN_MODE": "tcp", "APPNET_CONTAINER_IP_MAPPING": `{"app":"10.0.0.5"}`,
		"PATH": "/usr/bin", "HOME": "/root", "ENVOY_UID": "0",
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	opts := Options{FileHasContent: func(string) bool { return false }, Names: names}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Load(MapSource(vars), opts); err != nil {
			b.Fatal(err)
		}
	}
}
