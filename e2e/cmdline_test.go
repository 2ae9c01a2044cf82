package e2e

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere

	"github.com/appnet/appnet-agent/internal/platform"
)

// udsMu serialises the tests whose Envoy admin is the fixed Unix socket /tmp/envoy_admin.sock
// (ENVOY_ADMIN_MODE=uds, and relay mode, whose bootstrap always uses it). Take it before
// starting the agent: the cleanup that releases it then runs after the agent is killed.
var udsMu sync.Mutex

func lockUDS(t *testing.T) {
	udsMu.Lock()
	t.Cleanup(udsMu.Unlock)
}

// quotaArgs is what the agent adds to the default command line on a host whose cgroup has a
// CPU quota (--concurrency from the quota): the default is the reference's only without a quota.
func quotaArgs(t *testing.T) string {
	h, _ := platform.Capture(context.Background(), platform.Inputs{IMDSDisabled: true})
	q := h.CPU
	if q == nil || q.CPUs <= 0 {
		return ""
	}
	t.Logf("this host has a CPU quota of %v CPUs: the default command line has --concurrency", q.CPUs)
	return "--concurrency " + strconv.Itoa(max(1, int(math.Ceil(q.CPUs))))
}

// TestCommandLine checks Envoy's argv (the reference agent's, flag for flag) for the default environment
// and for every variable and flag that changes it. Envoy exits 0 at once and
// APPNET_ENVOY_RESTART_COUNT=0, so each agent run ends by itself with Envoy's code.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	quota := quotaArgs(t)
	const def = "-c $BOOT -l info $QUOTA --drain-time-s 20 --disable-hot-restart --skip-deprecated-logs"
	tests := []struct {
		name string
		env  []string
		args []string // agent flags; $DIR is the test's temp dir
		uds  bool     // admin on /tmp/envoy_admin.sock
		// touch is an empty file to create in $DIR: like the reference, the agent generates
		// into an existing empty file and refuses a missing one.
		touch string
		want  string // after argv[0]; $BOOT: the bootstrap, $QUOTA: see quotaArgs
	}{
		{name: "default", want: def},
		{name: "ENVOY_LOG_LEVEL=debug", env: []string{"ENVOY_LOG_LEVEL=debug"},
			want: strings.Replace(def, "-l info", "-l debug", 1)},
		{name: "ENVOY_LOG_LEVEL=warning is passed as is", env: []string{"ENVOY_LOG_LEVEL=warning"},
			want: strings.Replace(def, "-l info", "-l warning", 1)},
		{name: "-logLevel beats ENVOY_LOG_LEVEL", env: []string{"ENVOY_LOG_LEVEL=debug"}, args: []string{"-logLevel", "trace"},
			want: strings.Replace(def, "-l info", "-l trace", 1)},
		{name: "ENVOY_CONCURRENCY=3", env: []string{"ENVOY_CONCURRENCY=3"},
			want: "-c $BOOT -l info --concurrency 3 --drain-time-s 20 --disable-hot-restart --skip-deprecated-logs"},
		{name: "ENVOY_CONCURRENCY=0 adds nothing", env: []string{"ENVOY_CONCURRENCY=0"}, want: def},
		{name: "relay mode: --concurrency 1", env: []string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS=true"}, uds: true,
			want: "-c $BOOT -l info --concurrency 1 --drain-time-s 20 --disable-hot-restart --skip-deprecated-logs"},
		{name: "relay mode: ENVOY_CONCURRENCY wins", env: []string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS=true", "ENVOY_CONCURRENCY=2"}, uds: true,
			want: "-c $BOOT -l info --concurrency 2 --drain-time-s 20 --disable-hot-restart --skip-deprecated-logs"},
		{name: "LISTENER_DRAIN_WAIT_TIME_S=30", env: []string{"LISTENER_DRAIN_WAIT_TIME_S=30"},
			want: strings.Replace(def, "--drain-time-s 20", "--drain-time-s 30", 1)},
		{name: "LISTENER_DRAIN_WAIT_TIME_S=1 is clamped to 5", env: []string{"LISTENER_DRAIN_WAIT_TIME_S=1"},
			want: strings.Replace(def, "--drain-time-s 20", "--drain-time-s 5", 1)},
		{name: "LISTENER_DRAIN_WAIT_TIME_S=500 is clamped to 110", env: []string{"LISTENER_DRAIN_WAIT_TIME_S=500"},
			want: strings.Replace(def, "--drain-time-s 20", "--drain-time-s 110", 1)},
		{name: "DISABLE_HOT_RESTART=false", env: []string{"DISABLE_HOT_RESTART=false"},
			want: strings.Replace(def, " --disable-hot-restart", "", 1)},
		{name: "ENVOY_SKIP_DEPRECATED_LOGS=false", env: []string{"ENVOY_SKIP_DEPRECATED_LOGS=false"},
			want: strings.Replace(def, " --skip-deprecated-logs", "", 1)},
		{name: "both switches off", env: []string{"DISABLE_HOT_RESTART=false", "ENVOY_SKIP_DEPRECATED_LOGS=false"},
			want: "-c $BOOT -l info $QUOTA --drain-time-s 20"},
		{name: "-envoyConfigPath beats ENVOY_CONFIG_FILE", args: []string{"-envoyConfigPath", "$DIR/flag.yaml"}, touch: "flag.yaml",
			want: strings.Replace(def, "$BOOT", "$DIR/flag.yaml", 1)},
		{name: "ENVOY_CONFIG_FILE unset: a new file in TMPDIR", env: []string{"ENVOY_CONFIG_FILE"},
			want: strings.Replace(def, "$BOOT", "$DIR/appnet-agent-*/envoy-config.yaml", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.uds {
				lockUDS(t)
			}
			a := newAgent(t, "APPNET_ENVOY_RESTART_COUNT=0", "STANDIN_EXIT_CODE=0")
			a.setenv(tc.env...)
			if tc.touch != "" {
				writeFile(t, a.dir, tc.touch, "", 0o600)
			}
			for _, arg := range tc.args {
				a.args = append(a.args, strings.ReplaceAll(arg, "$DIR", a.dir))
			}
			if code := a.run(20 * time.Second); code != 0 {
				a.fatalf("agent exit code %d, want 0 (Envoy's)", code)
			}
			starts := envoyStarts(a.events())
			if len(starts) != 1 {
				a.fatalf("%d Envoy starts, want 1", len(starts))
			}
			argv := starts[0].Argv
			want := strings.NewReplacer("$BOOT", a.boot, "$DIR", a.dir, "$QUOTA", quota).Replace(tc.want)
			wantArgs := append([]string{standinBin}, strings.Fields(want)...)
			if len(argv) > 2 && argv[1] == "-c" {
				// A generated name is random: accept it when it matches the pattern, then
				// compare the rest exactly.
				if ok, _ := filepath.Match(wantArgs[2], argv[2]); ok {
					wantArgs[2] = argv[2]
				}
			}
			if !slices.Equal(argv, wantArgs) {
				a.fatalf("Envoy argv\n got: %q\nwant: %q", argv, wantArgs)
			}
			// The file after -c is the bootstrap the agent wrote for this run.
			if st, err := os.Stat(argv[2]); err != nil || st.Size() == 0 {
				a.fatalf("bootstrap %s not written: %v", argv[2], err)
			}
		})
	}
}
