package e2e

// End-to-end tests of /status: health, timing, restarts, shutdown phases and latency. The agent binary is built from the repository
// root and supervises envoy-standin; the tests follow the reference agent's scenarios 8–9 and
// 14–30 as H1–H7 amend them (docs/GLOSSARY.md); see harness_api_test.go.

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/testenv"
)

var healthyKeys = []string{"healthStatus", "agentUptime", "envoyPid", "envoyState", "envoyRestartCount",
	"managementServerConnectionStatus", "envoyReadinessState", "initialConfigUpdateStatus"}

// TestE2EHealthyWithinOneSecondOfLive is H1 (and scenarios 15 and 17): Envoy turns LIVE
// 1.5 s after its start; with a 30 s poll period the agent still reports HEALTHY within a
// second, with the reference's keys in order, as application/json.
func TestE2EHealthyWithinOneSecondOfLive(t *testing.T) {
	t.Parallel()
	r := startAgent(t, agentOpts{env: []string{"STANDIN_READY_SEQUENCE=INITIALIZING:1500ms,LIVE", "HC_POLL_INTERVAL_MS=30000"}})
	s := r.waitStatus("INITIALIZING", 5*time.Second, func(s api.Status) bool { return s.EnvoyState == "INITIALIZING" })
	if s.HealthStatus != api.Unhealthy || s.EnvoyState != "INITIALIZING" || s.EnvoyReadinessState != api.NotInitialized || s.InitialConfigUpdateStatus != "" {
		t.Errorf("before LIVE: %+v", s)
	}
	var healthyAt time.Time
	var body []byte
	var hdr http.Header
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s, body, hdr = r.status()
		if s.HealthStatus == api.Healthy {
			healthyAt = time.Now()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	starts := envoyStarts(r.events())
	if healthyAt.IsZero() || len(starts) != 1 {
		t.Fatalf("never HEALTHY (%d Envoy starts): %+v", len(starts), s)
	}
	// One clock only, the stand-in's: it turned LIVE 1.5 s after its start, and recorded when
	// each /ready poll arrived. The first poll after that saw LIVE; the fast polls (every
	// 250 ms until LIVE) must bring it soon.
	live := starts[0].Time.Add(1500 * time.Millisecond)
	var seenLive time.Time
	for _, e := range filter(r.events(), isEvent("admin")) {
		if e.Path == "/ready" && !e.Time.Before(live) {
			seenLive = e.Time
			break
		}
	}
	if seenLive.IsZero() {
		// The stand-in records a poll when it arrives and answers it a moment later: on a
		// loaded machine the poll that was answered LIVE (the agent said HEALTHY) can have
		// arrived just before LIVE, and the next one is 30 s away. Then it came in time.
		t.Log("the poll that saw LIVE arrived just before it (recorded on arrival)")
	} else if lag := seenLive.Sub(live); lag > time.Second {
		t.Errorf("the first poll after LIVE came %v later, want within the 250 ms fast-poll period (and scheduling)", lag)
	} else {
		t.Logf("the first poll after LIVE came %v later", lag.Round(time.Millisecond))
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if keys := testenv.JSONKeys(t, body); !reflect.DeepEqual(keys, healthyKeys) {
		t.Errorf("keys %v\nwant %v", keys, healthyKeys)
	}
	if s.EnvoyPid != strconv.Itoa(starts[0].Pid) || s.EnvoyRestartCount != "0" || s.EnvoyState != api.Live ||
		s.ManagementServerConnectionStatus != api.Connected || s.EnvoyReadinessState != api.Initialized ||
		s.InitialConfigUpdateStatus != api.UpdateSuccessful || !regexp.MustCompile(`^\d+s$`).MatchString(s.AgentUptime) {
		t.Errorf("healthy status: %+v", s)
	}
}

// TestE2EEnvoyDeath is scenarios 8 and 9: Envoy killed while healthy → restarted, and
// /status shows the new pid, the restart, the exit, and the new Envoy's state within a
// second, although the poll period is 30 s.
func TestE2EEnvoyDeath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	readyFile := filepath.Join(dir, "ready")
	if err := os.WriteFile(readyFile, []byte("LIVE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startAgent(t, agentOpts{waitLive: true, env: []string{"STANDIN_READY_FILE=" + readyFile,
		"HC_POLL_INTERVAL_MS=30000", "APPNET_ENVOY_RESTART_COUNT=2"}})
	s, _, _ := r.status()
	pid, _ := strconv.Atoi(s.EnvoyPid)
	// The replacement comes up INITIALIZING.
	if err := os.WriteFile(readyFile, []byte("INITIALIZING\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s = r.waitStatus("the restart", 5*time.Second, func(s api.Status) bool {
		return s.EnvoyPid != strconv.Itoa(pid) && s.EnvoyState == "INITIALIZING"
	})
	if d := time.Since(killed); d > time.Second {
		t.Errorf("/status caught up %v after the kill", d)
	}
	if s.HealthStatus != api.Unhealthy || s.EnvoyRestartCount != "1" || s.EnvoyExitCode != "137" ||
		!strings.Contains(s.LastExitReason, "signal 9") {
		t.Errorf("after the restart: %+v", s)
	}
}

