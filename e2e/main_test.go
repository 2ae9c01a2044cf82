package e2e

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// Binaries built once by TestMain.
var (
	agentBin   string
	standinBin string
)

// e2eSnapshotPeriod is linked into the test build of the agent (cli.statsSnapshotPeriod),
// so the delta timeline takes seconds instead of minutes.
const e2eSnapshotPeriod = time.Second

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode (builds and runs the agent binary)")
		os.Exit(0)
	}
	// Orphans whose reaper fails must not be reaped by someone else behind the test's back:
	// with this process a child subreaper, an orphan that escapes the agent ends up here,
	// where nothing reaps it, and TestOrphansAreReaped sees it. (Such zombies go when the
	// test binary exits.)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot become a child subreaper:", err)
		os.Exit(1)
	}
	code := 1
	if err := buildBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	testenv.RemoveBuilds()
	os.Exit(code)
}

// buildBinaries builds the agent and envoy-standin, concurrently (linking dominates and is
// mostly single-threaded). Every test runs this one agent build.
func buildBinaries() error {
	agentFlags := []string{"-ldflags", "-X github.com/appnet/appnet-agent/internal/cli.statsSnapshotPeriod=" + e2eSnapshotPeriod.String()}
	if raceBuild {
		agentFlags = append(agentFlags, "-race")
	}
	var agentErr, standinErr error
	var wg sync.WaitGroup
	wg.Go(func() { agentBin, agentErr = testenv.AgentBinary(agentFlags...) })
	wg.Go(func() { standinBin, standinErr = testenv.StandinBinary() })
	wg.Wait()
	if agentErr != nil {
		return agentErr
	}
	return standinErr
}
