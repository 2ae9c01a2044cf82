package env

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const tmds = "http://169.254.170.2/v4/abc-123"

func TestLifecycleVariables(t *testing.T) {
	cfg, warns, err := Load(MapSource(map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds}), Options{})
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	l := cfg.Lifecycle
	if !l.WaitForApp || l.AppExitWait != 5*time.Second || l.ExitWithApp || l.AppContainers != nil {
		t.Errorf("defaults %+v", l)
	}
	if base, ok := cfg.TaskMetadata(); !ok || base != tmds {
		t.Errorf("TaskMetadata() = %q, %v", base, ok)
	}
	cfg, _, err = Load(MapSource(map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds, "APPNET_APP_CONTAINERS": " app , worker-2,job_3",
		"APPNET_EXIT_WHEN_APP_EXITS": "true", "APPNET_APP_EXIT_WAIT_S": "120", "APPNET_WAIT_FOR_APP_EXIT": "false"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Lifecycle; !slices.Equal(l.AppContainers, []string{"app", "worker-2", "job_3"}) || !l.ExitWithApp || l.WaitForApp || l.AppExitWait != 2*time.Minute {
		t.Errorf("set %+v", l)
	}
	// Read in relay mode too and with an existing bootstrap (the variable is ECS's own), but
	// the relay does not follow the task.
	cfg, _, err = Load(MapSource(map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds, "APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if base, ok := cfg.TaskMetadata(); ok || base != tmds {
		t.Errorf("relay: TaskMetadata() = %q, %v", base, ok)
	}
}

func TestLifecycleRejects(t *testing.T) {
	for _, tc := range []struct{ value, name, want string }{
		{"121", "APPNET_APP_EXIT_WAIT_S", "APPNET_APP_EXIT_WAIT_S: 121 is outside 0..120"},
		{"-1", "APPNET_APP_EXIT_WAIT_S", "APPNET_APP_EXIT_WAIT_S: -1 is outside 0..120"},
		{"10s", "APPNET_APP_EXIT_WAIT_S", `APPNET_APP_EXIT_WAIT_S: "10s" is not`},
		{"yes", "APPNET_EXIT_WHEN_APP_EXITS", `APPNET_EXIT_WHEN_APP_EXITS: "yes" is not a boolean`},
		{"app,,worker", "APPNET_APP_CONTAINERS", `APPNET_APP_CONTAINERS: "app,,worker" has an empty name`},
		{"app,my app", "APPNET_APP_CONTAINERS", `APPNET_APP_CONTAINERS: "my app" is not an ECS container name`},
		{"app,app", "APPNET_APP_CONTAINERS", `APPNET_APP_CONTAINERS: "app" is listed twice`},
		{strings.Repeat("a", 256), "APPNET_APP_CONTAINERS", "is not an ECS container name (up to 255"},
	} {
		_, _, err := Load(MapSource(map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds, tc.name: tc.value}), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: %v, want %q", tc.name, tc.value, err, tc.want)
		}
	}
}

func TestLifecycleIgnoredWithoutTheTask(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"APPNET_EXIT_WHEN_APP_EXITS": "true"}, "APPNET_EXIT_WHEN_APP_EXITS is ignored: ECS_CONTAINER_METADATA_URI_V4 is not set, so the task's containers are unknown"},
		{map[string]string{"APPNET_APP_CONTAINERS": "app"}, "APPNET_APP_CONTAINERS is ignored: ECS_CONTAINER_METADATA_URI_V4 is not set"},
		{map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds, "APPNET_WAIT_FOR_APP_EXIT": "false", "APPNET_APP_EXIT_WAIT_S": "5"}, "APPNET_APP_EXIT_WAIT_S is ignored: APPNET_WAIT_FOR_APP_EXIT is false"},
		{map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds, "APPNET_WAIT_FOR_APP_EXIT": "false", "APPNET_APP_CONTAINERS": "app"},
			"APPNET_APP_CONTAINERS is ignored: APPNET_WAIT_FOR_APP_EXIT and APPNET_EXIT_WHEN_APP_EXITS are false"},
		{map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds, "APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "APPNET_EXIT_WHEN_APP_EXITS": "true"},
			"APPNET_EXIT_WHEN_APP_EXITS is ignored: relay mode is on"},
	} {
		warns := loadNamed(t, tc.vars)
		if !slices.ContainsFunc(warns, func(w string) bool { return strings.Contains(w, tc.want) }) {
			t.Errorf("%v: warnings %q, want %q", tc.vars, warns, tc.want)
		}
	}
	// ECS sets the variable in every container: the relay and an existing bootstrap read it
	// without a warning.
	if warns := loadNamed(t, map[string]string{"ECS_CONTAINER_METADATA_URI_V4": tmds, "APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true"}); len(warns) > 0 {
		t.Errorf("relay: %q", warns)
	}
}
