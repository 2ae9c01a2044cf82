package logging

import (
	"bytes"
	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestReferenceLineFormat(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, "info")
	log.Debug("hidden")
	log.Warn("Envoy exited", "code", 3)
	want := regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[warning\] \[AppNet Agent\] Envoy exited code=3\n$`)
	if !want.Match(b.Bytes()) {
		t.Fatalf("line %q", b.String())
	}
}

func TestLevels(t *testing.T) {
	for in, want := range map[string]string{"warning": "WARN", "critical": "ERROR", "trace": "TRACE", "off": "ERROR", "": "INFO"} {
		if got := Level(in).String(); !bytes.EqualFold([]byte(got), []byte(want)) {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
}

func TestMultiLineMessagesArePrefixedPerLine(t *testing.T) {
	var b bytes.Buffer
	New(&b, "info").Error("bootstrap invalid:\na: bad\nb: worse")
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %q", b.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "][error] [AppNet Agent] ") {
			t.Errorf("line without prefix: %q", l)
		}
	}
}

func TestTimestampsAreUTC(t *testing.T) {
	t.Setenv("TZ", "America/New_York")
	var b bytes.Buffer
	New(&b, "info").Info("x")
	now := time.Now().UTC().Format("2006-01-02 15")
	if !strings.Contains(b.String(), "["+now) {
		t.Fatalf("line %q is not in UTC (%s)", b.String(), now)
	}
}