// TestE2EStatusUnderScrapes is H2: 100 rapid /status calls all answer 200 while scrapes
// run and are rate limited.
func TestE2EStatusUnderScrapes(t *testing.T) {
	t.Parallel()
	prom := filepath.Join(t.TempDir(), "prom.txt")
	if err := os.WriteFile(prom, testenv.PromBody(5000, 0.5), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startAgent(t, agentOpts{env: []string{"STANDIN_PROM_FILE=" + prom}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	scrapes := map[int]int{}
	for i := 0; i < 3; i++ {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				path := "/stats/prometheus"
				if i%2 == 1 {
					path += "?usedonly&filter=metrics_extension"
				}
				res, err := r.client.Get(r.base + path)
				if err != nil {
					continue
				}
				res.Body.Close()
				mu.Lock()
				scrapes[res.StatusCode]++
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	bad := 0
	for i := 0; i < 100; i++ {
		if code, _, _ := r.call("GET", api.PathStatus); code != 200 {
			bad++
		}
	}
	close(stop)
	wg.Wait()
	if bad > 0 {
		t.Errorf("%d of 100 /status calls failed during scrapes", bad)
	}
	t.Logf("scrapes meanwhile: %v", scrapes)
	if scrapes[200] == 0 {
		t.Errorf("no scrape succeeded: %v", scrapes)
	}
}

// TestE2EShutdownPhases: during the shutdown drain, /status reports drainPhase.
func TestE2EShutdownPhases(t *testing.T) {
	t.Parallel()
	r := startAgent(t, agentOpts{waitLive: true, env: []string{"STANDIN_DOWNSTREAM_CX=1", "LISTENER_DRAIN_WAIT_TIME_S=5"}})
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	s := r.waitStatus("drainPhase", 3*time.Second, func(s api.Status) bool { return s.DrainPhase != "" })
	if s.DrainPhase != api.DrainPhaseDrain {
		t.Errorf("%+v", s)
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM) // cut the wait short
	if code := r.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestE2EStatusLatency500rps sends /status to the agent binary at 500 requests per second
// for two seconds over loopback keep-alive connections and reports the latency (target:
// all 200, p99 ≤ 2 ms). Only the all-200 part is asserted: latency on a shared
// test machine is reported, not judged.
func TestE2EStatusLatency500rps(t *testing.T) {
	t.Parallel()
	r := startAgent(t, agentOpts{waitLive: true})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	const n = 1000
	lat := make([]time.Duration, 0, n)
	non200 := 0
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < n; i++ {
		<-tick.C
		start := time.Now()
		res, err := client.Get(r.base + api.PathStatus)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(start))
		if res.StatusCode != 200 {
			non200++
		}
	}
	if non200 > 0 {
		t.Errorf("%d of %d answers were not 200", non200, n)
	}
	slices.Sort(lat)
	t.Logf("/status at 500 req/s, %d requests: p50 %v, p99 %v, max %v", n, lat[n/2], lat[n*99/100], lat[n-1])
}

// TestE2EControlPlaneAndListeners is scenario 16 (a LIVE Envoy disconnected from its control
// plane stays HEALTHY within HC_DISCONNECTED_TIMEOUT_S, with a timestamp that goes away on
// reconnection) and the UPDATE_FAILED fix: failed listeners make Envoy UNHEALTHY.
func TestE2EControlPlaneAndListeners(t *testing.T) {
	t.Parallel()
	t.Run("disconnected", func(t *testing.T) {
		t.Parallel()
		r := startAgent(t, agentOpts{env: []string{"STANDIN_CONNECTED_STATE=0:1500ms,1", "HC_POLL_INTERVAL_MS=2000"}})
		s := r.waitStatus("NOT_CONNECTED", 5*time.Second, func(s api.Status) bool {
			return s.EnvoyState == api.Live && s.ManagementServerConnectionStatus == api.NotConnected
		})
		if s.HealthStatus != api.Healthy || s.ManagementServerDisconnectedTimestamp == nil {
			t.Errorf("disconnected: %+v", s)
		}
		_, body, _ := r.status()
		keys := testenv.JSONKeys(t, body)
		if len(keys) != 9 || keys[6] != "managementServerDisconnectedTimestamp" {
			t.Errorf("keys %v", keys)
		}
		s = r.waitStatus("CONNECTED", 6*time.Second, func(s api.Status) bool { return s.ManagementServerConnectionStatus == api.Connected })
		if s.ManagementServerDisconnectedTimestamp != nil || s.HealthStatus != api.Healthy {
			t.Errorf("reconnected: %+v", s)
		}
	})
	t.Run("listener failure", func(t *testing.T) {
		t.Parallel()
		r := startAgent(t, agentOpts{env: []string{"STANDIN_LISTENER_FAILED=1"}})
		s := r.waitStatus("initialConfigUpdateStatus", 5*time.Second, func(s api.Status) bool { return s.InitialConfigUpdateStatus != "" })
		if s.InitialConfigUpdateStatus != api.UpdateFailed || s.HealthStatus != api.Unhealthy || s.EnvoyState != api.Live {
			t.Errorf("%+v", s)
		}
	})
}
