package api

import (
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/env"
)

// Issue 21: ENVOY_COMPONENT_LOG_LEVEL's overrides are applied again whenever the agent sets
// Envoy's baseline (a temporary level's reset, a permanent change), as a restarted Envoy
// gets them with --component-log-level; warn is sent as the admin API's warning.
func TestComponentLevelsSurviveResets(t *testing.T) {
	var comps env.ComponentLogLevels
	if err := comps.Decode("upstream:debug,connection:warn"); err != nil {
		t.Fatal(err)
	}
	f := newFakeEnvoy(t)
	svc := newTestService(t, f.srv, func(c *testConfig) { c.loggingReset = 100 * time.Millisecond; c.components = comps })
	h := svc.Handler()
	if code, _, _ := do(h, "POST", "/enableLogging?level=trace", local); code != 200 {
		t.Fatal(code)
	}
	waitFor(t, 3*time.Second, "the reset and the overrides", func() bool { return len(loggingCalls(f)) == 3 })
	want := []string{"level=trace", "level=info", "paths=upstream%3Adebug%2Cconnection%3Awarning"}
	for i, c := range loggingCalls(f) {
		if c != want[i] {
			t.Errorf("call %d: %s, want %s", i, c, want[i])
		}
	}
	if code, _, _ := do(h, "POST", "/enableLogging?level=error&permanent=true", local); code != 200 {
		t.Fatal(code)
	}
	calls := loggingCalls(f)
	if len(calls) != 5 || calls[3] != "level=error" || calls[4] != want[2] {
		t.Errorf("after a permanent change Envoy got %v", calls)
	}
}
