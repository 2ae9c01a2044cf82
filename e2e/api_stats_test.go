package e2e

// End-to-end tests of /stats/prometheus: metrics-extension filtering and the delta timeline. The agent binary is built from the repository
// root and supervises envoy-standin; the tests follow the reference agent's scenarios 8–9 and
// 14–30 as H1–H7 amend them (docs/GLOSSARY.md); see harness_api_test.go.

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestE2EMetricsExtension is scenarios 26 and 27 through the binary.
func TestE2EMetricsExtension(t *testing.T) {
	t.Parallel()
	prom := filepath.Join(t.TempDir(), "prom.txt")
	if err := os.WriteFile(prom, []byte(testenv.ExtensionBody), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startAgent(t, agentOpts{env: []string{"STANDIN_PROM_FILE=" + prom}})
	code, body, hdr := r.call("GET", "/stats/prometheus")
	if code != 200 || body != testenv.ExtensionBody || hdr.Get("Content-Length") != strconv.Itoa(len(testenv.ExtensionBody)) {
		t.Errorf("unfiltered: %d %q %v", code, body, hdr)
	}
	code, body, _ = r.call("GET", "/stats/prometheus?usedonly&filter=metrics_extension")
	if code != 200 || body != testenv.ExtensionFiltered {
		t.Errorf("filtered: %d %q, want %q", code, body, testenv.ExtensionFiltered)
	}
	want := []string{"GET /stats?format=prometheus", "GET /stats?format=prometheus&filter=appmesh&usedonly"}
	var got []string
	for _, c := range r.adminCalls("/stats") {
		if strings.Contains(c, "prometheus") {
			got = append(got, c)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Envoy got %q, want %q", got, want)
	}
	for target, want := range map[string]string{
		"/stats/prometheus?bogus":      "unsupported query parameter: bogus\n",
		"/stats/prometheus?filter=foo": "unsupported query value for parameter filter: foo, usage: /stats/prometheus?filter=metrics_extension\n",
		"/stats/prometheus?delta":      "when delta is enabled, both usedonly and filter query parameters are required\n",
	} {
		if code, body, _ := r.call("GET", target); code != 400 || body != want {
			t.Errorf("%s: %d %q", target, code, body)
		}
	}
}

// waitSlow is waitFor polling every 150 ms, within /stats/prometheus's 10/s budget.
func waitSlow(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

var counterLine = regexp.MustCompile(`(?m)^C (-?\d+)$`)

// TestE2EDeltaTimeline is scenarios 28 and 29 with a 1 s snapshot period linked into the
// test build: live values before the first snapshot, then the first snapshot's cumulative
// values, then differences; across an Envoy restart the delta never goes negative.
func TestE2EDeltaTimeline(t *testing.T) {
	t.Parallel()
	prom := filepath.Join(t.TempDir(), "prom.txt")
	body := "# TYPE envoy_appmesh_C counter\nenvoy_appmesh_C {{scrape*5+100}}\n# TYPE envoy_appmesh_G gauge\nenvoy_appmesh_G {{scrape}}\n"
	if err := os.WriteFile(prom, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startAgent(t, agentOpts{env: []string{"STANDIN_PROM_FILE=" + prom, "ENABLE_STATS_SNAPSHOT=true", "APPNET_ENVOY_RESTART_COUNT=1"}})
	const q = "/stats/prometheus?usedonly&filter=metrics_extension&delta"
	delta := func() (string, int) {
		code, body, hdr := r.call("GET", q)
		m := counterLine.FindStringSubmatch(body)
		if code != 200 || m == nil {
			t.Fatalf("delta: %d %q", code, body)
		}
		n, _ := strconv.Atoi(m[1])
		return hdr.Get("X-Appnet-Stats-Source"), n
	}
	if src, n := delta(); src != "live" || n < 105 {
		t.Errorf("before the first snapshot: %s %d", src, n)
	}
	// The first snapshot: cumulative values, the same on every read.
	var first int
	waitSlow(t, 5*time.Second, "the first snapshot", func() bool { src, n := delta(); first = n; return src == "delta" })
	if first < 105 || (first-100)%5 != 0 {
		t.Errorf("first delta %d, want a cumulative value", first)
	}
	// Then the change between two snapshots: 5 (one scrape by the snapshotter).
	waitSlow(t, 5*time.Second, "the second snapshot", func() bool { _, n := delta(); return n == 5 })
	_, b1, _ := r.call("GET", q)
	_, b2, _ := r.call("GET", q)
	if b1 != b2 && !strings.Contains(b2, "\nC 5\n") {
		t.Errorf("repeated reads differ: %q %q", b1, b2)
	}
	if !regexp.MustCompile(`(?m)^G [1-9]\d*$`).MatchString(b2) {
		t.Errorf("gauge is not the latest raw value: %q", b2)
	}
	// Envoy restarts: its counter starts again from 105.
	s, _, _ := r.status()
	pid, _ := strconv.Atoi(s.EnvoyPid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	r.waitStatus("the restart", 5*time.Second, func(s api.Status) bool { return s.EnvoyPid != strconv.Itoa(pid) && s.EnvoyState == api.Live })
	var seen []int
	sawReset := false
	waitSlow(t, 8*time.Second, "deltas after the restart", func() bool {
		_, n := delta()
		if len(seen) == 0 || seen[len(seen)-1] != n {
			seen = append(seen, n)
		}
		if n > 5 {
			sawReset = true
		}
		return sawReset && n == 5
	})
	for _, n := range seen {
		if n < 0 || (n != 5 && (n < 105 || n > 150)) {
			t.Errorf("deltas after the restart %v: %d is neither the old/steady delta nor the new Envoy's cumulative value", seen, n)
		}
	}
	t.Logf("deltas after the restart: %v", seen)
}
